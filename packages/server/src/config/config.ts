import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { z } from "zod";
import { ConfigError } from "./config-error.js";
import { loadDevSecrets } from "./dev-secrets.js";

/** A trusted host back end whose tokens Parley accepts. */
export interface TrustedIssuer {
  /** The token's `iss` claim this entry matches. */
  readonly iss: string;
  /** HS256 secret shared with that back end (this or `jwksUrl`). */
  readonly secret?: string;
  /** JWKS document of that back end (this or `secret`). */
  readonly jwksUrl?: string;
  /** Prepended to `sub` to form the Parley user id, e.g. `"user:"`. @default "" */
  readonly prefix: string;
}

/** A send rate: `perSecond` sustained, `burst` at once. */
export interface Rate {
  readonly perSecond: number;
  readonly burst: number;
}

/** Parley's validated, frozen configuration. */
export interface Config {
  /** HTTP + WebSocket port. @default 4000 */
  readonly port: number;
  /** Interface to listen on. @default "0.0.0.0" */
  readonly host: string;
  /** `sqlite:<path>` or `postgres://…`. @default "sqlite:./data/parley.db" */
  readonly databaseUrl: string;
  /** Set ⇒ multi-node mode. @default undefined */
  readonly redisUrl: string | undefined;
  /** Prefix of every Redis key and channel, so several deployments can share one Redis. @default "parley:" */
  readonly redisPrefix: string;
  /** HS256 secret shared with the host back end; signs Parley's own tokens. */
  readonly jwtSecret: string;
  /** Trusted issuers beyond Parley itself. @default [] */
  readonly jwtIssuers: readonly TrustedIssuer[];
  /** Server-to-server key for the host back end (acts as admin). */
  readonly apiKey: string;
  /** Allowed origins; `["*"]` allows any. @default dev: ["*"], else [] */
  readonly corsOrigins: readonly string[];
  /** Trust `X-Forwarded-For`. @default false */
  readonly trustProxy: boolean;
  /** Webhook target. @default undefined */
  readonly webhookUrl: string | undefined;
  /** Webhook HMAC secret. @default undefined */
  readonly webhookSecret: string | undefined;
  /** First webhook retry delay in ms. @default 1000 */
  readonly webhookRetryMs: number;
  /** Allow `POST /v1/guests`. @default false */
  readonly guests: boolean;
  /** Guest token lifetime in seconds. @default 86400 */
  readonly guestTtl: number;
  /** Let users create `group` conversations. @default false */
  readonly userGroups: boolean;
  /** Longest message text in Unicode code points. @default 5000 */
  readonly maxMessageLength: number;
  /** Per-user message rate. @default { perSecond: 10, burst: 20 } */
  readonly rateMessages: Rate;
  /** Attachment storage directory. @default "./data/uploads" */
  readonly uploadsDir: string;
  /** Largest accepted upload in bytes. @default 10485760 */
  readonly uploadMaxBytes: number;
  /** MIME allowlist. @default ["image/*","application/pdf","text/plain","audio/*","video/*"] */
  readonly uploadTypes: readonly string[];
  /** Public base URL (e.g. `https://chat.example.com`) prefixed to attachment URLs; relative when unset. @default undefined */
  readonly publicUrl: string | undefined;
  /** Dev mode: generated secrets, permissive CORS, tokens without `exp`. @default false */
  readonly dev: boolean;
  /** Where dev secrets and the default database live. @default "./data" */
  readonly dataDir: string;
}

const KEYS = {
  port: "PARLEY_PORT",
  host: "PARLEY_HOST",
  databaseUrl: "PARLEY_DATABASE_URL",
  redisUrl: "PARLEY_REDIS_URL",
  redisPrefix: "PARLEY_REDIS_PREFIX",
  jwtSecret: "PARLEY_JWT_SECRET",
  jwtIssuers: "PARLEY_JWT_ISSUERS",
  apiKey: "PARLEY_API_KEY",
  corsOrigins: "PARLEY_CORS_ORIGINS",
  trustProxy: "PARLEY_TRUST_PROXY",
  webhookUrl: "PARLEY_WEBHOOK_URL",
  webhookSecret: "PARLEY_WEBHOOK_SECRET",
  webhookRetryMs: "PARLEY_WEBHOOK_RETRY_MS",
  guests: "PARLEY_GUESTS",
  guestTtl: "PARLEY_GUEST_TTL",
  userGroups: "PARLEY_USER_GROUPS",
  maxMessageLength: "PARLEY_MAX_MESSAGE_LENGTH",
  rateMessages: "PARLEY_RATE_MESSAGES",
  uploadsDir: "PARLEY_UPLOADS_DIR",
  uploadMaxBytes: "PARLEY_UPLOAD_MAX_BYTES",
  uploadTypes: "PARLEY_UPLOAD_TYPES",
  publicUrl: "PARLEY_PUBLIC_URL",
  dev: "PARLEY_DEV",
  dataDir: "PARLEY_DATA_DIR",
} as const satisfies Record<keyof Config, string>;

type RawKey = keyof typeof KEYS;
type Raw = Partial<Record<RawKey, unknown>>;

const flag = z.preprocess((v) => {
  if (typeof v === "boolean") return v;
  if (typeof v !== "string") return v;
  const s = v.trim().toLowerCase();
  if (["on", "true", "1", "yes"].includes(s)) return true;
  if (["off", "false", "0", "no", ""].includes(s)) return false;
  return v;
}, z.boolean({ message: 'must be "on" or "off"' }));

const int = (min: number, max: number) =>
  z.preprocess(
    (v) => (typeof v === "string" && v.trim() !== "" ? Number(v) : v),
    z.number({ message: "must be a number" }).int(`must be a whole number`).min(min).max(max),
  );

const list = z.preprocess(
  (v) =>
    typeof v === "string"
      ? v
          .split(",")
          .map((s) => s.trim())
          .filter(Boolean)
      : v,
  z.array(z.string()),
);

const issuerSchema = z
  .strictObject({
    iss: z.string().min(1),
    secret: z.string().min(1).optional(),
    jwksUrl: z.url().optional(),
    prefix: z.string().default(""),
  })
  .refine((i) => Boolean(i.secret) !== Boolean(i.jwksUrl), "each issuer needs exactly one of secret or jwksUrl");

const issuers = z.preprocess((v) => {
  if (typeof v !== "string") return v;
  try {
    return JSON.parse(v) as unknown;
  } catch {
    return "not JSON";
  }
}, z.array(issuerSchema, { message: "must be a JSON list of issuers" }));

const rate = z.preprocess(
  (v) => {
    if (typeof v !== "string") return v;
    const m = /^\s*(\d+(?:\.\d+)?)\s*\/\s*s\s*(?:,\s*(\d+))?\s*$/.exec(v);
    if (!m) return v;
    const perSecond = Number(m[1]);
    return { perSecond, burst: m[2] ? Number(m[2]) : Math.max(1, Math.ceil(perSecond)) };
  },
  z.object(
    { perSecond: z.number().positive(), burst: z.number().int().positive() },
    { message: 'must look like "10/s,20" (rate per second, burst)' },
  ),
);

const url = (what: string) => z.string().refine((s) => URL.canParse(s), `must be a ${what} URL`);

const fields = {
  port: int(0, 65535).default(4000),
  host: z.string().min(1).default("0.0.0.0"),
  databaseUrl: z
    .string()
    .refine(
      (s) => s.startsWith("sqlite:") || s.startsWith("postgres://") || s.startsWith("postgresql://"),
      'must start with "sqlite:" or "postgres://"',
    )
    .optional(),
  redisUrl: url("redis://").optional(),
  redisPrefix: z.string().min(1).max(100).default("parley:"),
  jwtSecret: z.string().min(16, "must be at least 16 characters").optional(),
  jwtIssuers: issuers.default([]),
  apiKey: z.string().min(16, "must be at least 16 characters").optional(),
  corsOrigins: list.optional(),
  trustProxy: flag.default(false),
  webhookUrl: url("http(s)://").optional(),
  webhookSecret: z.string().min(1).optional(),
  webhookRetryMs: int(1, 3_600_000).default(1000),
  guests: flag.default(false),
  guestTtl: int(60, 365 * 86400).default(86400),
  userGroups: flag.default(false),
  maxMessageLength: int(1, 100_000).default(5000),
  rateMessages: rate.default({ perSecond: 10, burst: 20 }),
  uploadsDir: z.string().min(1).optional(),
  uploadMaxBytes: int(1, 1024 * 1024 * 1024).default(10 * 1024 * 1024),
  uploadTypes: list.default(["image/*", "application/pdf", "text/plain", "audio/*", "video/*"]),
  publicUrl: url("http(s)://")
    .transform((s) => s.replace(/\/+$/, ""))
    .optional(),
  dev: flag.default(false),
  dataDir: z.string().min(1).default("./data"),
} satisfies Record<RawKey, z.ZodType>;

export interface LoadConfigOptions {
  /** Environment to read `PARLEY_*` from. @default process.env */
  env?: Record<string, string | undefined>;
  /** Directory that relative paths and `parley.config.json` are resolved against. @default process.cwd() */
  cwd?: string;
  /** Values that win over the file and the environment (camelCase keys). */
  overrides?: Raw;
}

function readConfigFile(cwd: string): Raw {
  const file = path.join(cwd, "parley.config.json");
  if (!existsSync(file)) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, "utf8"));
  } catch (err) {
    throw new ConfigError(`parley.config.json: not valid JSON (${(err as Error).message})`);
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw new ConfigError("parley.config.json: must hold a JSON object");
  }
  const raw: Raw = {};
  for (const [key, value] of Object.entries(parsed)) {
    if (!Object.hasOwn(KEYS, key)) throw new ConfigError(`parley.config.json: unknown key "${key}"`);
    raw[key as RawKey] = value;
  }
  return raw;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === "object" && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

/**
 * Reads `PARLEY_*` variables (and `parley.config.json`, which they override),
 * validates every key once and returns a frozen {@link Config}. Throws a
 * {@link ConfigError} whose one-line message names the offending key.
 */
export function loadConfig(options: LoadConfigOptions = {}): Config {
  const env = options.env ?? process.env;
  const cwd = options.cwd ?? process.cwd();
  const raw: Raw = { ...readConfigFile(cwd) };
  for (const [key, name] of Object.entries(KEYS) as Array<[RawKey, string]>) {
    const value = env[name];
    if (value !== undefined && value !== "") raw[key] = value;
  }
  Object.assign(raw, options.overrides ?? {});

  const parsed: Record<string, unknown> = {};
  for (const key of Object.keys(fields) as RawKey[]) {
    const result = fields[key].safeParse(raw[key]);
    if (!result.success) {
      const issue = result.error.issues[0];
      const where = issue && issue.path.length > 0 ? ` (at ${issue.path.join(".")})` : "";
      throw new ConfigError(`${KEYS[key]}: ${issue?.message ?? "invalid"}${where}`);
    }
    parsed[key] = result.data;
  }
  const p = parsed as {
    [K in RawKey]: K extends "databaseUrl" | "redisUrl" | "jwtSecret" | "apiKey" | "corsOrigins" | "uploadsDir" | "publicUrl"
      ? Config[K] | undefined
      : Config[K];
  };

  const dataDir = path.resolve(cwd, p.dataDir);
  const databaseUrl = p.databaseUrl ?? `sqlite:${path.join(dataDir, "parley.db")}`;
  if (p.redisUrl && databaseUrl.startsWith("sqlite:")) {
    throw new ConfigError("PARLEY_DATABASE_URL: multi-node mode (PARLEY_REDIS_URL) needs PostgreSQL, not SQLite");
  }

  let jwtSecret = p.jwtSecret;
  let apiKey = p.apiKey;
  if ((!jwtSecret || !apiKey) && p.dev) {
    const secrets = loadDevSecrets(dataDir);
    jwtSecret ??= secrets.jwtSecret;
    apiKey ??= secrets.apiKey;
  }
  if (p.webhookUrl && !p.webhookSecret) {
    throw new ConfigError("PARLEY_WEBHOOK_SECRET: required when PARLEY_WEBHOOK_URL is set (webhooks are signed with it)");
  }
  if (!jwtSecret) throw new ConfigError("PARLEY_JWT_SECRET: required (or run in dev mode with PARLEY_DEV=on)");
  if (!apiKey) throw new ConfigError("PARLEY_API_KEY: required (or run in dev mode with PARLEY_DEV=on)");

  const config: Config = {
    ...p,
    databaseUrl,
    jwtSecret,
    apiKey,
    dataDir,
    corsOrigins: p.corsOrigins ?? (p.dev ? ["*"] : []),
    uploadsDir: path.resolve(cwd, p.uploadsDir ?? path.join(dataDir, "uploads")),
  };
  return deepFreeze(config);
}
