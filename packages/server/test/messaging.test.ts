import { afterAll, afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Message } from "@parley/protocol";
import { topologies } from "./support/topologies.js";
import { API_KEY, ok, settle, signToken, type TestServer } from "./support/test-server.js";

describe.each(topologies())("messaging on $name", (topology) => {
  let t: TestServer;

  beforeEach(async () => {
    t = await topology.start();
  });
  afterEach(async () => {
    await t.close();
  });
  afterAll(() => topology.cleanup());

  async function direct(a: string, b: string) {
    const alice = await t.connect(a, { name: a.toUpperCase() });
    const conversation = ok(await alice.call("conversation:create", { kind: "direct", members: [b] }));
    return { alice, conversation };
  }

  it("creates one direct conversation per pair, whoever creates it", async () => {
    const { conversation } = await direct("alice", "bob");
    const bob = await t.connect("bob");
    const again = ok(await bob.call("conversation:create", { kind: "direct", members: ["alice"] }));
    expect(again.id).toBe(conversation.id);
    expect(conversation).toMatchObject({ kind: "direct", status: "open", lastSeq: 0, metadata: {} });
    expect(conversation.createdAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  });

  it("delivers a stored message once to every socket of every member, and never to others", async () => {
    const { alice, conversation } = await direct("alice", "bob");
    const aliceTab2 = await t.connect("alice");
    const bob = await t.connect("bob");
    const bobTab2 = await t.connect("bob");
    const eve = await t.connect("eve");

    const sent: Message = ok(await alice.call("message:send", { conversationId: conversation.id, clientId: "c1", text: "Hi Bob" }));
    expect(sent).toMatchObject({ seq: 1, revSeq: 1, senderId: "alice", senderName: "ALICE", type: "text", text: "Hi Bob", clientId: "c1" });

    for (const client of [alice, aliceTab2, bob, bobTab2]) {
      const got = await client.waitFor("message:new", (m: Message) => m.id === sent.id);
      expect(got.text).toBe("Hi Bob");
    }
    await settle();
    for (const client of [alice, aliceTab2, bob, bobTab2]) {
      expect(client.received("message:new").filter((m: Message) => m.id === sent.id)).toHaveLength(1);
    }
    expect(eve.received("message:new")).toHaveLength(0);
  });

  it("acknowledges, delivers and later pages the very same message, every field as stored", async () => {
    const { alice, conversation } = await direct("alice", "bob");
    const bob = await t.connect("bob");
    const metadata = { orderId: 42, tags: ["urgent", "café"], nested: { ok: true, none: null } };
    const sent: Message = ok(
      await alice.call("message:send", { conversationId: conversation.id, clientId: "exact", text: "Prêt à 14 h ✓", metadata }),
    );
    expect(sent).toMatchObject({ text: "Prêt à 14 h ✓", metadata, attachments: [], reactions: {}, replyTo: null, editedAt: null });
    const delivered = await bob.waitFor("message:new", (m: Message) => m.id === sent.id);
    const page = ok(await bob.call("conversation:history", { conversationId: conversation.id }));
    const synced = ok(await bob.call("conversation:sync", { conversationId: conversation.id, afterSeq: 0 }));
    expect(delivered).toEqual(sent);
    expect(page.messages).toEqual([sent]);
    expect(synced.messages).toEqual([sent]);
  });

  it("treats a retried send with the same clientId as the same message", async () => {
    const { alice, conversation } = await direct("alice", "bob");
    const bob = await t.connect("bob");
    const first = ok(await alice.call("message:send", { conversationId: conversation.id, clientId: "same", text: "once" }));
    const retry = ok(await alice.call("message:send", { conversationId: conversation.id, clientId: "same", text: "once" }));
    expect(retry.id).toBe(first.id);
    const concurrent = await Promise.all(
      [1, 2, 3, 4].map(() => alice.call("message:send", { conversationId: conversation.id, clientId: "race", text: "x" })),
    );
    const ids = new Set(concurrent.map((a) => ok(a).id));
    expect(ids.size).toBe(1);
    await settle();
    const page = ok(await bob.call("conversation:history", { conversationId: conversation.id }));
    expect(page.messages.map((m: Message) => m.text)).toEqual(["once", "x"]);
    expect(bob.received("message:new")).toHaveLength(2);
  });

  it("pages history newest-first by seq and syncs everything changed after a seq", async () => {
    const { alice, conversation } = await direct("alice", "bob");
    for (let i = 1; i <= 7; i++) {
      ok(await alice.call("message:send", { conversationId: conversation.id, clientId: `m${i}`, text: `m${i}` }));
    }
    const newest = ok(await alice.call("conversation:history", { conversationId: conversation.id, limit: 3 }));
    expect(newest.messages.map((m: Message) => m.text)).toEqual(["m5", "m6", "m7"]);
    expect(newest.hasMore).toBe(true);
    const older = ok(
      await alice.call("conversation:history", { conversationId: conversation.id, beforeSeq: newest.messages[0].seq, limit: 3 }),
    );
    expect(older.messages.map((m: Message) => m.text)).toEqual(["m2", "m3", "m4"]);
    const oldest = ok(
      await alice.call("conversation:history", { conversationId: conversation.id, beforeSeq: older.messages[0].seq, limit: 3 }),
    );
    expect(oldest).toMatchObject({ hasMore: false });
    expect(oldest.messages.map((m: Message) => m.text)).toEqual(["m1"]);

    const m3 = older.messages[1] as Message;
    ok(await alice.call("message:edit", { conversationId: conversation.id, messageId: m3.id, text: "m3 edited" }));
    const sync = ok(await alice.call("conversation:sync", { conversationId: conversation.id, afterSeq: 6 }));
    expect(sync.messages.map((m: Message) => m.text)).toEqual(["m7", "m3 edited"]);
    expect(sync.lastSeq).toBe(8);
    expect(sync.hasMore).toBe(false);
    const paged = ok(await alice.call("conversation:sync", { conversationId: conversation.id, afterSeq: 0, limit: 5 }));
    expect(paged.hasMore).toBe(true);
    const rest = ok(
      await alice.call("conversation:sync", { conversationId: conversation.id, afterSeq: paged.messages[4].revSeq, limit: 5 }),
    );
    expect([...paged.messages, ...rest.messages].map((m: Message) => m.text)).toEqual([
      "m1", "m2", "m4", "m5", "m6", "m7", "m3 edited",
    ]);
  });

  it("edits by the sender only, deletes for everyone as a tombstone and for me only for me", async () => {
    const { alice, conversation } = await direct("alice", "bob");
    const bob = await t.connect("bob");
    // Alice watches the conversation too: a "delete for me" must still not reach her.
    ok(await alice.call("conversation:open", { conversationId: conversation.id }));
    const msg = ok(await alice.call("message:send", { conversationId: conversation.id, clientId: "e1", text: "typo" }));
    const byBob = await bob.call("message:edit", { conversationId: conversation.id, messageId: msg.id, text: "hacked" });
    expect(byBob).toMatchObject({ ok: false, error: { code: "forbidden" } });
    const edited = ok(await alice.call("message:edit", { conversationId: conversation.id, messageId: msg.id, text: "fixed" }));
    expect(edited.editedAt).not.toBeNull();
    expect(edited.revSeq).toBeGreaterThan(edited.seq);
    expect((await bob.waitFor("message:updated")).text).toBe("fixed");

    const bobDeletes = await bob.call("message:delete", { conversationId: conversation.id, messageId: msg.id, scope: "everyone" });
    expect(bobDeletes).toMatchObject({ ok: false, error: { code: "forbidden" } });

    const other = ok(await alice.call("message:send", { conversationId: conversation.id, clientId: "e2", text: "for bob's eyes" }));
    await bob.waitFor("message:new", (m: Message) => m.id === other.id);
    expect(ok(await bob.call("message:delete", { conversationId: conversation.id, messageId: other.id, scope: "me" }))).toBeNull();
    const hiddenEvent = await bob.waitFor("message:deleted", (m: Message) => m.id === other.id);
    expect(hiddenEvent).toMatchObject({ hidden: true, text: null });
    await settle();
    expect(alice.received("message:deleted")).toHaveLength(0);
    const bobHistory = ok(await bob.call("conversation:history", { conversationId: conversation.id }));
    expect(bobHistory.messages.map((m: Message) => m.id)).not.toContain(other.id);
    const aliceHistory = ok(await alice.call("conversation:history", { conversationId: conversation.id }));
    expect(aliceHistory.messages.map((m: Message) => m.text)).toContain("for bob's eyes");
    // Alice edits it later: Bob, who hid it, is not sent its new text.
    ok(await alice.call("message:edit", { conversationId: conversation.id, messageId: other.id, text: "edited after bob hid it" }));
    await alice.waitFor("message:updated", (m: Message) => m.text === "edited after bob hid it");
    await settle();
    expect(bob.received("message:updated").filter((m: Message) => m.id === other.id)).toHaveLength(0);

    const tombstone = ok(await alice.call("message:delete", { conversationId: conversation.id, messageId: msg.id, scope: "everyone" }));
    expect(tombstone).toMatchObject({ id: msg.id, text: null, attachments: [] });
    expect(tombstone.deletedAt).not.toBeNull();
    expect((await bob.waitFor("message:deleted", (m: Message) => m.id === msg.id)).deletedAt).not.toBeNull();
  });

  it("gives a member the messages asked for by id, as stored, never those they hid or of another conversation", async () => {
    const { alice, conversation } = await direct("alice", "bob");
    const bob = await t.connect("bob");
    const send = async (clientId: string, text: string) =>
      ok(await alice.call("message:send", { conversationId: conversation.id, clientId, text })) as Message;
    const first = await send("g1", "the original");
    const second = await send("g2", "hidden by bob");
    const edited = ok(await alice.call("message:edit", { conversationId: conversation.id, messageId: first.id, text: "the original, edited" }));
    ok(await bob.call("message:delete", { conversationId: conversation.id, messageId: second.id, scope: "me" }));
    const elsewhere = ok(await alice.call("conversation:create", { kind: "direct", members: ["carol"] }));
    const foreign = ok(await alice.call("message:send", { conversationId: elsewhere.id, clientId: "g3", text: "not here" })) as Message;

    const asked = { conversationId: conversation.id, messageIds: [second.id, first.id, foreign.id, "no-such-id", first.id] };
    expect(ok(await bob.call("message:get", asked)).messages).toEqual([edited]);
    const forAlice = ok(await alice.call("message:get", asked)).messages as Message[];
    expect(forAlice.map((m) => m.text)).toEqual(["the original, edited", "hidden by bob"]);

    const carol = await t.connect("carol");
    expect(await carol.call("message:get", { conversationId: conversation.id, messageIds: [first.id] })).toMatchObject({
      ok: false,
      error: { code: "forbidden" },
    });
    for (const bad of [{ conversationId: conversation.id, messageIds: [] }, { conversationId: conversation.id, messageIds: "x" }, { conversationId: conversation.id }]) {
      expect(await bob.call("message:get", bad)).toMatchObject({ ok: false, error: { code: "invalid_argument" } });
    }

    const rest = (messageId: string, user: string) =>
      t.request("GET", `/v1/conversations/${conversation.id}/messages/${messageId}`, { auth: API_KEY, actAs: user });
    expect(await rest(first.id, "bob")).toMatchObject({ status: 200, body: { message: edited } });
    expect(await rest(second.id, "bob")).toMatchObject({ status: 404, body: { error: { code: "not_found" } } });
    expect(await rest(foreign.id, "alice")).toMatchObject({ status: 404, body: { error: { code: "not_found" } } });
    expect(await rest(first.id, "carol")).toMatchObject({ status: 403, body: { error: { code: "forbidden" } } });
  });

  it("creates a group by API with a ref once, even under concurrent creates, and refuses another kind", async () => {
    const body = { kind: "group", ref: "booking:42", members: ["user:7", "bartender:7"], title: "Booking 42" };
    const results = await Promise.all([1, 2, 3, 4, 5].map(() => t.request("POST", "/v1/conversations", { auth: API_KEY, body })));
    const ids = new Set(results.map((r) => r.body.conversation.id));
    expect(ids.size).toBe(1);
    expect(results.map((r) => r.status).sort()).toEqual([200, 200, 200, 200, 201]);
    expect(results[0]!.body.members.map((m: { userId: string }) => m.userId).sort()).toEqual(["bartender:7", "user:7"]);
    const other = await t.request("POST", "/v1/conversations", { auth: API_KEY, body: { kind: "channel", ref: "booking:42" } });
    expect(other.status).toBe(409);
    expect(other.body.error.code).toBe("conflict");
    const byRef = await t.request("GET", "/v1/conversations/by-ref/booking%3A42", { auth: API_KEY });
    expect(byRef.body.conversation.id).toBe([...ids][0]);
  });

  it("shows a message sent through REST live to the members' sockets", async () => {
    const { conversation } = await direct("alice", "bob");
    const bob = await t.connect("bob");
    const res = await t.request("POST", `/v1/conversations/${conversation.id}/messages`, {
      auth: API_KEY,
      actAs: "alice",
      body: { text: "from the back end", clientId: "rest-1" },
    });
    expect(res.status).toBe(201);
    expect(res.body.message.senderId).toBe("alice");
    const live = await bob.waitFor("message:new");
    expect(live).toMatchObject({ id: res.body.message.id, text: "from the back end", senderId: "alice" });
    const retry = await t.request("POST", `/v1/conversations/${conversation.id}/messages`, {
      auth: API_KEY,
      actAs: "alice",
      body: { text: "from the back end", clientId: "rest-1" },
    });
    expect(retry.status).toBe(200);
    expect(retry.body.message.id).toBe(res.body.message.id);
    const history = await t.request("GET", `/v1/conversations/${conversation.id}/messages`, { auth: await signToken("bob") });
    expect(history.body.messages).toHaveLength(1);
  });

  it("lets a moderator join a group later, read the whole history and post, with a system message", async () => {
    const created = await t.request("POST", "/v1/conversations", {
      auth: API_KEY,
      body: { kind: "group", ref: "dispute:9", members: ["customer", "provider"] },
    });
    const id = created.body.conversation.id;
    const customer = await t.connect("customer", { name: "Cara" });
    ok(await customer.call("message:send", { conversationId: id, clientId: "d1", text: "The job was not done" }));
    const stranger = await t.connect("stranger");
    expect(await stranger.call("conversation:join", { conversationId: id })).toMatchObject({ ok: false, error: { code: "forbidden" } });

    const sam = await t.connect("sam", { name: "Sam", roles: ["moderator"] });
    const joined = ok(await sam.call("conversation:join", { conversationId: id }));
    expect(joined.member).toMatchObject({ userId: "sam", role: "moderator" });
    const opened = ok(await sam.call("conversation:open", { conversationId: id }));
    expect(opened.messages.map((m: Message) => m.text)).toEqual(["The job was not done", "Sam (moderator) joined"]);
    expect(opened.messages[1]).toMatchObject({ type: "system", senderId: "sam" });
    expect((await customer.waitFor("member:joined")).member.userId).toBe("sam");

    ok(await sam.call("message:send", { conversationId: id, clientId: "s1", text: "I will look into it" }));
    expect((await customer.waitFor("message:new", (m: Message) => m.senderId === "sam" && m.type === "text")).text).toBe(
      "I will look into it",
    );
    ok(await customer.call("conversation:leave", { conversationId: id }));
    const after = ok(await sam.call("conversation:history", { conversationId: id }));
    expect(after.messages.at(-1)).toMatchObject({ type: "system", text: "Cara left" });
    expect(await customer.call("conversation:history", { conversationId: id })).toMatchObject({ ok: false, error: { code: "forbidden" } });
  });

  it("refuses sends to a closed conversation and accepts them again once reopened", async () => {
    const { alice, conversation } = await direct("alice", "bob");
    const closed = await t.request("PATCH", `/v1/conversations/${conversation.id}`, { auth: API_KEY, body: { status: "closed" } });
    expect(closed.body.conversation.status).toBe("closed");
    const refused = await alice.call("message:send", { conversationId: conversation.id, clientId: "x", text: "hello?" });
    expect(refused).toMatchObject({ ok: false, error: { code: "conflict" } });
    await t.request("PATCH", `/v1/conversations/${conversation.id}`, { auth: API_KEY, body: { status: "open" } });
    ok(await alice.call("message:send", { conversationId: conversation.id, clientId: "x", text: "hello?" }));
  });

  it("sends channel messages to sockets watching the channel; posting joins", async () => {
    const created = await t.request("POST", "/v1/conversations", { auth: API_KEY, body: { kind: "channel", title: "General" } });
    const id = created.body.conversation.id;
    const ann = await t.connect("ann");
    const ben = await t.connect("ben");
    const cal = await t.connect("cal");
    ok(await ben.call("conversation:open", { conversationId: id, limit: 0 }));
    const sent = ok(await ann.call("message:send", { conversationId: id, clientId: "ch1", text: "hello all" }));
    expect((await ben.waitFor("message:new")).id).toBe(sent.id);
    await settle();
    expect(cal.received("message:new")).toHaveLength(0);
    const members = await t.request("GET", `/v1/conversations/${id}/members`, { auth: API_KEY });
    expect(members.body.members.map((m: { userId: string }) => m.userId)).toEqual(["ann"]);
    const guest = await t.connect("visitor1", { roles: ["guest"] });
    expect(await guest.call("conversation:open", { conversationId: id })).toMatchObject({ ok: false, error: { code: "forbidden" } });
  });

  it("sends a channel's messages to every socket of its members, open or not, from their joining to their leaving", async () => {
    const id = (await t.request("POST", "/v1/conversations", { auth: API_KEY, body: { kind: "channel", title: "Town square" } })).body.conversation.id;
    const dan = await t.connect("dan");
    ok(await dan.call("message:send", { conversationId: id, clientId: "d1", text: "posting joins" }));
    // A member's later connection takes the channel's events from its session on; a joiner's every socket from the join.
    const danLater = await t.connect("dan");
    const ann = await t.connect("ann");
    const annOther = await t.connect("ann");
    ok(await ann.call("conversation:join", { conversationId: id }));
    await annOther.waitFor("member:joined", (e: { member: { userId: string } }) => e.member.userId === "ann");
    const cal = await t.connect("cal");
    const pia = await t.connect("pia");
    const hello = ok(await pia.call("message:send", { conversationId: id, clientId: "p1", text: "hello members" }));
    for (const socket of [danLater, ann, annOther]) expect((await socket.waitFor("message:new", (m: Message) => m.id === hello.id)).text).toBe("hello members");
    // Channels keep no delivery state: a report changes nothing.
    expect(await danLater.call("conversation:delivered", { conversationId: id, seq: hello.seq })).toMatchObject({ ok: true });
    const danMember = (await t.request("GET", `/v1/conversations/${id}/members`, { auth: API_KEY })).body.members.find(
      (m: { userId: string }) => m.userId === "dan",
    );
    expect(danMember.lastDeliveredSeq).toBe(0);
    const edited = ok(await pia.call("message:edit", { conversationId: id, messageId: hello.id, text: "hello, members" }));
    expect((await danLater.waitFor("message:updated", (m: Message) => m.id === hello.id)).revSeq).toBe(edited.revSeq);

    ok(await ann.call("conversation:leave", { conversationId: id }));
    await annOther.waitFor("member:left", (e: { member: { userId: string } }) => e.member.userId === "ann");
    const after = ok(await pia.call("message:send", { conversationId: id, clientId: "p2", text: "after ann left" }));
    await danLater.waitFor("message:new", (m: Message) => m.id === after.id);
    await settle();
    for (const socket of [ann, annOther]) expect(socket.received("message:new").map((m: Message) => m.text)).toEqual(["hello members"]);
    expect(cal.received("message:new")).toHaveLength(0);
    // Typing stays with those who opened the channel.
    ok(await pia.call("typing", { conversationId: id, typing: true }));
    await settle();
    expect(danLater.received("typing")).toHaveLength(0);
  });

  it("shows support conversations to every operator, who become members by answering", async () => {
    const visitor = await t.connect("v1", { name: "Visitor", roles: ["guest"] });
    const op1 = await t.connect("op1", { name: "Olga", roles: ["operator"] });
    const op2 = await t.connect("op2", { name: "Omar", roles: ["operator"] });
    const conv = ok(await visitor.call("conversation:create", { kind: "support", title: "Help" }));
    expect((await op1.waitFor("conversation:created")).id).toBe(conv.id);
    ok(await visitor.call("message:send", { conversationId: conv.id, clientId: "v-1", text: "Is anyone there?" }));
    await op2.waitFor("message:new");
    const inbox = ok(await op2.call("conversation:list", {}));
    expect(inbox.conversations[0]).toMatchObject({ id: conv.id, unreadCount: 1, lastMessage: { text: "Is anyone there?" } });
    ok(await op1.call("message:send", { conversationId: conv.id, clientId: "o-1", text: "Hi, I am Olga" }));
    const reply = await visitor.waitFor("message:new", (m: Message) => m.type === "text" && m.senderId === "op1");
    expect(reply.senderName).toBe("Olga");
    await op2.waitFor("message:new", (m: Message) => m.senderId === "op1" && m.type === "text");
    const members = ok(await visitor.call("conversation:open", { conversationId: conv.id })).members.map((m: { userId: string }) => m.userId);
    expect(members.sort()).toEqual(["op1", "v1"]);
    const other = await t.connect("v2", { roles: ["guest"] });
    expect(await other.call("conversation:open", { conversationId: conv.id })).toMatchObject({ ok: false, error: { code: "forbidden" } });
  });

  it("lists the inbox by last activity with unread counts and pages it with a cursor", async () => {
    const alice = await t.connect("alice");
    const ids: string[] = [];
    for (const other of ["b1", "b2", "b3"]) {
      ids.push(ok(await alice.call("conversation:create", { kind: "direct", members: [other] })).id);
    }
    const b1 = await t.connect("b1");
    ok(await b1.call("message:send", { conversationId: ids[0], clientId: "u1", text: "one" }));
    ok(await b1.call("message:send", { conversationId: ids[0], clientId: "u2", text: "two" }));
    const first = ok(await alice.call("conversation:list", { limit: 2 }));
    expect(first.conversations.map((c: { id: string }) => c.id)).toEqual([ids[0], ids[2]]);
    expect(first.conversations[0]).toMatchObject({ unreadCount: 2, lastMessage: { text: "two" } });
    expect(first.conversations[0].members.map((m: { userId: string }) => m.userId).sort()).toEqual(["alice", "b1"]);
    const second = ok(await alice.call("conversation:list", { limit: 2, cursor: first.nextCursor }));
    expect(second.conversations.map((c: { id: string }) => c.id)).toEqual([ids[1]]);
    expect(second.nextCursor).toBeNull();
    ok(await alice.call("conversation:read", { conversationId: ids[0], seq: 2 }));
    const rest = await t.request("GET", "/v1/conversations?limit=1", { auth: alice.token });
    expect(rest.body.conversations[0]).toMatchObject({ id: ids[0], unreadCount: 0 });
    const again = await t.connect("alice");
    expect(again.session.conversations.find((c) => c.id === ids[0])).toEqual({ id: ids[0], lastSeq: 2, unread: 0, lastReadSeq: 2 });
    expect(first.conversations[0].lastReadSeq).toBe(0);
  });

  it("gives each of many users connecting at once their own conversations, newest first, with their unread counts", async () => {
    // A chain u0–u1–…–u5: u_i opens a conversation with u_{i+1} and says i + 1 things in it.
    const users = ["u0", "u1", "u2", "u3", "u4", "u5"];
    const convs: string[] = [];
    for (let i = 0; i < users.length - 1; i++) {
      const me = await t.connect(users[i]!);
      const conv = ok(await me.call("conversation:create", { kind: "direct", members: [users[i + 1]!] })).id;
      for (let n = 0; n <= i; n++) ok(await me.call("message:send", { conversationId: conv, clientId: `c${i}-${n}`, text: `${n}` }));
      convs.push(conv);
      me.close();
      // Each conversation's activity is later than the one before.
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    const sessions = await Promise.all(users.map((u) => t.connect(u)));
    sessions.forEach((client, i) => {
      const expected = [];
      // Their conversation with the next user is newer; they said everything in it.
      if (i < users.length - 1) expected.push({ id: convs[i], lastSeq: i + 1, unread: 0, lastReadSeq: i + 1 });
      // In the one with the previous user, all of it is unread.
      if (i > 0) expected.push({ id: convs[i - 1], lastSeq: i, unread: i, lastReadSeq: 0 });
      expect(client.session.conversations).toEqual(expected);
    });
  });
});
