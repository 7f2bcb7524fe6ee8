import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";

/** Secrets generated once for dev mode and kept in the data directory. */
export interface DevSecrets {
  jwtSecret: string;
  apiKey: string;
}

/** Reads `dev-secrets.json` from `dataDir`, creating it on first use. */
export function loadDevSecrets(dataDir: string): DevSecrets {
  const file = path.join(dataDir, "dev-secrets.json");
  if (existsSync(file)) {
    const saved = JSON.parse(readFileSync(file, "utf8")) as Partial<DevSecrets>;
    if (typeof saved.jwtSecret === "string" && typeof saved.apiKey === "string") {
      return { jwtSecret: saved.jwtSecret, apiKey: saved.apiKey };
    }
  }
  const secrets: DevSecrets = {
    jwtSecret: randomBytes(32).toString("base64url"),
    apiKey: `pk_dev_${randomBytes(24).toString("base64url")}`,
  };
  mkdirSync(dataDir, { recursive: true });
  writeFileSync(file, JSON.stringify(secrets, null, 2) + "\n", { mode: 0o600 });
  return secrets;
}
