#!/usr/bin/env node
import { parseArgs } from "node:util";
import { TokenSigner } from "../auth/token-signer.js";
import { loadConfig, type Config } from "../config/config.js";
import { ConfigError } from "../config/config-error.js";
import { seedDemoData } from "../dev/demo-data.js";
import { createParleyServer, VERSION } from "../parley-server.js";
import { applyServingV8Flags } from "../runtime/v8-flags.js";
import { openStorage } from "../storage/database.js";
import { migrateToLatest } from "../storage/migrate.js";

const USAGE = `parley ${VERSION}

Usage:
  parley serve [--dev]                 start a node (PARLEY_* variables configure it)
  parley migrate                       bring the database schema up to date
  parley token --sub <id> [--name <name>] [--role <role>]... [--ttl <seconds>]
                                       print a Parley-signed user token

Roles: operator, moderator, admin, guest. See README.md for every PARLEY_* variable.`;

function fail(message: string): never {
  process.stderr.write(`parley: ${message}\n`);
  process.exit(1);
}

function configFor(dev: boolean): Config {
  try {
    // Dev mode lets visitors open support chats (the web app's /support page) unless PARLEY_GUESTS says otherwise.
    const guests = process.env.PARLEY_GUESTS === undefined ? { guests: true } : {};
    return loadConfig(dev ? { overrides: { dev: true, ...guests } } : {});
  } catch (err) {
    if (err instanceof ConfigError) fail(err.message);
    throw err;
  }
}

async function serve(args: string[]): Promise<void> {
  const { values } = argsOf(() => parseArgs({ args, options: { dev: { type: "boolean", default: false } } }));
  const config = configFor(values.dev || process.env.PARLEY_DEV === "on");
  applyServingV8Flags();
  const server = await createParleyServer(config, { logger: { level: process.env.PARLEY_LOG_LEVEL ?? "info" } }).catch(
    (err: unknown) => fail(`could not start: ${(err as Error).message}`),
  );
  if (config.dev) {
    await seedDemoData(server.domain, {
      info: (message) => server.http.log.info(message),
      warn: (message) => server.http.log.warn(message),
    });
  }
  let url: string;
  try {
    url = await server.listen();
  } catch (err) {
    await server.close();
    fail(`could not listen on port ${config.port}: ${(err as Error).message}`);
  }
  const lines = [`Parley ${VERSION} is running at ${url}`, `  database: ${config.databaseUrl}`, `  API docs: ${url}/docs`];
  if (config.dev) {
    lines.push(
      `  sign in as a demo user: ${url}/dev/login`,
      "  dev mode: on (never use in production)",
      `  JWT secret (PARLEY_JWT_SECRET): ${config.jwtSecret}`,
      `  API key (PARLEY_API_KEY):       ${config.apiKey}`,
      "  mint a token: npm run parley -- token --sub alice --name Alice",
    );
  }
  process.stdout.write(lines.join("\n") + "\n");

  const stop = () => {
    server.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
}

async function migrate(): Promise<void> {
  const config = configFor(process.env.PARLEY_DEV === "on" || !process.env.PARLEY_JWT_SECRET);
  const storage = openStorage(config.databaseUrl);
  try {
    const applied = await migrateToLatest(storage);
    process.stdout.write(applied.length ? `applied: ${applied.join(", ")}\n` : "schema is up to date\n");
  } finally {
    await storage.destroy();
  }
}

async function token(args: string[]): Promise<void> {
  const { values } = argsOf(() =>
    parseArgs({
      args,
      options: {
        sub: { type: "string" },
        name: { type: "string" },
        avatar: { type: "string" },
        role: { type: "string", multiple: true },
        ttl: { type: "string" },
      },
    }),
  );
  if (!values.sub) fail("token needs --sub <id>");
  if (values.sub.includes(":")) fail('--sub may not contain ":" (reserved for issuer prefixes)');
  const ttl = values.ttl === undefined ? 86400 : Number(values.ttl);
  if (!Number.isInteger(ttl) || ttl < 0) fail("--ttl must be a whole number of seconds");
  const config = configFor(!process.env.PARLEY_JWT_SECRET);
  const minted = await new TokenSigner(config.jwtSecret).sign({
    sub: values.sub,
    ...(values.name ? { name: values.name } : {}),
    ...(values.avatar ? { avatar: values.avatar } : {}),
    roles: values.role ?? [],
    ttl,
  });
  process.stdout.write(minted.token + "\n");
}

/** A command's arguments, or its usage and a clean exit: `--help` anywhere, or a word it does not know. */
function argsOf<T>(read: () => T): T {
  try {
    return read();
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    if (typeof code === "string" && code.startsWith("ERR_PARSE_ARGS_")) fail(`${(err as Error).message}\n\n${USAGE}`);
    throw err;
  }
}

async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  if (command !== undefined && (rest.includes("--help") || rest.includes("-h"))) {
    process.stdout.write(USAGE + "\n");
    return;
  }
  switch (command) {
    case "serve":
      return serve(rest);
    case "migrate":
      return migrate();
    case "token":
      return token(rest);
    case undefined:
    case "help":
    case "--help":
    case "-h":
      process.stdout.write(USAGE + "\n");
      return;
    default:
      fail(`unknown command "${command}"\n\n${USAGE}`);
  }
}

main(process.argv.slice(2)).catch((err: unknown) => fail((err as Error).stack ?? String(err)));
