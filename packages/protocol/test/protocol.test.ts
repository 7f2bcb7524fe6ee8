import { describe, expect, it } from "vitest";
import { ERROR_CODES, ERROR_STATUS, isErrorCode, messageSendSchema, metadataSchema } from "../src/index.js";

describe("protocol", () => {
  it("has exactly the nine error codes with their HTTP statuses", () => {
    expect(ERROR_STATUS).toEqual({
      invalid_argument: 400,
      unauthenticated: 401,
      forbidden: 403,
      not_found: 404,
      conflict: 409,
      payload_too_large: 413,
      rate_limited: 429,
      unavailable: 503,
      internal: 500,
    });
    for (const code of ERROR_CODES) expect(code).toMatch(/^[a-z]+(_[a-z]+)*$/);
    expect(isErrorCode("forbidden")).toBe(true);
    expect(isErrorCode("toString")).toBe(false);
  });

  it("refuses unknown fields, so a client cannot choose its sender", () => {
    const base = { conversationId: "c", clientId: "k", text: "hi" };
    expect(messageSendSchema.safeParse(base).success).toBe(true);
    expect(messageSendSchema.safeParse({ ...base, senderId: "bob" }).success).toBe(false);
    expect(messageSendSchema.safeParse({ conversationId: "c", text: "hi" }).success).toBe(false);
  });

  it("accepts plain JSON metadata only", () => {
    expect(metadataSchema.safeParse({ a: [1, { b: "c" }], d: null, e: true }).success).toBe(true);
    expect(metadataSchema.safeParse(JSON.parse('{"__proto__":{"x":1}}')).success).toBe(false);
    expect(metadataSchema.safeParse({ constructor: 1 }).success).toBe(false);
    expect(metadataSchema.safeParse([1]).success).toBe(false);
    expect(metadataSchema.safeParse({ big: "x".repeat(9000) }).success).toBe(false);
    let deep: Record<string, unknown> = {};
    for (let i = 0; i < 20; i++) deep = { deep };
    expect(metadataSchema.safeParse(deep).success).toBe(false);
  });
});
