import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { loadConfig } from "../src/config/config.js";

const secrets = { PARLEY_JWT_SECRET: "s".repeat(32), PARLEY_API_KEY: "k".repeat(32) };
const dir = () => mkdtempSync(path.join(tmpdir(), "parley-config-"));

describe("configuration", () => {
  it("has the documented defaults", () => {
    const cwd = dir();
    const config = loadConfig({ env: secrets, cwd });
    expect(config).toMatchObject({
      port: 4000,
      databaseUrl: `sqlite:${path.join(cwd, "data", "parley.db")}`,
      redisUrl: undefined,
      jwtIssuers: [],
      corsOrigins: [],
      trustProxy: false,
      webhookRetryMs: 1000,
      guests: false,
      guestTtl: 86400,
      userGroups: false,
      maxMessageLength: 5000,
      rateMessages: { perSecond: 10, burst: 20 },
      uploadsDir: path.join(cwd, "data", "uploads"),
      uploadMaxBytes: 10485760,
      uploadTypes: ["image/*", "application/pdf", "text/plain", "audio/*", "video/*"],
      dev: false,
    });
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.uploadTypes)).toBe(true);
  });

  it("reads parley.config.json and lets the environment win", () => {
    const cwd = dir();
    writeFileSync(path.join(cwd, "parley.config.json"), JSON.stringify({ port: 5000, maxMessageLength: 100, guests: true }));
    const config = loadConfig({ env: { ...secrets, PARLEY_PORT: "6000" }, cwd });
    expect(config).toMatchObject({ port: 6000, maxMessageLength: 100, guests: true });
  });

  it("fails with one line naming the key", () => {
    const cwd = dir();
    const cases: Array<[Record<string, string>, RegExp]> = [
      [{ PARLEY_PORT: "eighty" }, /^PARLEY_PORT: /],
      [{ PARLEY_PORT: "70000" }, /^PARLEY_PORT: /],
      [{ PARLEY_DATABASE_URL: "mysql://x" }, /^PARLEY_DATABASE_URL: must start with/],
      [{ PARLEY_JWT_ISSUERS: "[{" }, /^PARLEY_JWT_ISSUERS: /],
      [{ PARLEY_JWT_ISSUERS: '[{"iss":"a"}]' }, /^PARLEY_JWT_ISSUERS: each issuer needs exactly one of secret or jwksUrl/],
      [{ PARLEY_RATE_MESSAGES: "fast" }, /^PARLEY_RATE_MESSAGES: must look like/],
      [{ PARLEY_GUESTS: "maybe" }, /^PARLEY_GUESTS: must be "on" or "off"/],
      [{ PARLEY_REDIS_URL: "redis://127.0.0.1:6379" }, /^PARLEY_DATABASE_URL: multi-node mode .* needs PostgreSQL/],
    ];
    for (const [env, message] of cases) {
      expect(() => loadConfig({ env: { ...secrets, ...env }, cwd })).toThrow(message);
    }
    expect(() => loadConfig({ env: {}, cwd })).toThrow(/^PARLEY_JWT_SECRET: required/);
    writeFileSync(path.join(cwd, "parley.config.json"), JSON.stringify({ prot: 1 }));
    expect(() => loadConfig({ env: secrets, cwd })).toThrow(/^parley.config.json: unknown key "prot"/);
  });

  it("parses issuers, rates and lists", () => {
    const config = loadConfig({
      env: {
        ...secrets,
        PARLEY_JWT_ISSUERS: JSON.stringify([{ iss: "user-backend", secret: "x".repeat(20), prefix: "user:" }]),
        PARLEY_RATE_MESSAGES: "5/s,8",
        PARLEY_CORS_ORIGINS: "https://a.example, https://b.example",
      },
      cwd: dir(),
    });
    expect(config.jwtIssuers).toEqual([{ iss: "user-backend", secret: "x".repeat(20), prefix: "user:" }]);
    expect(config.rateMessages).toEqual({ perSecond: 5, burst: 8 });
    expect(config.corsOrigins).toEqual(["https://a.example", "https://b.example"]);
  });

  it("generates dev secrets once and keeps them in the data directory", () => {
    const cwd = dir();
    const first = loadConfig({ env: { PARLEY_DEV: "on" }, cwd });
    const second = loadConfig({ env: { PARLEY_DEV: "on" }, cwd });
    expect(first.jwtSecret.length).toBeGreaterThanOrEqual(32);
    expect(second.jwtSecret).toBe(first.jwtSecret);
    expect(second.apiKey).toBe(first.apiKey);
    expect(first.corsOrigins).toEqual(["*"]);
    const saved = JSON.parse(readFileSync(path.join(cwd, "data", "dev-secrets.json"), "utf8")) as Record<string, string>;
    expect(saved.apiKey).toBe(first.apiKey);
  });
});
