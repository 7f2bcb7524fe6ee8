import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Transcript } from "../lib/transcript.js";
import { playSupportDesk } from "../support-desk/story.js";
import { startParley, type RunningParley } from "./support/parley.js";

describe("support desk (seed 004): a guest visitor and two operators", () => {
  let parley: RunningParley;

  beforeAll(async () => {
    parley = await startParley({ guests: true });
  });
  afterAll(() => parley.close());

  it("the conversation reaches both operators with its unread count; one answers, the other sees it; resolved, history kept", async () => {
    const r = await playSupportDesk({ parley, transcript: new Transcript({ print: false }) });

    expect(r.guest.userId).toMatch(/^guest-/);
    expect(r.conversation).toMatchObject({ kind: "support", status: "open", title: "Order #1182 has not arrived" });

    // Both operators' inboxes (and the host's dashboard) got it with the visitor's two messages unread.
    for (const row of [r.arrived.olivia, r.arrived.omar, r.arrived.dashboard]) {
      expect(row).toMatchObject({ id: r.conversation.id, unreadCount: 2, lastMessage: { id: r.asked[1]!.id, senderName: "Dana" } });
    }

    // Olivia's answer: the visitor sees her name, the other operator sees the answer.
    expect(r.answer).toMatchObject({ senderId: "op-olivia", senderName: "Olivia" });
    expect(r.visitorSawAnswer).toMatchObject({ senderId: "op-olivia", senderName: "Olivia", text: r.answer.text });
    expect(r.visitorSawMembers).toEqual(expect.arrayContaining([{ userId: "op-olivia", name: "Olivia" }]));
    expect(r.omarSawAnswer).toMatchObject({ senderName: "Olivia", text: r.answer.text });

    // Each operator has their own read position: Olivia read and answered, Omar has read nothing
    // (only the visitor's messages count for operators).
    expect(r.unreadAfterAnswer.olivia).toBe(0);
    expect(r.unreadAfterAnswer.omarDashboard).toBe(2);

    // Resolved: closed for everyone, the visitor cannot write into it, and the whole history is still there.
    expect(r.resolved.status).toBe("closed");
    expect(r.visitorSawStatus).toBe("closed");
    expect(r.sendAfterResolve).toBe("conflict");
    const said = r.historyAfterResolve.filter((m) => m.type !== "system").map((m) => [m.senderName, m.text]);
    expect(said).toEqual([
      ["Dana", r.asked[0]!.text],
      ["Dana", r.asked[1]!.text],
      ["Olivia", r.answer.text],
      ["Dana", "Great, thank you!"],
    ]);
    expect(r.closedOnDashboard).toMatchObject({ id: r.conversation.id, status: "closed" });
  });
});
