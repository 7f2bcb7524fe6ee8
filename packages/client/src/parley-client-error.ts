import { isErrorCode, type ErrorCode, type ErrorPayload } from "@parley/protocol";

/**
 * The one error type the SDK rejects with. `code` is one of Parley's nine
 * error codes; errors the SDK raises itself (a lost connection, an ack that
 * never came, a payload too large to send) use the same codes.
 *
 * @example
 * try {
 *   await conversation.send({ text });
 * } catch (err) {
 *   if (err instanceof ParleyClientError && err.code === "payload_too_large") showTooLong();
 * }
 */
export class ParleyClientError extends Error {
  /** One of the nine error codes, e.g. `"forbidden"`. */
  readonly code: ErrorCode;
  /** Extra facts the server sent, e.g. `{ reason: "expired" }` or `{ retryAfterMs: 500 }`. */
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message: string, details?: Record<string, unknown>) {
    super(message);
    this.name = "ParleyClientError";
    this.code = code;
    this.details = details;
  }

  /** Builds the error from an error acknowledgement or a `connect_error`'s `data`. */
  static fromPayload(payload: ErrorPayload): ParleyClientError {
    return new ParleyClientError(payload.code, payload.message, payload.details);
  }

  /** Reads the `data` a refused handshake carries; `null` when it is not a Parley error. */
  static fromConnectError(err: unknown): ParleyClientError | null {
    const data = (err as { data?: unknown } | null)?.data;
    if (typeof data !== "object" || data === null) return null;
    const { code, message, details } = data as Partial<ErrorPayload>;
    if (!isErrorCode(code)) return null;
    return new ParleyClientError(code, typeof message === "string" ? message : code, details);
  }
}

/** Codes worth sending again later with the same `clientId`; every other code fails the message. */
export function isRetryable(error: ParleyClientError): boolean {
  return error.code === "unavailable" || error.code === "rate_limited";
}
