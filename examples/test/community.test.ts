import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { playCommunity } from "../community/story.js";
import { ParleyApi } from "../lib/parley-api.js";
import { Transcript } from "../lib/transcript.js";
import { startParley, type RunningParley } from "./support/parley.js";

describe("community (seed 003): a channel many people share", () => {
  let parley: RunningParley;

  beforeAll(async () => {
    parley = await startParley();
  });
  afterAll(() => parley.close());

  it("members join and talk, a newcomer pages back, own edits and deletes, a moderator's delete, stats", async () => {
    const r = await playCommunity({ parley, transcript: new Transcript({ print: false }) });
    const api = new ParleyApi({ url: parley.url, credential: parley.apiKey });

    expect(r.channel).toMatchObject({ kind: "channel", ref: "community:general", title: "General" });
    const { members } = await api.conversationByRef("community:general");
    expect(members.map((m) => m.userId).sort()).toEqual([...r.joined].sort());

    // The newcomer paged 8 at a time back to the first message and holds the whole history once, in order.
    expect(r.posted).toHaveLength(20);
    expect(r.newcomerPages).toEqual([8, 16, 20]);
    expect(r.newcomerHistory.map((m) => m.id)).toEqual(r.posted.map((m) => m.id));
    expect(r.newcomerHistory.every((m) => m.type !== "system")).toBe(true);
    // The host's archive pages (10 each, newest page first) cover the same messages.
    expect(r.archivePages.map((p) => p.length)).toEqual([10, 10]);
    expect(r.archivePages.toReversed().flat().map((m) => m.id)).toEqual(r.posted.map((m) => m.id));

    // Own edit and own delete, seen by someone else; others' messages untouchable; the moderator's delete.
    const bens = r.newcomerScreen.find((m) => m.id === r.edited.id)!;
    expect(bens).toMatchObject({ senderId: "ben", text: expect.stringMatching(/Two-person, for Saturday\.$/) });
    expect(bens.editedAt).toEqual(expect.any(String));
    expect(r.deletedByOwner).toMatchObject({ senderId: "chloe", text: null });
    expect(r.deletedByOwner.deletedAt).toEqual(expect.any(String));
    expect(r.refused).toEqual({ edit: "forbidden", delete: "forbidden" });
    const anas = r.newcomerScreen.find((m) => m.id === r.posted[0]!.id)!;
    expect(anas).toMatchObject({ senderId: "ana", text: r.posted[0]!.text, deletedAt: null, editedAt: null });
    expect(r.deletedByModerator).toMatchObject({ senderId: "eli", text: null });
    expect(r.deletedByModerator.deletedAt).toEqual(expect.any(String));

    // Statistics: 21 messages (the deleted ones included), the 7 people, one channel; per day, they add up.
    expect(r.stats.totals).toMatchObject({ messages: 21, users: 7, conversations: { channel: 1, direct: 0, group: 0, support: 0 } });
    expect(r.stats.messagesPerDay.reduce((sum, d) => sum + d.count, 0)).toBe(21);
  });
});
