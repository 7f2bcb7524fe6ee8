import { afterAll, afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Message } from "@parley/protocol";
import { topologies } from "./support/topologies.js";
import { SignJWT } from "jose";
import { API_KEY, connectWithToken, JWT_SECRET, ok, type TestServer } from "./support/test-server.js";

describe.each(topologies())("search, support desk, stats, guests and erasure on $name", (topology) => {
  let t: TestServer;
  beforeEach(async () => {
    t = await topology.start({ guests: true });
  });
  afterEach(async () => {
    await t.close();
  });
  afterAll(() => topology.cleanup());

  it("searches only what the caller may read, newest first, with snippets", async () => {
    const alice = await t.connect("alice");
    const mine = ok(await alice.call("conversation:create", { kind: "direct", members: ["bob"] })).id;
    const theirs = (await t.request("POST", "/v1/conversations", { auth: API_KEY, body: { kind: "direct", members: ["carl", "dina"] } })).body
      .conversation.id;
    ok(await alice.call("message:send", { conversationId: mine, clientId: "1", text: "The invoice for March is attached" }));
    ok(await alice.call("message:send", { conversationId: mine, clientId: "2", text: "Lunch tomorrow?" }));
    const later = ok(await alice.call("message:send", { conversationId: mine, clientId: "3", text: "Second INVOICE, sorry" }));
    await t.request("POST", `/v1/conversations/${theirs}/messages`, { auth: API_KEY, actAs: "carl", body: { text: "secret invoice" } });
    const hidden = ok(await alice.call("message:send", { conversationId: mine, clientId: "4", text: "invoice I hid" }));
    ok(await alice.call("message:delete", { conversationId: mine, messageId: hidden.id, scope: "me" }));

    const res = await t.request("GET", "/v1/search?q=invoice", { auth: alice.token });
    expect(res.status).toBe(200);
    expect(res.body.results.map((r: { message: Message }) => r.message.text)).toEqual([
      "Second INVOICE, sorry",
      "The invoice for March is attached",
    ]);
    expect(res.body.results[0].message.id).toBe(later.id);
    expect(res.body.results[1].snippet).toContain("**invoice**");
    const paged = await t.request("GET", "/v1/search?q=invoice&limit=1", { auth: alice.token });
    const next = await t.request("GET", `/v1/search?q=invoice&limit=1&cursor=${paged.body.nextCursor}`, { auth: alice.token });
    expect(next.body.results[0].message.text).toBe("The invoice for March is attached");
    expect((await t.request("GET", `/v1/search?q=invoice&conversationId=${theirs}`, { auth: alice.token })).status).toBe(403);
    const odd = await t.request("GET", `/v1/search?q=${encodeURIComponent('"NEAR( -lunch* OR')}`, { auth: alice.token });
    expect(odd.status).toBe(200);
    // Nothing but quotes: no word to look for, so no hits rather than an error.
    for (const q of ['"', '"" ""', ' " ']) {
      const quotes = await t.request("GET", `/v1/search?q=${encodeURIComponent(q)}`, { auth: alice.token });
      expect(quotes.status, q).toBe(200);
      expect(quotes.body, q).toEqual({ results: [], nextCursor: null });
    }
    const quoted = await t.request("GET", `/v1/search?q=${encodeURIComponent('"invoice"')}`, { auth: alice.token });
    expect(quoted.body.results.map((r: { message: Message }) => r.message.text)).toEqual([
      "Second INVOICE, sorry",
      "The invoice for March is attached",
    ]);
  });

  it("runs the support desk: a guest opens, two operators see it unread, one answers, the other sees the answer", async () => {
    const minted = await t.request("POST", "/v1/guests", { body: { name: "Vera Visitor" } });
    expect(minted.status).toBe(201);
    const visitor = await connectWithToken(t.url, minted.body.token);
    expect(visitor.session.user).toMatchObject({ id: minted.body.userId, name: "Vera Visitor", roles: ["guest"] });
    const op1 = await t.connect("op1", { name: "Olga", roles: ["operator"] });
    const op2 = await t.connect("op2", { name: "Omar", roles: ["operator"] });

    const conv = ok(await visitor.call("conversation:create", { kind: "support", title: "Order 1234" }));
    ok(await visitor.call("message:send", { conversationId: conv.id, clientId: "v1", text: "My order is late" }));
    ok(await visitor.call("message:send", { conversationId: conv.id, clientId: "v2", text: "Hello?" }));
    for (const op of [op1, op2]) {
      const inbox = ok(await op.call("conversation:list", { kind: "support" }));
      expect(inbox.conversations[0]).toMatchObject({ id: conv.id, unreadCount: 2, lastMessage: { text: "Hello?" } });
    }
    // Olga reads without joining; her badge clears, Omar's stays.
    ok(await op1.call("conversation:read", { conversationId: conv.id, seq: conv.lastSeq + 2 }));
    expect(ok(await op1.call("conversation:list", {})).conversations[0].unreadCount).toBe(0);
    expect(ok(await op2.call("conversation:list", {})).conversations[0].unreadCount).toBe(2);

    ok(await op1.call("message:send", { conversationId: conv.id, clientId: "o1", text: "Sorry! It ships today." }));
    const seen = await op2.waitFor("message:new", (m: Message) => m.senderId === "op1" && m.type === "text");
    expect(seen.senderName).toBe("Olga");
    const reply = await visitor.waitFor("message:new", (m: Message) => m.senderId === "op1" && m.type === "text");
    expect(reply.senderName).toBe("Olga");
    // Operator messages do not count as unread for other operators; the visitor's do.
    expect(ok(await op2.call("conversation:list", {})).conversations[0].unreadCount).toBe(2);
    expect(ok(await op1.call("conversation:list", {})).conversations[0].unreadCount).toBe(0);

    const resolved = ok(await op2.call("conversation:resolve", { conversationId: conv.id }));
    expect(resolved.status).toBe("closed");
    expect((await visitor.waitFor("conversation:updated")).status).toBe("closed");
    expect(await visitor.call("message:send", { conversationId: conv.id, clientId: "v3", text: "thanks" })).toMatchObject({
      ok: false,
      error: { code: "conflict" },
    });
    const history = ok(await visitor.call("conversation:history", { conversationId: conv.id }));
    expect(history.messages.filter((m: Message) => m.type === "text").map((m: Message) => m.text)).toEqual([
      "My order is late",
      "Hello?",
      "Sorry! It ships today.",
    ]);
    // A guest sees only their own support conversations.
    const stranger = await connectWithToken(t.url, (await t.request("POST", "/v1/guests", { body: { name: "Sly" } })).body.token);
    expect(await stranger.call("conversation:open", { conversationId: conv.id })).toMatchObject({ error: { code: "forbidden" } });
    expect(ok(await stranger.call("conversation:list", {})).conversations).toHaveLength(0);
  });

  it("pages an operator's inbox through their own conversations and every support conversation, newest first, each once", async () => {
    const op = await t.connect("op", { name: "Olga", roles: ["operator"] });
    const expected: string[] = [];
    for (let i = 0; i < 7; i++) {
      if (i % 3 === 0) {
        // A conversation of her own (not support) between the visitors' chats.
        const own = ok(await op.call("conversation:create", { kind: "direct", members: [`friend${i}`] }));
        ok(await op.call("message:send", { conversationId: own.id, clientId: `own${i}`, text: `own ${i}` }));
        expected.unshift(own.id);
      } else {
        const visitor = await t.connect(`visitor${i}`);
        const chat = ok(await visitor.call("conversation:create", { kind: "support" }));
        ok(await visitor.call("message:send", { conversationId: chat.id, clientId: `v${i}`, text: `help ${i}` }));
        expected.unshift(chat.id);
      }
      await new Promise((r) => setTimeout(r, 5));
    }
    const seen: string[] = [];
    let cursor: string | undefined;
    for (let pages = 0; pages < 10; pages++) {
      const page = ok(await op.call("conversation:list", { limit: 2, ...(cursor ? { cursor } : {}) }));
      seen.push(...page.conversations.map((c: { id: string }) => c.id));
      if (!page.nextCursor) break;
      cursor = page.nextCursor;
    }
    expect(seen).toEqual(expected);
    const supportOnly = ok(await op.call("conversation:list", { kind: "support", limit: 50 }));
    expect(supportOnly.conversations.map((c: { id: string }) => c.id)).toEqual(expected.filter((_, i) => (6 - i) % 3 !== 0));
    expect(supportOnly.conversations.every((c: { unreadCount: number }) => c.unreadCount === 1)).toBe(true);
  });

  it("renews a visitor's guest token, even expired, for the same visitor and their conversation; never another's token", async () => {
    const first = await t.request("POST", "/v1/guests", { body: { name: "Rita Return" } });
    expect(first.status).toBe(201);
    const visitor = await connectWithToken(t.url, first.body.token);
    const conversation = ok(await visitor.call("conversation:create", { kind: "support" }));
    ok(await visitor.call("message:send", { conversationId: conversation.id, clientId: "r1", text: "my parcel is lost" }));
    visitor.close();

    const renewed = await t.request("POST", "/v1/guests", { body: { name: "Rita Return", renew: first.body.token } });
    expect(renewed.status).toBe(201);
    expect(renewed.body.userId).toBe(first.body.userId);
    const back = await t.request("GET", `/v1/conversations/${conversation.id}/messages`, { auth: renewed.body.token });
    expect(back.body.messages.map((m: Message) => m.text)).toEqual(["my parcel is lost"]);

    // Expired a day ago (signed by this server): still the same visitor.
    const key = new TextEncoder().encode(JWT_SECRET);
    const guestToken = (sub: string, expOffset: number, roles = ["guest"], secret = key) =>
      new SignJWT({ name: "Rita Return", roles })
        .setProtectedHeader({ alg: "HS256" })
        .setIssuer("parley")
        .setSubject(sub)
        .setIssuedAt(Math.floor(Date.now() / 1000) + expOffset - 86400)
        .setExpirationTime(Math.floor(Date.now() / 1000) + expOffset)
        .sign(secret);
    const dayOld = await t.request("POST", "/v1/guests", { body: { name: "Rita", renew: await guestToken(first.body.userId, -86400) } });
    expect(dayOld.status).toBe(201);
    expect(dayOld.body.userId).toBe(first.body.userId);

    // Refused: expired more than 30 days ago, not a guest's, another server's, not a token.
    const refusals = [
      await guestToken(first.body.userId, -31 * 86400),
      await guestToken("alice", 3600, []),
      await guestToken(first.body.userId, 3600, ["guest"], new TextEncoder().encode("another-servers-secret-0123456789")),
      "not-a-token",
    ];
    for (const renew of refusals) {
      const refused = await t.request("POST", "/v1/guests", { body: { name: "Rita", renew } });
      expect(refused.status).toBe(401);
      expect(refused.body.error).toMatchObject({ code: "unauthenticated", details: { reason: "invalid" } });
    }
  });

  it("refuses guest tokens when guests are off and limits them per address", async () => {
    const results = await Promise.all(Array.from({ length: 12 }, () => t.request("POST", "/v1/guests", { body: { name: "G" } })));
    expect(results.filter((r) => r.status === 201)).toHaveLength(10);
    expect(results.filter((r) => r.status === 429)).toHaveLength(2);
    const off = await topology.start({ guests: false });
    try {
      const res = await off.request("POST", "/v1/guests", { body: { name: "G" } });
      expect(res.status).toBe(403);
    } finally {
      await off.close();
    }
  });

  it("reacts idempotently per user, over sockets and REST", async () => {
    const alice = await t.connect("alice");
    const bob = await t.connect("bob");
    const id = ok(await alice.call("conversation:create", { kind: "direct", members: ["bob"] })).id;
    const m = ok(await alice.call("message:send", { conversationId: id, clientId: "r", text: "party?" }));
    ok(await bob.call("message:react", { conversationId: id, messageId: m.id, emoji: "👍", on: true }));
    const twice = ok(await bob.call("message:react", { conversationId: id, messageId: m.id, emoji: "👍", on: true }));
    expect(twice.reactions).toEqual({ "👍": ["bob"] });
    const rest = await t.request("PUT", `/v1/conversations/${id}/messages/${m.id}/reactions/${encodeURIComponent("👍")}`, {
      auth: alice.token,
    });
    expect(rest.body.message.reactions).toEqual({ "👍": ["bob", "alice"] });
    expect((await bob.waitFor("message:updated", (u: Message) => u.reactions["👍"]?.length === 2)).id).toBe(m.id);
    const removed = await t.request("DELETE", `/v1/conversations/${id}/messages/${m.id}/reactions/${encodeURIComponent("👍")}`, {
      auth: bob.token,
    });
    expect(removed.body.message.reactions).toEqual({ "👍": ["alice"] });
    const reply = ok(await bob.call("message:send", { conversationId: id, clientId: "rp", text: "yes!", replyTo: m.id }));
    expect(reply.replyTo).toBe(m.id);
    expect(await bob.call("message:send", { conversationId: id, clientId: "rp2", text: "?", replyTo: "nope" })).toMatchObject({
      error: { code: "invalid_argument" },
    });
  });

  it("tells the inbox where the caller's own last message has got to: sent, delivered, read by everyone", async () => {
    const alice = await t.connect("alice");
    const bob = await t.connect("bob");
    const carl = await t.connect("carl");
    const statusOf = async (who: typeof alice, id: string) =>
      ok(await who.call("conversation:list", {})).conversations.find((c: { id: string }) => c.id === id).lastMessageStatus;

    const direct = ok(await alice.call("conversation:create", { kind: "direct", members: ["bob"] })).id;
    const hi = ok(await alice.call("message:send", { conversationId: direct, clientId: "s1", text: "hi" }));
    expect(await statusOf(alice, direct)).toBe("sent");
    expect(await statusOf(bob, direct)).toBeNull();
    ok(await bob.call("conversation:delivered", { conversationId: direct, seq: hi.seq }));
    expect(await statusOf(alice, direct)).toBe("delivered");
    ok(await bob.call("conversation:read", { conversationId: direct, seq: hi.seq }));
    expect(await statusOf(alice, direct)).toBe("read");

    const group = (await t.request("POST", "/v1/conversations", { auth: API_KEY, body: { kind: "group", members: ["alice", "bob", "carl"] } })).body
      .conversation.id;
    const all = ok(await alice.call("message:send", { conversationId: group, clientId: "s2", text: "all of you" }));
    ok(await bob.call("conversation:read", { conversationId: group, seq: all.seq }));
    expect(await statusOf(alice, group)).toBe("sent");
    ok(await carl.call("conversation:read", { conversationId: group, seq: all.seq }));
    expect(await statusOf(alice, group)).toBe("read");

    const channel = (await t.request("POST", "/v1/conversations", { auth: API_KEY, body: { kind: "channel" } })).body.conversation.id;
    ok(await alice.call("message:send", { conversationId: channel, clientId: "s3", text: "anyone?" }));
    expect(await statusOf(alice, channel)).toBeNull();
  });

  it("takes reaction names that look like object properties as plain names, and refuses __proto__", async () => {
    const alice = await t.connect("alice");
    const id = ok(await alice.call("conversation:create", { kind: "direct", members: ["bob"] })).id;
    const m = ok(await alice.call("message:send", { conversationId: id, clientId: "p", text: "hi" }));
    for (const emoji of ["valueOf", "constructor", "toString"]) {
      const removedFirst = ok(await alice.call("message:react", { conversationId: id, messageId: m.id, emoji, on: false }));
      expect(Object.keys(removedFirst.reactions)).not.toContain(emoji);
      ok(await alice.call("message:react", { conversationId: id, messageId: m.id, emoji, on: true }));
    }
    // As a key of a message's reactions, __proto__ would not survive every way out (REST's answer dropped it): not a reaction.
    const proto = await alice.call("message:react", { conversationId: id, messageId: m.id, emoji: "__proto__", on: true });
    expect(proto).toMatchObject({ ok: false, error: { code: "invalid_argument" } });
    const protoRest = await t.request("PUT", `/v1/conversations/${id}/messages/${m.id}/reactions/__proto__`, { auth: alice.token });
    expect(protoRest.status).toBe(400);

    const expected = [
      ["constructor", ["alice"]],
      ["toString", ["alice"]],
      ["valueOf", ["alice"]],
    ];
    const history = ok(await alice.call("conversation:history", { conversationId: id }));
    expect(Object.entries(history.messages.find((x: Message) => x.id === m.id)!.reactions).sort()).toEqual(expected);
    const rest = await t.request("GET", `/v1/conversations/${id}/messages`, { auth: alice.token });
    expect(Object.entries(rest.body.messages.find((x: Message) => x.id === m.id)!.reactions).sort()).toEqual(expected);
  });

  it("lets a newcomer to a channel read its history without counting it as unread", async () => {
    const channel = (await t.request("POST", "/v1/conversations", { auth: API_KEY, body: { kind: "channel", title: "General" } })).body.conversation
      .id;
    for (const n of [1, 2, 3]) {
      await t.request("POST", `/v1/conversations/${channel}/messages`, { auth: API_KEY, actAs: "old-timer", body: { text: `before ${n}` } });
    }
    const newcomer = await t.connect("newcomer");
    ok(await newcomer.call("conversation:join", { conversationId: channel }));
    const inbox = ok(await newcomer.call("conversation:list", {}));
    expect(inbox.conversations.find((c: { id: string }) => c.id === channel)).toMatchObject({ unreadCount: 0, lastMessage: { text: "before 3" } });
    const history = ok(await newcomer.call("conversation:history", { conversationId: channel }));
    expect(history.messages.map((m: Message) => m.text)).toEqual(["before 1", "before 2", "before 3"]);

    // What is said after they joined is unread, and counted at their next connect too.
    await t.request("POST", `/v1/conversations/${channel}/messages`, { auth: API_KEY, actAs: "old-timer", body: { text: "after" } });
    const later = await t.connect("newcomer");
    expect(later.session.conversations.find((c) => c.id === channel)).toMatchObject({ unread: 1 });
  });

  it("lists the open channels anyone may join, with member counts and whether the caller joined, but not to guests", async () => {
    const create = async (title: string) =>
      (await t.request("POST", "/v1/conversations", { auth: API_KEY, body: { kind: "channel", title } })).body.conversation.id as string;
    const general = await create("General");
    const random = await create("Random");
    const archived = await create("Archived");
    await t.request("PATCH", `/v1/conversations/${archived}`, { auth: API_KEY, body: { status: "closed" } });
    await t.request("POST", `/v1/conversations/${general}/messages`, { auth: API_KEY, actAs: "ann", body: { text: "hello" } });
    const bo = await t.connect("bo");
    ok(await bo.call("conversation:join", { conversationId: random }));

    // General had the latest message, so it comes first; the closed channel is not listed.
    const first = await t.request("GET", "/v1/channels?limit=1", { auth: bo.token });
    expect(first.status).toBe(200);
    expect(first.body.channels).toEqual([
      expect.objectContaining({ conversation: expect.objectContaining({ id: general, title: "General" }), memberCount: 1, joined: false }),
    ]);
    const second = await t.request("GET", `/v1/channels?limit=1&cursor=${first.body.nextCursor}`, { auth: bo.token });
    expect(second.body.channels).toEqual([expect.objectContaining({ conversation: expect.objectContaining({ id: random }), memberCount: 1, joined: true })]);
    expect(second.body.nextCursor).toBeNull();

    const guest = await t.request("POST", "/v1/guests", { body: { name: "Gil" } });
    expect((await t.request("GET", "/v1/channels", { auth: guest.body.token })).body).toMatchObject({ error: { code: "forbidden" } });
    expect((await t.request("GET", "/v1/channels")).status).toBe(401);
  });

  it("tells a visitor how many operators are online, and nothing more", async () => {
    const guest = await t.request("POST", "/v1/guests", { body: { name: "Gil" } });
    const ask = async () => (await t.request("GET", "/v1/support/availability", { auth: guest.body.token })).body;
    expect(await ask()).toEqual({ operatorsOnline: 0 });
    // With guests on, a visitor may ask before they have a token (the pre-chat form).
    expect((await t.request("GET", "/v1/support/availability")).body).toEqual({ operatorsOnline: 0 });
    const op = await t.connect("op-avail", { name: "Olga", roles: ["operator"] });
    await t.connect("not-an-operator");
    expect(await ask()).toEqual({ operatorsOnline: 1 });
    op.close();
    for (let i = 0; i < 50 && (await ask()).operatorsOnline !== 0; i++) await new Promise((r) => setTimeout(r, 100));
    expect(await ask()).toEqual({ operatorsOnline: 0 });
  });

  it("counts messages and conversations for admins only", async () => {
    const channel = (await t.request("POST", "/v1/conversations", { auth: API_KEY, body: { kind: "channel" } })).body.conversation.id;
    for (const who of ["a", "b", "c"]) {
      await t.request("POST", `/v1/conversations/${channel}/messages`, { auth: API_KEY, actAs: who, body: { text: `hi from ${who}` } });
    }
    // "c joined" in a group is a system note, not a message anyone wrote: it counts nowhere.
    const group = (await t.request("POST", "/v1/conversations", { auth: API_KEY, body: { kind: "group", members: ["a", "b"] } })).body.conversation.id;
    expect((await t.request("POST", `/v1/conversations/${group}/members`, { auth: API_KEY, body: { userId: "c" } })).status).toBe(201);
    const stats = await t.request("GET", "/v1/stats", { auth: API_KEY });
    expect(stats.body.totals).toEqual({ messages: 3, users: 3, conversations: { direct: 0, group: 1, channel: 1, support: 0 } });
    expect(stats.body.messagesPerDay).toEqual([{ day: new Date().toISOString().slice(0, 10), count: 3 }]);
    const user = await t.connect("a");
    expect((await t.request("GET", "/v1/stats", { auth: user.token })).status).toBe(403);
  });

  it("erases a user: tombstones, departures and uploads gone, others unaffected", async () => {
    const group = (
      await t.request("POST", "/v1/conversations", { auth: API_KEY, body: { kind: "group", members: ["keep", "gone"] } })
    ).body.conversation.id;
    const keep = await t.connect("keep");
    const gone = await t.connect("gone", { name: "Gone Person" });
    ok(await gone.call("message:send", { conversationId: group, clientId: "g1", text: "my secret" }));
    ok(await keep.call("message:send", { conversationId: group, clientId: "k1", text: "kept" }));
    const form = new FormData();
    form.append("file", new Blob(["notes"], { type: "text/plain" }), "n.txt");
    await fetch(`${t.url}/v1/uploads`, { method: "POST", headers: { authorization: `Bearer ${gone.token}` }, body: form });

    expect((await t.request("DELETE", "/v1/users/gone", { auth: keep.token })).status).toBe(403);
    expect((await t.request("DELETE", "/v1/users/gone", { auth: API_KEY })).status).toBe(204);
    const tomb = await keep.waitFor("message:deleted");
    expect(tomb).toMatchObject({ senderId: "gone", senderName: "Deleted user", text: null });
    expect((await keep.waitFor("member:left")).member.userId).toBe("gone");
    const history = ok(await keep.call("conversation:history", { conversationId: group })).messages;
    expect(history.map((m: Message) => m.text)).toEqual([null, "kept"]);
    expect(await t.server.storage.db.selectFrom("uploads").selectAll().execute()).toHaveLength(0);
    expect((await t.request("GET", "/v1/conversations/" + group + "/members", { auth: API_KEY })).body.members.map((m: { userId: string }) => m.userId)).toEqual([
      "keep",
    ]);
    expect((await t.request("DELETE", "/v1/users/nobody", { auth: API_KEY })).status).toBe(404);
  });
});
