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

  it("shows a window opened away from the newest, holds the newest above a gap, and ignores changes inside the gap", () => {
    const timeline = new MessageTimeline();
    const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => message(from + i));
    timeline.applyPage(range(41, 50), true);
    timeline.openAt(range(11, 20), true, 21);
    expect(timeline.messages.map((m) => m.seq)).toEqual(range(11, 20).map((m) => m.seq));
    expect([timeline.hasOlder, timeline.hasNewer, timeline.gapStart, timeline.gapEnd]).toEqual([true, true, 21, 40]);
    // A change inside the gap waits for the page that brings it; one to a held newest message is kept, out of sight.
    expect(timeline.apply(message(30, 51))).toBe(false);
    timeline.apply(message(45, 52));
    timeline.apply(message(53));
    expect(timeline.newestSeq).toBe(20);
    const generation = timeline.generation;
    timeline.applyNewer(range(21, 30), 31);
    expect(timeline.gapStart).toBe(31);
    // The page was read before the change inside the gap: the change wins.
    expect(timeline.get(30)?.revSeq).toBe(51);
    expect(timeline.generation).toBe(generation);
    timeline.applyNewer([...range(31, 44), message(45, 52)], 41);
    expect(timeline.hasNewer).toBe(false);
    expect(timeline.messages.map((m) => m.seq)).toEqual([...range(11, 50).map((m) => m.seq), 53]);
    expect(timeline.get(45)?.text).toBe("text 45@52");

    // A page that reaches what is loaded joins it; one that stops short leaves a gap of its own.
    timeline.openAt(range(1, 10), false, 11);
    expect([timeline.hasOlder, timeline.hasNewer, timeline.messages.length]).toEqual([false, false, 51]);
    const short = new MessageTimeline();
    short.applyPage(range(41, 50), true);
    short.openAt(range(1, 5), false, 6);
    expect([short.gapStart, short.gapEnd]).toEqual([6, 40]);

    // Jumping to the newest drops the window: older pages are fetched again from there.
    const other = new MessageTimeline();
    other.applyPage(range(41, 50), true);
    other.openAt(range(11, 20), true, 21);
    const before = other.generation;
    expect(other.jumpToLatest()).toBe(true);
    expect(other.generation).toBe(before + 1);
    expect([other.hasOlder, other.hasNewer, other.floor]).toEqual([true, false, 41]);
    expect(other.messages.map((m) => m.seq)).toEqual(range(41, 50).map((m) => m.seq));
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
