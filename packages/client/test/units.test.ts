import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { Message } from "@parley/protocol";
import { MessageTimeline } from "../src/store/message-timeline.js";
import { TypingSender } from "../src/sending/typing-sender.js";
import { packetSize, tokenExpiry } from "@parley/client";

function message(seq: number, revSeq = seq, patch: Partial<Message> = {}): Message {
  return {
    id: `m${seq}`,
    conversationId: "c",
    seq,
    revSeq,
    senderId: "bob",
    senderName: "Bob",
    type: "text",
    text: `text ${seq}@${revSeq}`,
    attachments: [],
    replyTo: null,
    metadata: {},
    clientId: null,
    createdAt: "2026-11-21T10:00:00.000Z",
    editedAt: null,
    deletedAt: null,
    reactions: {},
    ...patch,
  };
}

describe("message timeline", () => {
  it("keeps the newest revision of each message whatever order copies arrive in", () => {
    const timeline = new MessageTimeline();
    timeline.applyPage([message(1), message(2)], false);
    expect(timeline.apply(message(2, 5))).toBe(true);
    expect(timeline.apply(message(2, 3))).toBe(false);
    expect(timeline.apply(message(2, 5))).toBe(false);
    expect(timeline.messages.map((m) => m.text)).toEqual(["text 1@1", "text 2@5"]);
  });

  it("never brings back a message hidden for this user", () => {
    const timeline = new MessageTimeline();
    timeline.applyPage([message(1), message(2)], false);
    timeline.apply(message(2, 4, { hidden: true, text: null }));
    timeline.apply(message(2, 6));
    expect(timeline.messages.map((m) => m.seq)).toEqual([1]);
  });

  it("ignores changes to messages older than the loaded window until history reaches them", () => {
    const timeline = new MessageTimeline();
    timeline.applyPage([message(10), message(11)], true);
    expect(timeline.hasOlder).toBe(true);
    expect(timeline.apply(message(3, 12))).toBe(false);
    timeline.applyPage([message(3, 12), message(9)], false);
    expect(timeline.messages.map((m) => m.seq)).toEqual([3, 9, 10, 11]);
    expect(timeline.hasOlder).toBe(false);
  });

  it("advances the sync cursor only through contiguous live changes", () => {
    const timeline = new MessageTimeline();
    timeline.applyPage([], false);
    timeline.syncedTo(4);
    timeline.noteLive(6);
    expect(timeline.cursor).toBe(4);
    timeline.noteLive(5);
    expect(timeline.cursor).toBe(6);
    timeline.noteLive(8);
    timeline.syncedTo(7);
    expect(timeline.cursor).toBe(8);
  });
});

describe("typing sender", () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("sends typing at most every interval while keys are pressed, and stops after idle or on send", () => {
    const sent: Array<[number, boolean]> = [];
    const start = Date.now();
    const typing = new TypingSender((_id, value) => sent.push([Date.now() - start, value]), { intervalMs: 3000, idleMs: 4000 });
    for (let i = 0; i < 70; i++) {
      typing.keystroke("c");
      vi.advanceTimersByTime(100);
    }
    vi.advanceTimersByTime(5000);
    expect(sent).toEqual([
      [0, true],
      [3000, true],
      [6000, true],
      [6900 + 4000, false],
    ]);
    sent.length = 0;
    typing.keystroke("c");
    typing.stop("c");
    typing.stop("c");
    vi.advanceTimersByTime(10_000);
    expect(sent.map(([, v]) => v)).toEqual([true, false]);
  });
});

describe("helpers", () => {
  it("measures a packet in UTF-8 bytes", () => {
    expect(packetSize("message:send", { text: "é" })).toBeGreaterThan(packetSize("message:send", { text: "e" }));
  });

  it("reads a token's exp without verifying it", () => {
    const claims = Buffer.from(JSON.stringify({ sub: "a", exp: 1234 })).toString("base64url");
    expect(tokenExpiry(`h.${claims}.s`)).toBe(1234);
    expect(tokenExpiry("garbage")).toBeNull();
  });
});
