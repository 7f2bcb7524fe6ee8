import { createHmac } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ChatMessage } from "@parley/client";
import { DisputeHost } from "../dispute/host.js";
import { playDispute } from "../dispute/story.js";
import { verifyParleySignature, WebhookReceiver } from "../dispute/webhooks.js";
import { Transcript } from "../lib/transcript.js";
import { startParley, type RunningParley } from "./support/parley.js";

const SECRET = "whsec_example_test_0123456789";
const said = (screen: ChatMessage[]) => screen.filter((m) => m.type !== "system").map((m) => m.text);

describe("dispute (seed 002): a moderator joins a customer–provider chat; offline recipients in webhooks", () => {
  let parley: RunningParley;
  let webhooks: WebhookReceiver;

  beforeAll(async () => {
    // Parley needs the host's webhook URL, so the host's endpoint starts first.
    webhooks = new WebhookReceiver(SECRET);
    const endpoint = await webhooks.listen(0);
    parley = await startParley({ webhookUrl: endpoint, webhookSecret: SECRET, webhookRetryMs: 100 });
  });
  afterAll(async () => {
    await parley?.close();
    await webhooks?.close();
  });

  it("the moderator reads the whole history and posts; the offline provider is flagged offline in message.created", async () => {
    const host = new DisputeHost(parley, webhooks);
    const r = await playDispute({ parley, host, webhooks, transcript: new Transcript({ print: false }) });

    expect(r.conversation).toMatchObject({ kind: "group", ref: "job:1207", metadata: { dispute: { status: "open" } } });

    // Joining later, the moderator sees everything said before, then the line announcing them.
    expect(said(r.moderatorOnJoin)).toEqual(r.saidBeforeModerator);
    const joined = r.moderatorOnJoin.filter((m) => m.type === "system").map((m) => m.text);
    expect(joined).toEqual(["Rita (moderator) joined"]);

    // Everyone saw the moderator's message.
    const ruling = r.moderatorScreen.find((m) => m.senderId === "lsm-3" && m.type === "text")!;
    expect(ruling.text).toMatch(/^Hi both, I'm Rita/);
    expect(said(r.customerScreen)).toContain(ruling.text);
    expect(said(r.providerScreen)).toContain(ruling.text);
    expect(r.customerScreen.find((m) => m.id === ruling.id)?.senderName).toBe("Rita");

    // The message sent while Kofi was offline: the webhook says so, and the host pushed to Kofi only.
    const { message, recipients } = r.offlineWebhook.data;
    expect(message).toMatchObject({ senderId: "customer-501", text: "Kofi, can you confirm tomorrow at 10?" });
    expect([...recipients].sort((a, b) => a.userId.localeCompare(b.userId))).toEqual([
      { userId: "lsm-3", online: true },
      { userId: "provider-77", online: false },
    ]);
    expect(r.pushes).toEqual([
      { userId: "provider-77", title: "Nora", body: "Kofi, can you confirm tomorrow at 10?", conversationId: r.conversation.id },
    ]);
    // Every webhook so far carried a valid signature.
    expect(webhooks.refused).toEqual([]);
    expect(webhooks.received.map((w) => w.type)).toEqual(expect.arrayContaining(["conversation.created", "member.joined", "message.created"]));
  });

  it("refuses a webhook with a forged or stale signature", async () => {
    const body = JSON.stringify({ id: "fake", type: "message.created", createdAt: new Date().toISOString(), data: {} });
    const endpoint = parley.config.webhookUrl!;
    const now = Math.floor(Date.now() / 1000);
    const post = (headers: Record<string, string>) =>
      fetch(endpoint, { method: "POST", headers: { "content-type": "application/json", "parley-webhook-id": "fake", ...headers }, body });

    const forged = await post({ "parley-timestamp": String(now), "parley-signature": "v1=" + "0".repeat(64) });
    expect(forged.status).toBe(401);
    expect(webhooks.received.some((w) => w.id === "fake")).toBe(false);

    const sign = (ts: number) => "v1=" + createHmac("sha256", SECRET).update(`${ts}.${body}`).digest("hex");
    const stale = await post({ "parley-timestamp": String(now - 3600), "parley-signature": sign(now - 3600) });
    expect(stale.status).toBe(401);
    expect(verifyParleySignature(SECRET, { "parley-timestamp": String(now), "parley-signature": sign(now) }, body)).toBe(true);
  });
});
