import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { jwtVerify } from "jose";
import { io as connectSocket } from "socket.io-client";
import { afterAll, describe, expect, it } from "vitest";
import { openStorage } from "../src/storage/database.js";
import { backends } from "./support/backends.js";
import { startNodeProcess } from "./support/node-process.js";
import { JWT_SECRET, signToken } from "./support/test-server.js";

const run = promisify(execFile);
const bin = path.resolve(import.meta.dirname, "../dist/cli/main.js");
const secret = "cli-test-secret-0123456789abcdef";

async function parley(args: string[], env: Record<string, string> = {}, cwd = mkdtempSync(path.join(tmpdir(), "parley-cli-"))) {
  try {
    const { stdout, stderr } = await run(process.execPath, [bin, ...args], { cwd, env: { PATH: process.env.PATH ?? "", ...env } });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe("parley CLI", () => {
  it("prints a token that carries sub, name and roles", async () => {
    const { code, stdout } = await parley(["token", "--sub", "alice", "--name", "Alice", "--role", "operator"], {
      PARLEY_JWT_SECRET: secret,
      PARLEY_API_KEY: "k".repeat(32),
    });
    expect(code).toBe(0);
    const { payload } = await jwtVerify(stdout.trim(), new TextEncoder().encode(secret));
    expect(payload).toMatchObject({ sub: "alice", name: "Alice", roles: ["operator"], iss: "parley" });
    expect(typeof payload.exp).toBe("number");
  });

  it("migrates a database and reports when it is up to date", async () => {
    const cwd = mkdtempSync(path.join(tmpdir(), "parley-cli-"));
    const env = { PARLEY_JWT_SECRET: secret, PARLEY_API_KEY: "k".repeat(32), PARLEY_DATABASE_URL: `sqlite:${path.join(cwd, "p.db")}` };
    expect((await parley(["migrate"], env, cwd)).stdout).toBe("applied: 0001-initial, 0002-conversation-life, 0003-send-path, 0004-text-index-after-commit, 0005-text-index-pending-list, 0006-support-visitor, 0007-changed-messages-index, 0008-listed-at\n");
    expect((await parley(["migrate"], env, cwd)).stdout).toBe("schema is up to date\n");
  });

  it("answers --help on any command with its usage, and an unknown option with what was wrong and the usage, never a stack trace", async () => {
    for (const args of [["token", "--help"], ["serve", "-h"], ["--help"]]) {
      const { code, stdout } = await parley(args);
      expect(code, args.join(" ")).toBe(0);
      expect(stdout, args.join(" ")).toMatch(/^parley \S+\n\nUsage:\n/);
    }
    const { code, stdout, stderr } = await parley(["token", "--sub", "alice", "--colour", "blue"]);
    expect(code).toBe(1);
    expect(stdout).toBe("");
    expect(stderr).toMatch(/^parley: Unknown option '--colour'/);
    expect(stderr).toContain("Usage:");
    expect(stderr).not.toMatch(/\n\s+at /);
  });

  it("refuses bad config with one line naming the key", async () => {
    const { code, stderr } = await parley(["serve"], { PARLEY_PORT: "eighty", PARLEY_JWT_SECRET: secret, PARLEY_API_KEY: "k".repeat(32) });
    expect(code).toBe(1);
    expect(stderr.trim().split("\n")).toHaveLength(1);
    expect(stderr).toMatch(/^parley: PARLEY_PORT: /);
  });
});

describe.each(backends())("parley serve on $name", (backend) => {
  afterAll(() => backend.cleanup());

  it("stops on SIGTERM with users connected: records when each was last seen, logs no error and exits 0", async () => {
    const url = await backend.create();
    const node = await startNodeProcess({ PARLEY_JWT_SECRET: JWT_SECRET, PARLEY_API_KEY: "k".repeat(32), PARLEY_DATABASE_URL: url });
    const users = ["ana", "ben", "cy"];
    const sockets = await Promise.all(
      users.map(async (sub) => {
        const socket = connectSocket(node.url, { auth: { token: await signToken(sub) }, transports: ["websocket"], reconnection: false });
        await new Promise((resolve) => socket.once("session", resolve));
        return socket;
      }),
    );
    // Connecting recorded each user as seen then; stopping must record them as seen later.
    await new Promise((resolve) => setTimeout(resolve, 50));
    const stoppedAt = Date.now();
    const exited = new Promise<number | null>((resolve) => node.child.once("exit", (code) => resolve(code)));
    node.child.kill("SIGTERM");
    expect(await exited).toBe(0);
    for (const socket of sockets) socket.close();

    // pino writes errors at level 50 and above.
    expect(node.output()).not.toMatch(/"level":(50|60)/);
    const storage = openStorage(url);
    try {
      const seen = await storage.db.selectFrom("users").select(["id", "last_seen_at"]).orderBy("id").execute();
      expect(seen.map((u) => u.id)).toEqual(users);
      for (const user of seen) {
        expect(Date.parse(user.last_seen_at ?? ""), `${user.id} was last seen when the server stopped`).toBeGreaterThanOrEqual(stoppedAt);
      }
    } finally {
      await storage.destroy();
    }
  });

  it("lets a script that embeds the server run on after `await server.close()` (SQLite), however little else is left running", async () => {
    // An app's own script or test: start, stop, then carry on. Run a few
    // times, as what kept the process alive used to be a matter of timing.
    const cwd = mkdtempSync(path.join(tmpdir(), "parley-embed-"));
    const index = pathToFileURL(path.resolve(import.meta.dirname, "../dist/index.js")).href;
    const script = `
      import { createParleyServer, loadConfig } from ${JSON.stringify(index)};
      const config = loadConfig({ env: { PARLEY_DATABASE_URL: "sqlite:" + process.argv[2], PARLEY_JWT_SECRET: ${JSON.stringify(secret)}, PARLEY_API_KEY: "${"k".repeat(32)}", PARLEY_PORT: "0" } });
      const server = await createParleyServer(config, { logger: { level: "warn" } });
      await server.listen();
      await server.close();
      console.log("after close");`;
    const scriptFile = path.join(cwd, "embed.mjs");
    writeFileSync(scriptFile, script);
    for (let i = 0; i < 3; i++) {
      const file = path.join(cwd, `embedded-${i}.db`);
      const { stdout, stderr } = await run(process.execPath, [scriptFile, file], { cwd, env: { PATH: process.env.PATH ?? "" } }).catch(
        (err: { code: number; stdout: string; stderr: string }) => ({ stdout: `exit ${err.code} ${err.stdout}`, stderr: err.stderr }),
      );
      expect({ stdout, stderr }).toEqual({ stdout: "after close\n", stderr: "" });
      expect(existsSync(`${file}-wal`), "the database was closed cleanly").toBe(false);
    }
  });
});
