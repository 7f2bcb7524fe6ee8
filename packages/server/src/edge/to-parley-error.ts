import { ZodError } from "zod";
import { ParleyError } from "../domain/parley-error.js";
import { isDiskFailure, isUnavailable } from "../storage/storage-errors.js";

/**
 * Any thrown value as the error a client should see: domain errors as they
 * are, validation failures as `invalid_argument`, a database that cannot be
 * reached as `unavailable`, anything else as `internal` (and `unexpected`
 * is set so the edge logs it, as for a failing disk).
 */
export function toParleyError(err: unknown): { error: ParleyError; unexpected: boolean } {
  if (err instanceof ParleyError) return { error: err, unexpected: false };
  if (err instanceof ZodError) return { error: fromZod(err), unexpected: false };
  if (isUnavailable(err)) {
    // A database that is away is expected now and then; a failing disk is logged.
    return { error: new ParleyError("unavailable", "The database is unavailable; try again shortly"), unexpected: isDiskFailure(err) };
  }
  return { error: new ParleyError("internal", "Something went wrong on the server"), unexpected: true };
}

/** A zod failure as `invalid_argument` naming the first bad field. */
export function fromZod(err: ZodError): ParleyError {
  const issues = err.issues.slice(0, 5).map((i) => ({ path: i.path.map(String).join("."), message: i.message }));
  const first = issues[0];
  const message = first ? (first.path ? `${first.path}: ${first.message}` : first.message) : "Invalid payload";
  return new ParleyError("invalid_argument", message, { issues });
}
