import { createHmac, timingSafeEqual } from "node:crypto";

/** `v1=<hex HMAC-SHA256 of "{timestamp}.{body}">`, the `Parley-Signature` header. */
export function signWebhook(secret: string, timestamp: number, body: string): string {
  return `v1=${createHmac("sha256", secret).update(`${timestamp}.${body}`).digest("hex")}`;
}

/**
 * Checks a `Parley-Signature` header as a host back end should: the HMAC
 * matches and the timestamp is within `toleranceSeconds` of now.
 */
export function verifyWebhook(
  secret: string,
  header: { signature: string; timestamp: string },
  body: string,
  toleranceSeconds = 300,
): boolean {
  const timestamp = Number(header.timestamp);
  if (!Number.isInteger(timestamp) || Math.abs(Date.now() / 1000 - timestamp) > toleranceSeconds) return false;
  const expected = Buffer.from(signWebhook(secret, timestamp, body));
  const given = Buffer.from(header.signature);
  return expected.length === given.length && timingSafeEqual(expected, given);
}
