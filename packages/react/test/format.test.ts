import { describe, expect, it } from "vitest";
import { isEmojiOnly } from "../src/format.js";

describe("isEmojiOnly", () => {
  it("shows emoji alone larger, and anything with digits or words as text", () => {
    for (const text of ["😀", "👍🏽", "❤️", "👨‍👩‍👧", "🇫🇷", "1️⃣", "#️⃣ 😀", " 🎉🎉 "]) expect(isEmojiOnly(text), text).toBe(true);
    for (const text of ["12 😀", "1", "123", "# 😀", "*", "ok 👍", "", "   ", "😀".repeat(13)]) expect(isEmojiOnly(text), text).toBe(false);
  });
});
