import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, afterEach, beforeEach, describe, expect, it } from "vitest";
import { verifyWebhook } from "../src/webhooks/webhook-signature.js";
import { topologies } from "./support/topologies.js";
import { API_KEY, ok, type TestServer } from "./support/test-server.js";

const SECRET = "whsec_test_0123456789";

interface Received {
  headers: IncomingHttpHeaders;
  body: string;
  status: number;
  at: number;
}

/** A host back end's webhook endpoint that fails the first `failures` attempts of each webhook. */
async function receiver(failures: number) {
  const received: Received[] = [];
  const seen = new Map<string, number>();
  const server: Server = createServer((req, res) => {
    let body = "";
    req.on("data", (chunk: Buffer) => (body += chunk.toString()));
    req.on("end", () => {
      const id = String(req.headers["parley-webhook-id"]);
      seen.set(id, (seen.get(id) ?? 0) + 1);
      const status = seen.get(id)! <= failures ? 500 : 204;
      received.push({ headers: req.headers, body, status, at: Date.now() });
      res.statusCode = status;
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/hooks`, received, close: () => new Promise((r) => server.close(r)) };
}

async function until<T>(check: () => T | undefined, timeoutMs = 5000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const value = check();
    if (value !== undefined) return value;
    if (Date.now() > end) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe.each(topologies())("webhooks on $name", (topology) => {
  let t: TestServer;
  let hooks: Awaited<ReturnType<typeof receiver>>;

  beforeEach(async () => {
    hooks = await receiver(2);
    t = await topology.start({ webhookUrl: hooks.url, webhookSecret: SECRET, webhookRetryMs: 100 });
  });
  afterEach(async () => {
    await t.close();
    await hooks.close();
  });
  afterAll(() => topology.cleanup());

  const parsed = (r: Received) => JSON.parse(r.body) as { id: string; type: string; createdAt: string; data: Record<string, unknown> };

  it("posts signed webhooks at least once, retrying with backoff, with offline recipients", async () => {
    const created = await t.request("POST", "/v1/conversations", {
      auth: API_KEY,
      body: { kind: "group", ref: "dispute:1", members: ["customer", "provider", "moderator"] },
    });
    const id = created.body.conversation.id;
    const customer = await t.connect("customer", { name: "Cara" });
    const moderator = await t.connect("moderator");
    const message = ok(await customer.call("message:send", { conversationId: id, clientId: "w1", text: "Where are you?" }));

    const delivered = await until(() =>
      hooks.received.find((r) => r.status === 204 && parsed(r).type === "message.created"),
    );
    const body = parsed(delivered);
    expect(body.data.message).toMatchObject({ id: message.id, text: "Where are you?", senderId: "customer" });
    expect(body.data.recipients).toEqual(
      expect.arrayContaining([
        { userId: "provider", online: false },
        { userId: "moderator", online: true },
      ]),
    );
    expect(body.data.recipients).toHaveLength(2);
    expect(body.createdAt).toMatch(/Z$/);

    // Every attempt of one webhook carries its id, a growing attempt number and a valid signature.
    const first = await until(() => hooks.received.find((r) => r.status === 204 && parsed(r).type === "conversation.created"));
    const attempts = hooks.received.filter((r) => parsed(r).id === parsed(first).id);
    expect(attempts.map((r) => r.headers["parley-attempt"])).toEqual(["1", "2", "3"]);
    expect(attempts.map((r) => r.status)).toEqual([500, 500, 204]);
    expect(attempts[2]!.at - attempts[1]!.at).toBeGreaterThanOrEqual(150);
    for (const r of hooks.received) {
      expect(r.headers["parley-webhook-id"]).toBe(parsed(r).id);
      const header = { signature: String(r.headers["parley-signature"]), timestamp: String(r.headers["parley-timestamp"]) };
      expect(verifyWebhook(SECRET, header, r.body)).toBe(true);
      expect(verifyWebhook("wrong-secret", header, r.body)).toBe(false);
      expect(verifyWebhook(SECRET, header, r.body + " ")).toBe(false);
    }
    await expect.poll(() => t.server.webhooks.pending(), { timeout: 5000 }).toBe(0);
    moderator.close();
  });

  it("writes a webhook exactly when the change is stored", async () => {
    const created = await t.request("POST", "/v1/conversations", { auth: API_KEY, body: { kind: "direct", members: ["a", "b"] } });
    const id = created.body.conversation.id;
    const outsider = await t.connect("outsider");
    expect(await outsider.call("message:send", { conversationId: id, clientId: "no", text: "sneak" })).toMatchObject({ ok: false });
    const a = await t.connect("a");
    ok(await a.call("message:send", { conversationId: id, clientId: "yes", text: "hello" }));
    ok(await a.call("message:send", { conversationId: id, clientId: "yes", text: "hello" }));
    const rows = await t.server.storage.db.selectFrom("webhook_outbox").select(["type"]).orderBy("created_at").execute();
    expect(rows.map((r) => r.type)).toEqual(["conversation.created", "message.created"]);
  });
});
