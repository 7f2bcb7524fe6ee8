import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ChatMessage } from "@parley/client";
import { Transcript } from "../lib/transcript.js";
import { playMarketplaceDm } from "../marketplace-dm/story.js";
import { VENUE_PHOTO } from "../marketplace-dm/photo.js";
import { startParley, type RunningParley } from "./support/parley.js";

const lines = (screen: ChatMessage[]) => screen.map((m) => [m.senderName, m.type, m.text]);

describe("marketplace DM (seed 001): customer and photographer", () => {
  let parley: RunningParley;

  beforeAll(async () => {
    parley = await startParley();
  });
  afterAll(() => parley.close());

  it("shows typing, ticks, presence, a photo, delete-for-me, a REST send live, and keeps two tabs in step", async () => {
    const r = await playMarketplaceDm({ parley, transcript: new Transcript({ print: false }) });

    expect(r.conversation.kind).toBe("direct");
    expect(r.typingOnLaptop).toEqual([{ userId: "photographer-9", name: "Leo" }]);

    // Read receipts: Leo saw ✓ then ✓✓ then "read", read by Maya; Maya's phone badge followed her laptop.
    expect(r.ticksLeoSaw.slice(-2)).toEqual(["delivered", "read"]);
    expect(r.ticksLeoSaw.indexOf("sent")).toBeLessThan(r.ticksLeoSaw.indexOf("delivered"));
    expect(r.readBy).toEqual(["Maya"]);
    expect(r.phoneUnread).toEqual({ beforeRead: 1, afterRead: 0 });

    // The photo: an image message whose signed URL serves the uploaded bytes.
    expect(r.photo.uploaded).toMatchObject({ name: "venue.png", mimeType: "image/png", width: 8, height: 6 });
    expect(r.photo.received).toMatchObject({ id: r.photo.uploaded.id, name: "venue.png", mimeType: "image/png" });
    expect(r.photo.download).toEqual({ status: 200, contentType: "image/png", bytes: VENUE_PHOTO.byteLength });

    // Online while connected; offline with a last-seen time once Leo closed the site.
    expect(r.presence.online).toMatchObject({ userId: "photographer-9", online: true });
    expect(r.presence.offline).toMatchObject({ userId: "photographer-9", online: false });
    expect(r.presence.offline.lastSeenAt).toEqual(expect.any(String));

    // Maya hid Leo's first message on both her tabs; Leo still has it. The host's REST message reached everyone.
    const quote = ["Leo", "text", "Quote: 3 hours of coverage, 120 edited photos, $450"];
    const photo = ["Maya", "image", "This is the venue"];
    const first = ["Leo", "text", r.leoFirst.text];
    expect(lines(r.laptopScreen)).toEqual([photo, quote]);
    expect(lines(r.phoneScreen)).toEqual([photo, quote]);
    expect(lines(r.photographerScreen)).toEqual([first, photo, quote]);
    expect(r.hostMessage).toMatchObject({ senderId: "photographer-9", metadata: { quoteId: 8812 } });
  });
});
