/**
 * The nine error codes Parley answers with, on socket acknowledgements and
 * REST responses alike, each with the HTTP status REST uses for it.
 */
export const ERROR_STATUS = {
  invalid_argument: 400,
  unauthenticated: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  payload_too_large: 413,
  rate_limited: 429,
  unavailable: 503,
  internal: 500,
} as const;

/** One of the nine error codes, e.g. `"forbidden"`. */
export type ErrorCode = keyof typeof ERROR_STATUS;

/** Every error code, in the order of the catalogue. */
export const ERROR_CODES = Object.keys(ERROR_STATUS) as ErrorCode[];

/** The error body carried by a failed acknowledgement and by REST errors. */
export interface ErrorPayload {
  code: ErrorCode;
  message: string;
  details?: Record<string, unknown>;
}

/** Reasons a connection or request is `unauthenticated`. */
export type UnauthenticatedReason = "missing" | "invalid" | "expired";

/** True when `value` is one of the nine error codes. */
export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === "string" && Object.hasOwn(ERROR_STATUS, value);
}
