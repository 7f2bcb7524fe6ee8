export * from "./ack.js";
export * from "./errors.js";
export * from "./events.js";
export * from "./limits.js";
export * from "./schemas.js";
export * from "./server-payloads.js";
