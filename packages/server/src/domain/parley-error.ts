import { ERROR_STATUS, type ErrorCode, type ErrorPayload } from "@parley/protocol";

/** The one error type the domain throws; edges turn it into acks and HTTP responses. */
export class ParleyError extends Error {
  readonly code: ErrorCode;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message: string, details?: Record<string, unknown>) {
    super(message);
    this.name = "ParleyError";
    this.code = code;
    this.details = details;
  }

  /** HTTP status for this error's code. */
  get status(): number {
    return ERROR_STATUS[this.code];
  }

  toPayload(): ErrorPayload {
    return this.details ? { code: this.code, message: this.message, details: this.details } : { code: this.code, message: this.message };
  }
}

export const invalid = (message: string, details?: Record<string, unknown>) => new ParleyError("invalid_argument", message, details);
export const forbidden = (message: string) => new ParleyError("forbidden", message);
export const notFound = (message: string) => new ParleyError("not_found", message);
export const conflict = (message: string, details?: Record<string, unknown>) => new ParleyError("conflict", message, details);
