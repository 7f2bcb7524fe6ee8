import { describe, expect, it } from "vitest";
import { isEmojiOnly, lastSeen } from "../src/format.js";

describe("lastSeen", () => {
  it("says when someone offline was last seen, in words that read as a sentence", () => {
    const now = new Date(2026, 11, 7, 15, 0, 0);
    const ago = (ms: number) => new Date(now.getTime() - ms).toISOString();
    expect(lastSeen(ago(20_000), now)).toBe("last seen just now");
    expect(lastSeen(ago(5 * 60_000), now)).toBe("last seen 5 min ago");
    expect(lastSeen(ago(3 * 3_600_000), now)).toBe("last seen 3 h ago");
    expect(lastSeen(ago(20 * 3_600_000), now)).toBe("last seen yesterday");
    expect(lastSeen(new Date(2026, 10, 21, 9, 0, 0).toISOString(), now)).toMatch(/^last seen on .*21/);
  });
});

describe("isEmojiOnly", () => {
  it("shows emoji alone larger, and anything with digits or words as text", () => {
    for (const text of ["😀", "👍🏽", "❤️", "👨‍👩‍👧", "🇫🇷", "1️⃣", "#️⃣ 😀", " 🎉🎉 "]) expect(isEmojiOnly(text), text).toBe(true);
    for (const text of ["12 😀", "1", "123", "# 😀", "*", "ok 👍", "", "   ", "😀".repeat(13)]) expect(isEmojiOnly(text), text).toBe(false);
  });
});
