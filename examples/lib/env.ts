import { existsSync, readFileSync } from "node:fs";
import path from "node:path";

/** Where Parley runs and the two secrets a host back end shares with it. */
export interface ParleyConnection {
  /** Parley's origin, e.g. `http://localhost:4000`. */
  url: string;
  /** `PARLEY_API_KEY`: the host back end's server-to-server key (acts as admin). */
  apiKey: string;
  /** `PARLEY_JWT_SECRET`: the HS256 secret the host signs its users' tokens with. */
  jwtSecret: string;
}

/**
 * Reads `PARLEY_URL` (default `http://localhost:4000`), `PARLEY_API_KEY` and
 * `PARLEY_JWT_SECRET` from the environment. When the secrets are not set and
 * a Parley started with `npm start` left its generated dev secrets in
 * `./data/dev-secrets.json` (of the directory `npm` was run from, or
 * `PARLEY_DATA_DIR`), those are used, so the examples run against a dev
 * server without any setup.
 */
export function parleyFromEnv(env: NodeJS.ProcessEnv = process.env): ParleyConnection {
  const url = (env.PARLEY_URL ?? "http://localhost:4000").replace(/\/+$/, "");
  let apiKey = env.PARLEY_API_KEY;
  let jwtSecret = env.PARLEY_JWT_SECRET;
  if (!apiKey || !jwtSecret) {
    const dataDir = env.PARLEY_DATA_DIR ?? path.join(env.INIT_CWD ?? process.cwd(), "data");
    const file = path.join(dataDir, "dev-secrets.json");
    if (existsSync(file)) {
      const dev = JSON.parse(readFileSync(file, "utf8")) as { apiKey?: string; jwtSecret?: string };
      apiKey ||= dev.apiKey;
      jwtSecret ||= dev.jwtSecret;
    }
  }
  if (!apiKey || !jwtSecret) {
    throw new Error(
      "Set PARLEY_API_KEY and PARLEY_JWT_SECRET (npm start prints both in dev mode), or run from the directory holding data/dev-secrets.json",
    );
  }
  return { url, apiKey, jwtSecret };
}

/** A whole number from the environment, or `fallback`. */
export function portFromEnv(name: string, fallback: number, env: NodeJS.ProcessEnv = process.env): number {
  const raw = env[name];
  if (raw === undefined || raw === "") return fallback;
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`${name} must be a port number`);
  return port;
}
