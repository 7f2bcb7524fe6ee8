import { invalid } from "./parley-error.js";

/** An opaque cursor for lists ordered by `(activity_at, id)` descending. */
export function encodeActivityCursor(activityAt: string, id: string): string {
  return Buffer.from(JSON.stringify([activityAt, id])).toString("base64url");
}

/** The `(activity_at, id)` a cursor holds; `invalid_argument` when this server did not issue it. */
export function decodeActivityCursor(cursor: string): [string, string] {
  try {
    const parsed: unknown = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
    if (Array.isArray(parsed) && parsed.length === 2 && parsed.every((v) => typeof v === "string")) {
      return [parsed[0] as string, parsed[1] as string];
    }
  } catch {
    // fall through
  }
  throw invalid("cursor is not one this server issued");
}
