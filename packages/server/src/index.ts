export { loadConfig, type Config, type LoadConfigOptions, type TrustedIssuer } from "./config/config.js";
export { ConfigError } from "./config/config-error.js";
export { createParleyServer, VERSION, type CreateServerOptions, type ParleyServer } from "./parley-server.js";
export { TokenSigner, type TokenClaims } from "./auth/token-signer.js";
export { ParleyError } from "./domain/parley-error.js";
export type { Principal } from "./domain/principal.js";
export { applyServingV8Flags, SERVING_V8_FLAGS } from "./runtime/v8-flags.js";
