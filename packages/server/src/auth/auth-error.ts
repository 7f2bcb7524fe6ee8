import type { UnauthenticatedReason } from "@parley/protocol";
import { ParleyError } from "../domain/parley-error.js";

/** An `unauthenticated` error with its reason: `missing`, `invalid` or `expired`. */
export function authError(reason: UnauthenticatedReason, message: string): ParleyError {
  return new ParleyError("unauthenticated", message, { reason });
}
