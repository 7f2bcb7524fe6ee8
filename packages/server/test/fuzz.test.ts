import fc from "fast-check";
import { afterAll, afterEach, beforeEach, describe, expect, it } from "vitest";
import { ERROR_CODES, type Ack } from "@parley/protocol";
import { backends } from "./support/backends.js";
import { API_KEY, ok, startTestServer, type ConnectedClient, type TestServer } from "./support/test-server.js";

const EVENTS = [
  "conversation:list",
  "conversation:create",
  "conversation:open",
  "conversation:close",
  "conversation:join",
  "conversation:leave",
  "conversation:sync",
  "conversation:history",
  "conversation:read",
  "conversation:delivered",
  "conversation:resolve",
  "message:send",
  "message:edit",
  "message:delete",
  "message:react",
  "typing",
  "presence:get",
  "auth:refresh",
] as const;

const FIELDS = [
  "__proto__", "constructor", "prototype", "conversationId", "messageId", "clientId", "text", "type", "kind",
  "members", "ref", "title", "metadata", "limit", "cursor", "seq", "afterSeq", "beforeSeq", "scope", "emoji",
  "on", "typing", "userIds", "token", "attachments", "replyTo", "senderId", "status",
];

/** Values that break naive servers: wrong types, huge and invalid strings, deep and odd objects. */
function hostile(ids: { conversationId: string; messageId: string }) {
  const leaf = fc.oneof(
    fc.string(),
    fc.string({ unit: "binary", maxLength: 20 }),
    fc.string({ minLength: 6000, maxLength: 9000 }),
    fc.constantFrom("\u0000", "\uD800", "\uDFFF", "<img src=x onerror=alert(1)>", "' OR 1=1 --", "%00", "../../etc/passwd"),
    fc.integer(),
    fc.double(),
    fc.constantFrom(-1, 0, 2 ** 53, Number.MAX_SAFE_INTEGER + 2, 1e308),
    fc.boolean(),
    fc.constant(null),
    fc.constantFrom(ids.conversationId, ids.messageId),
  );
  const { tree } = fc.letrec((tie) => ({
    tree: fc.oneof({ depthSize: "small", withCrossShrink: true }, leaf, tie("array"), tie("object")),
    array: fc.array(tie("tree"), { maxLength: 4 }),
    object: fc.dictionary(fc.constantFrom(...FIELDS), tie("tree"), { maxKeys: 6 }),
  }));
  const deep = fc.integer({ min: 50, max: 400 }).map((n) => {
    let v: unknown = "bottom";
    for (let i = 0; i < n; i++) v = { metadata: v };
    return { conversationId: ids.conversationId, clientId: "deep", text: "x", metadata: v };
  });
  const nearlyValid = fc.record(
    {
      conversationId: fc.oneof(fc.constant(ids.conversationId), leaf),
      messageId: fc.oneof(fc.constant(ids.messageId), leaf),
      clientId: fc.oneof(fc.string({ minLength: 1, maxLength: 10 }), leaf),
      text: leaf,
      seq: leaf,
      afterSeq: leaf,
      scope: fc.oneof(fc.constantFrom("me", "everyone"), leaf),
      extra: tree,
    },
    { requiredKeys: [] },
  );
  return fc.oneof(tree, deep, nearlyValid, fc.anything({ maxDepth: 3 }));
}

describe.each(backends())("hostile input on $name", (backend) => {
  let t: TestServer;
  let alice: ConnectedClient;
  let ids: { conversationId: string; messageId: string };

  beforeEach(async () => {
    t = await startTestServer(await backend.create(), { rateMessages: "100000/s,100000" });
    alice = await t.connect("alice");
    const conversationId = ok(await alice.call("conversation:create", { kind: "direct", members: ["bob"] })).id;
    const messageId = ok(await alice.call("message:send", { conversationId, clientId: "seed", text: "seed" })).id;
    ids = { conversationId, messageId };
  });
  afterEach(async () => {
    await t.close();
  });
  afterAll(() => backend.cleanup());

  async function counts(): Promise<string> {
    const db = t.server.storage.db;
    const tables = ["messages", "conversations", "members", "users", "hidden_messages", "uploads", "webhook_outbox"] as const;
    const values = await Promise.all(
      tables.map(async (table) => Number((await db.selectFrom(table).select((eb) => eb.fn.countAll().as("n")).executeTakeFirstOrThrow()).n)),
    );
    const seq = await db.selectFrom("conversations").select("last_seq").where("id", "=", ids.conversationId).executeTakeFirstOrThrow();
    return JSON.stringify([...values, Number(seq.last_seq)]);
  }

  it("answers every client event with a clear error code, never crashes, and writes nothing on error", async () => {
    let errors = 0;
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...EVENTS), hostile(ids), async (event, payload) => {
        // Stay just under the 100 events/s limit: this checks validation, not flooding.
        await new Promise((r) => setTimeout(r, 12));
        const before = await counts();
        let ack: Ack<unknown>;
        try {
          ack = await alice.call(event, payload);
        } catch (err) {
          // Only a payload over the 64 KiB transport limit may drop the socket.
          expect(JSON.stringify(payload).length).toBeGreaterThan(60_000);
          alice = await t.connect("alice");
          void err;
          return;
        }
        if (ack.ok) return;
        errors++;
        expect(ERROR_CODES).toContain(ack.error.code);
        expect(ack.error.code).not.toBe("internal");
        expect(typeof ack.error.message).toBe("string");
        expect(await counts()).toBe(before);
      }),
      { numRuns: 400 },
    );
    expect(errors).toBeGreaterThan(300);
    expect(Object.prototype).not.toHaveProperty("polluted");
    expect(ok(await alice.call("conversation:history", { conversationId: ids.conversationId })).messages[0].text).toBe("seed");
  }, 120_000);

  it("answers every REST endpoint with an error body and writes nothing on error", async () => {
    const { conversationId, messageId } = ids;
    const routes: Array<[string, string]> = [
      ["POST", "/v1/conversations"],
      ["PATCH", `/v1/conversations/${conversationId}`],
      ["POST", `/v1/conversations/${conversationId}/members`],
      ["POST", `/v1/conversations/${conversationId}/messages`],
      ["PATCH", `/v1/conversations/${conversationId}/messages/${messageId}`],
      ["POST", `/v1/conversations/${conversationId}/read`],
      ["POST", "/v1/tokens"],
      ["POST", "/v1/guests"],
      ["GET", `/v1/conversations/${conversationId}/messages?limit=`],
      ["GET", "/v1/conversations?cursor="],
      ["GET", "/v1/search?q="],
      ["DELETE", `/v1/conversations/${conversationId}/messages/${messageId}?scope=`],
      ["GET", `/v1/uploads/`],
    ];
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...routes), hostile(ids), fc.string({ unit: "binary", maxLength: 40 }), async ([method, path], body, raw) => {
        const before = await counts();
        const withQuery = path.endsWith("=") || path.endsWith("/") ? path + encodeURIComponent(raw) : path;
        const res = await fetch(t.url + withQuery, {
          method,
          headers: { authorization: `Bearer ${alice.token}`, ...(method === "GET" || method === "DELETE" ? {} : { "content-type": "application/json" }) },
          ...(method === "GET" || method === "DELETE" ? {} : { body: typeof body === "string" ? body : JSON.stringify(body) }),
        });
        expect(res.status).toBeLessThan(500);
        if (res.status < 400) return;
        const answer = (await res.json()) as { error: { code: string; message: string } };
        expect(ERROR_CODES).toContain(answer.error.code);
        expect(await counts()).toBe(before);
      }),
      { numRuns: 300 },
    );
    const health = await t.request("GET", `/v1/conversations/${conversationId}/messages`, { auth: API_KEY });
    expect(health.body.messages.map((m: { text: string }) => m.text)).toContain("seed");
  }, 120_000);
});
