import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Message } from "@parley/protocol";
import { topologies } from "./support/topologies.js";
import { API_KEY, connectWithToken, ok, settle, signToken, type ConnectedClient, type TestServer } from "./support/test-server.js";

const SECRET = "TOP SECRET booking details";
/** Each conversation's own secret, so a check can tell which one leaked. */
const secretOf = (name: string) => `${SECRET} in ${name}`;
const ISSUER = { iss: "user-backend", secret: "user-backend-secret-0123456789", prefix: "user:" };

describe.each(topologies())("authorization matrix on $name", (topology) => {
  let t: TestServer;
  let alice: ConnectedClient;
  const targets: Record<string, { conversationId: string; messageId: string }> = {};
  let uploadUrl = "";
  let uploadId = "";
  const outsiders: Record<string, ConnectedClient> = {};
  let bob: ConnectedClient;

  beforeAll(async () => {
    t = await topology.start({ jwtIssuers: [ISSUER], guests: true });
    alice = await t.connect("alice", { name: "Alice" });
    bob = await t.connect("bob");
    const group = (
      await t.request("POST", "/v1/conversations", {
        auth: API_KEY,
        body: { kind: "group", ref: "booking:1", title: SECRET, members: [{ userId: "alice", role: "owner" }, "bob"] },
      })
    ).body.conversation.id;
    const direct = ok(await alice.call("conversation:create", { kind: "direct", members: ["bob"] })).id;
    const visitor = await t.connect("visitor-1", { roles: ["guest"] });
    const support = ok(await visitor.call("conversation:create", { kind: "support" })).id;

    const form = new FormData();
    form.append("file", new Blob([SECRET], { type: "text/plain" }), "secret.txt");
    const upload = (await (
      await fetch(`${t.url}/v1/uploads`, { method: "POST", headers: { authorization: `Bearer ${alice.token}` }, body: form })
    ).json()) as { attachment: { id: string } };
    uploadId = upload.attachment.id;

    for (const [name, id, client] of [
      ["group", group, alice],
      ["direct", direct, alice],
      ["support", support, visitor],
    ] as const) {
      const m: Message = ok(
        await client.call("message:send", {
          conversationId: id,
          clientId: `secret-${name}`,
          text: secretOf(name),
          ...(name === "group" ? { attachments: [{ id: uploadId }], type: "file" } : {}),
        }),
      );
      if (name === "group") uploadUrl = m.attachments[0]!.url;
      targets[name] = { conversationId: id, messageId: m.id };
    }

    outsiders["non-member"] = await t.connect("eve", { name: "Eve" });
    outsiders["other issuer, same sub"] = await t.connect("alice", { iss: ISSUER.iss, secret: ISSUER.secret, name: "Alice?" });
    outsiders["operator in a group"] = await t.connect("olga", { roles: ["operator"] });
    outsiders["another guest"] = await connectWithToken(t.url, (await t.request("POST", "/v1/guests", { body: { name: "Gus" } })).body.token);
    // Each outsider watches a conversation of its own, so a presence event sent to every watcher would reach them.
    for (const [who, client] of Object.entries(outsiders)) {
      const own = ok(
        await client.call(
          "conversation:create",
          who === "another guest" ? { kind: "support" } : { kind: "direct", members: [`friend-of-${client.session.user.id}`] },
        ),
      ).id;
      ok(await client.call("conversation:open", { conversationId: own, limit: 0 }));
    }
  }, 60_000);

  afterAll(async () => {
    await t.close();
    await topology.cleanup();
  });

  /** Which conversations each outsider must not reach (operators may read support conversations). */
  const forbiddenFor = (who: string) => (who === "operator in a group" ? ["group", "direct"] : ["group", "direct", "support"]);

  function attempts(conversationId: string, messageId: string): Array<[string, Record<string, unknown>]> {
    return [
      ["conversation:open", { conversationId }],
      ["conversation:history", { conversationId }],
      ["conversation:sync", { conversationId, afterSeq: 0 }],
      ["conversation:join", { conversationId }],
      ["conversation:leave", { conversationId }],
      ["conversation:read", { conversationId, seq: 1 }],
      ["conversation:delivered", { conversationId, seq: 1 }],
      ["conversation:resolve", { conversationId }],
      ["message:send", { conversationId, clientId: `intruder-${Math.random()}`, text: "let me in" }],
      ["message:edit", { conversationId, messageId, text: "defaced" }],
      ["message:delete", { conversationId, messageId, scope: "everyone" }],
      ["message:delete", { conversationId, messageId, scope: "me" }],
      ["message:react", { conversationId, messageId, emoji: "👀", on: true }],
      ["message:get", { conversationId, messageIds: [messageId] }],
      ["typing", { conversationId, typing: true }],
    ];
  }

  it("refuses every event to outsiders and leaks nothing in the answers", async () => {
    let checked = 0;
    for (const [who, client] of Object.entries(outsiders)) {
      for (const target of forbiddenFor(who)) {
        const { conversationId, messageId } = targets[target]!;
        for (const [event, payload] of attempts(conversationId, messageId)) {
          const ack = await client.call(event, payload);
          expect(ack.ok, `${who} ${event} on ${target}`).toBe(false);
          if (!ack.ok) expect(["forbidden", "invalid_argument", "not_found"], `${who} ${event} on ${target}`).toContain(ack.error.code);
          expect(JSON.stringify(ack)).not.toContain(SECRET);
          checked++;
        }
      }
      const existingRef = await client.call("conversation:create", { kind: "group", ref: "booking:1" });
      expect(existingRef.ok).toBe(false);
      expect(JSON.stringify(existingRef)).not.toContain(SECRET);
      const inbox = JSON.stringify(ok(await client.call("conversation:list", {})));
      for (const target of forbiddenFor(who)) expect(inbox, `${who} inbox`).not.toContain(secretOf(target));
      expect(ok(await client.call("presence:get", { userIds: ["alice", "bob"] }))).toEqual(
        who === "operator in a group" ? expect.any(Array) : [],
      );
    }
    expect(checked).toBe(15 * (3 * 3 + 2));
  });

  it("refuses every endpoint to outsiders and leaks nothing", async () => {
    const { conversationId: id, messageId: mid } = targets.group!;
    const requests: Array<[string, string, unknown?]> = [
      ["GET", `/v1/conversations/${id}`],
      ["PATCH", `/v1/conversations/${id}`, { title: "mine" }],
      ["GET", `/v1/conversations/by-ref/booking%3A1`],
      ["GET", `/v1/conversations/${id}/members`],
      ["POST", `/v1/conversations/${id}/members`, { userId: "eve" }],
      ["DELETE", `/v1/conversations/${id}/members/bob`],
      ["GET", `/v1/conversations/${id}/messages`],
      ["GET", `/v1/conversations/${id}/messages?afterSeq=0`],
      ["GET", `/v1/conversations/${id}/messages/${mid}`],
      ["POST", `/v1/conversations/${id}/messages`, { text: "let me in" }],
      ["PATCH", `/v1/conversations/${id}/messages/${mid}`, { text: "defaced" }],
      ["DELETE", `/v1/conversations/${id}/messages/${mid}`],
      ["PUT", `/v1/conversations/${id}/messages/${mid}/reactions/x`],
      ["POST", `/v1/conversations/${id}/read`, { seq: 1 }],
      ["GET", `/v1/uploads/${uploadId}`],
      ["GET", `/v1/stats`],
      ["POST", `/v1/tokens`, { sub: "mallory", roles: ["admin"] }],
      ["DELETE", `/v1/users/alice`],
    ];
    const expired = await signToken("alice", { expiresIn: -30 });
    const credentials: Record<string, string> = { expired, ...Object.fromEntries(Object.entries(outsiders).map(([k, c]) => [k, c.token])) };
    for (const [who, token] of Object.entries(credentials)) {
      for (const [method, path, body] of requests) {
        const res = await t.request(method, path, { auth: token, ...(body === undefined ? {} : { body }) });
        expect([400, 401, 403, 404], `${who} ${method} ${path}`).toContain(res.status);
        if (who === "expired") expect(res.body).toMatchObject({ error: { code: "unauthenticated", details: { reason: "expired" } } });
        expect(JSON.stringify(res.body), `${who} ${method} ${path}`).not.toContain(SECRET);
      }
      const search = JSON.stringify((await t.request("GET", "/v1/search?q=booking", { auth: token })).body);
      const hidden = who === "expired" ? ["group", "direct", "support"] : forbiddenFor(who);
      for (const target of hidden) expect(search, `${who} search`).not.toContain(secretOf(target));
    }
    await expect(connectWithToken(t.url, expired)).rejects.toMatchObject({ data: { details: { reason: "expired" } } });
    // The signed URL from the message works for anyone holding it; a guessed one does not.
    expect((await fetch(t.url + uploadUrl)).status).toBe(200);
    expect((await fetch(`${t.url}/v1/uploads/${uploadId}?expires=9999999999&sig=guess`)).status).toBe(403);
  });

  it("sends outsiders no event about what they may not read, while members keep talking", async () => {
    for (const [name, target] of Object.entries(targets)) {
      const author = name === "support" ? await t.connect("visitor-1", { roles: ["guest"] }) : alice;
      ok(await author.call("message:send", { conversationId: target.conversationId, clientId: `later-${name}`, text: secretOf(name) }));
      ok(await author.call("typing", { conversationId: target.conversationId, typing: true }));
    }
    ok(await alice.call("message:edit", { ...targets.group!, text: `${secretOf("group")} (edited)` }));
    await t.request("POST", `/v1/conversations/${targets.group!.conversationId}/members`, { auth: API_KEY, body: { userId: "carl" } });

    // Members of the group and the direct conversation come and go while Alice watches both.
    for (const name of ["group", "direct"]) ok(await alice.call("conversation:open", { conversationId: targets[name]!.conversationId, limit: 0 }));
    const isPresence = (userId: string, online: boolean) => (p: { userId: string; online: boolean }) => p.userId === userId && p.online === online;
    bob.close();
    await alice.waitFor("presence", isPresence("bob", false), 10_000);
    bob = await t.connect("bob");
    await alice.waitFor("presence", isPresence("bob", true), 10_000);
    const carl = await t.connect("carl");
    await alice.waitFor("presence", isPresence("carl", true), 10_000);
    carl.close();
    await alice.waitFor("presence", isPresence("carl", false), 10_000);
    await settle(400);

    const membersOf = async (name: string): Promise<string[]> =>
      (await t.request("GET", `/v1/conversations/${targets[name]!.conversationId}/members`, { auth: API_KEY })).body.members.map(
        (m: { userId: string }) => m.userId,
      );
    const members = Object.fromEntries(await Promise.all(Object.keys(targets).map(async (name) => [name, await membersOf(name)] as const)));
    expect(members.group).toEqual(expect.arrayContaining(["alice", "bob", "carl"]));
    for (const [who, client] of Object.entries(outsiders)) {
      const forbidden = new Set(forbiddenFor(who).map((n) => targets[n]!.conversationId));
      for (const event of [
        "message:new", "message:updated", "message:deleted", "conversation:created", "conversation:updated",
        "member:joined", "member:left", "conversation:read", "conversation:delivered", "typing",
      ] as const) {
        const leaked = client.received(event).filter((e: { id?: string; conversationId?: string }) => forbidden.has(e.conversationId ?? e.id ?? ""));
        expect(leaked, `${who} got ${event}`).toEqual([]);
      }
      // Presence names no conversation: what must not arrive is the presence of people the outsider shares none with.
      const allowed = new Set(Object.keys(targets).filter((n) => !forbiddenFor(who).includes(n)).flatMap((n) => members[n]!));
      const strangers = new Set(forbiddenFor(who).flatMap((n) => members[n]!).filter((id) => !allowed.has(id)));
      expect(strangers.has("bob") && strangers.has("carl"), `${who} strangers`).toBe(true);
      const leaked = client.received("presence").filter((e: { userId: string }) => strangers.has(e.userId));
      expect(leaked, `${who} got presence`).toEqual([]);
    }
  });
});
