import { ParleyError } from "./parley-error.js";

// A UTF-16 surrogate not part of a pair.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * Checks message text: 1..`maxLength` Unicode code points after trimming, no
 * NUL, no lone surrogates. The text itself is stored exactly as sent.
 */
export function checkMessageText(text: string, maxLength: number): void {
  const problem = messageTextProblem(text, maxLength);
  if (problem) throw problem;
}

/** What {@link checkMessageText} would throw, or `null` for good text. */
export function messageTextProblem(text: string, maxLength: number): ParleyError | null {
  if (text.includes("\u0000")) return new ParleyError("invalid_argument", "Text may not contain NUL characters");
  if (LONE_SURROGATE.test(text)) return new ParleyError("invalid_argument", "Text contains a lone UTF-16 surrogate");
  const trimmed = text.trim();
  if (trimmed.length === 0) return new ParleyError("invalid_argument", "Text is empty");
  // Cheap bound first: code points ≤ UTF-16 units.
  if (trimmed.length > maxLength) {
    let count = 0;
    for (const _ of trimmed) {
      if (++count > maxLength) {
        return new ParleyError("payload_too_large", `Text is longer than ${maxLength} characters`, { maxLength });
      }
    }
  }
  return null;
}
