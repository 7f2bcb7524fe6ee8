import { afterAll, afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Message } from "@parley/protocol";
import { topologies } from "./support/topologies.js";
import { API_KEY, ok, signToken, type TestServer } from "./support/test-server.js";

/** Where the rules of who may do what meet: moderators, operators, direct pairs, system notices, erasure. */
describe.each(topologies())("access at the edges on $name", (topology) => {
  let t: TestServer;

  beforeEach(async () => {
    t = await topology.start();
  });
  afterEach(async () => {
    await t.close();
  });
  afterAll(() => topology.cleanup());

  async function group(members: string[]): Promise<string> {
    const created = await t.request("POST", "/v1/conversations", { auth: API_KEY, body: { kind: "group", members } });
    expect(created.status).toBe(201);
    return created.body.conversation.id as string;
  }

  it("lets a global moderator react only where they are a member: not in a direct or a group they have not joined", async () => {
    const alice = await t.connect("alice");
    const direct = ok(await alice.call("conversation:create", { kind: "direct", members: ["bob"] }));
    const inDirect: Message = ok(await alice.call("message:send", { conversationId: direct.id, clientId: "d1", text: "hi bob" }));
    const groupId = await group(["alice", "bob"]);
    const inGroup: Message = ok(await alice.call("message:send", { conversationId: groupId, clientId: "g1", text: "the job" }));
    const sam = await t.connect("sam", { name: "Sam", roles: ["moderator"] });
    const samToken = await signToken("sam", { roles: ["moderator"] });

    for (const [conversationId, message] of [
      [direct.id, inDirect],
      [groupId, inGroup],
    ] as const) {
      const refused = await sam.call("message:react", { conversationId, messageId: message.id, emoji: "👀", on: true });
      expect(refused).toMatchObject({ ok: false, error: { code: "forbidden" } });
      const rest = await t.request("PUT", `/v1/conversations/${conversationId}/messages/${message.id}/reactions/${encodeURIComponent("👀")}`, {
        auth: samToken,
      });
      expect(rest.status).toBe(403);
      expect(rest.body.message).toBeUndefined();
      // Nothing written: the message is as it was.
      const history = ok(await alice.call("conversation:history", { conversationId }));
      expect(history.messages.at(-1)).toMatchObject({ id: message.id, revSeq: message.seq, reactions: {} });
    }

    // Once in the group (a moderator may join it), they react like any member.
    ok(await sam.call("conversation:join", { conversationId: groupId }));
    const reacted = ok(await sam.call("message:react", { conversationId: groupId, messageId: inGroup.id, emoji: "👀", on: true }));
    expect(reacted.reactions).toEqual({ "👀": ["sam"] });
  });

  it("answers a ref of a conversation the caller may not read exactly as a ref that names nothing", async () => {
    await t.request("POST", "/v1/conversations", { auth: API_KEY, body: { kind: "group", ref: "booking:77", members: ["alice", "bob"] } });
    const eve = await signToken("eve");
    const existing = await t.request("GET", "/v1/conversations/by-ref/booking%3A77", { auth: eve });
    const missing = await t.request("GET", "/v1/conversations/by-ref/booking%3A78", { auth: eve });
    expect(existing.status).toBe(404);
    expect(missing.status).toBe(404);
    expect(existing.body.error.code).toBe(missing.body.error.code);
    expect(existing.body.error.message.replace("77", "78")).toBe(missing.body.error.message);
    // A member still finds it.
    const found = await t.request("GET", "/v1/conversations/by-ref/booking%3A77", { auth: await signToken("alice") });
    expect(found.status).toBe(200);
    expect(found.body.members.map((m: { userId: string }) => m.userId).sort()).toEqual(["alice", "bob"]);
  });

  it("keeps both members in a direct conversation: leaving it is refused on the socket as over REST", async () => {
    const alice = await t.connect("alice");
    const bob = await t.connect("bob");
    const direct = ok(await alice.call("conversation:create", { kind: "direct", members: ["bob"] }));
    const left = await bob.call("conversation:leave", { conversationId: direct.id });
    expect(left).toMatchObject({ ok: false, error: { code: "invalid_argument", message: "A direct conversation always has its two members" } });
    const members = await t.request("GET", `/v1/conversations/${direct.id}/members`, { auth: API_KEY });
    expect(members.body.members.map((m: { userId: string }) => m.userId).sort()).toEqual(["alice", "bob"]);
    // The pair still works both ways.
    expect(ok(await bob.call("conversation:create", { kind: "direct", members: ["alice"] })).id).toBe(direct.id);
    ok(await bob.call("message:send", { conversationId: direct.id, clientId: "b1", text: "still here" }));
    expect(ok(await alice.call("conversation:history", { conversationId: direct.id })).messages.map((m: Message) => m.text)).toEqual([
      "still here",
    ]);
  });

  it("answers a direct create whose pair exists under another ref with a conflict naming it, never a second conversation or a 500", async () => {
    const create = (body: unknown) => t.request("POST", "/v1/conversations", { auth: API_KEY, body });
    const first = await create({ kind: "direct", members: ["alice", "bob"] });
    expect(first.status).toBe(201);
    const id = first.body.conversation.id;

    // The pair exists without a ref: asked for under one, the answer says which conversation the pair has.
    const underRef = await create({ kind: "direct", members: ["bob", "alice"], ref: "dm:alice-bob" });
    expect(underRef.status).toBe(409);
    expect(underRef.body.error).toMatchObject({ code: "conflict", details: { conversationId: id, ref: null } });
    // Without a ref, it is the same conversation again.
    const again = await create({ kind: "direct", members: ["bob", "alice"] });
    expect(again.status).toBe(200);
    expect(again.body.conversation.id).toBe(id);

    // A pair created under a ref: the same ref, or none, finds it; another ref is a conflict.
    const carol = await create({ kind: "direct", members: ["carol", "dave"], ref: "dm:carol-dave" });
    expect(carol.status).toBe(201);
    expect((await create({ kind: "direct", members: ["dave", "carol"], ref: "dm:carol-dave" })).body.conversation.id).toBe(carol.body.conversation.id);
    expect((await create({ kind: "direct", members: ["dave", "carol"] })).body.conversation.id).toBe(carol.body.conversation.id);
    const otherRef = await create({ kind: "direct", members: ["carol", "dave"], ref: "dm:other" });
    expect(otherRef.status).toBe(409);
    expect(otherRef.body.error.details).toMatchObject({ conversationId: carol.body.conversation.id, ref: "dm:carol-dave" });

    // A ref that names another pair's conversation is not this pair's.
    const taken = await create({ kind: "direct", members: ["alice", "erin"], ref: "dm:carol-dave" });
    expect(taken.status).toBe(409);
    expect(taken.body.error.code).toBe("conflict");

    const count = await t.server.storage.db
      .selectFrom("conversations")
      .select((eb) => eb.fn.countAll().as("n"))
      .executeTakeFirstOrThrow();
    expect(Number(count.n)).toBe(2);
  });

  it("counts the visitor's messages as unread for operators in a support conversation the host opened, and keeps an operator's read position when they join", async () => {
    // The host opens it for its visitor: one member, the visitor.
    const twoMembers = await t.request("POST", "/v1/conversations", { auth: API_KEY, body: { kind: "support", members: ["vic", "olivia"] } });
    expect(twoMembers.status).toBe(400);
    const opened = await t.request("POST", "/v1/conversations", { auth: API_KEY, body: { kind: "support", members: ["vic"], title: "Order 7" } });
    expect(opened.status).toBe(201);
    const id = opened.body.conversation.id;
    const vic = await t.connect("vic", { name: "Vic" });
    ok(await vic.call("message:send", { conversationId: id, clientId: "v1", text: "my order is late" }));
    ok(await vic.call("message:send", { conversationId: id, clientId: "v2", text: "order 7" }));

    const olivia = await t.connect("olivia", { name: "Olivia", roles: ["operator"] });
    const unreadOf = async () =>
      (ok(await olivia.call("conversation:list", { kind: "support" })).conversations as Array<{ id: string; unreadCount: number; lastReadSeq: number }>).find(
        (c) => c.id === id,
      )!;
    expect((await unreadOf()).unreadCount).toBe(2);

    // She reads the first as a non-member, then joins: her position stays where she left it.
    ok(await olivia.call("conversation:read", { conversationId: id, seq: 1 }));
    expect(await unreadOf()).toMatchObject({ unreadCount: 1, lastReadSeq: 1 });
    const joined = ok(await olivia.call("conversation:join", { conversationId: id }));
    expect(joined.member).toMatchObject({ userId: "olivia", lastReadSeq: 1 });
    expect(await unreadOf()).toMatchObject({ unreadCount: 1, lastReadSeq: 1 });

    // Another operator who answers is announced as an operator, as one who joins is.
    const oscar = await t.connect("oscar", { name: "Oscar", roles: ["operator"] });
    ok(await oscar.call("message:send", { conversationId: id, clientId: "o1", text: "Looking into it" }));
    const texts = ok(await vic.call("conversation:history", { conversationId: id })).messages.map((m: Message) => m.text);
    expect(texts).toEqual(["my order is late", "order 7", "Olivia (operator) joined", "Oscar (operator) joined", "Looking into it"]);
  });

  it("keeps a system notice from being deleted by the one it names; an admin may remove it", async () => {
    const id = await group(["alice", "bob"]);
    const sam = await t.connect("sam", { name: "Sam", roles: ["moderator"] });
    ok(await sam.call("conversation:join", { conversationId: id }));
    const notice: Message = ok(await sam.call("conversation:history", { conversationId: id })).messages.at(-1);
    expect(notice).toMatchObject({ type: "system", text: "Sam (moderator) joined", senderId: "sam" });

    const refused = await sam.call("message:delete", { conversationId: id, messageId: notice.id, scope: "everyone" });
    expect(refused).toMatchObject({ ok: false, error: { code: "forbidden" } });
    const alice = await t.connect("alice");
    expect(ok(await alice.call("conversation:history", { conversationId: id })).messages.at(-1)).toMatchObject({
      id: notice.id,
      text: "Sam (moderator) joined",
      deletedAt: null,
    });
    // Hiding it from oneself is anyone's right.
    expect(ok(await sam.call("message:delete", { conversationId: id, messageId: notice.id, scope: "me" }))).toBeNull();

    const removed = await t.request("DELETE", `/v1/conversations/${id}/messages/${notice.id}?scope=everyone`, { auth: API_KEY });
    expect(removed.status).toBe(200);
    expect(removed.body.message).toMatchObject({ id: notice.id, text: null });
    expect(removed.body.message.deletedAt).not.toBeNull();
  });

  it("disconnects an erased user's sockets, and a later token of theirs starts a new user", async () => {
    const alice = await t.connect("alice");
    const erin = await t.connect("erin", { name: "Erin" });
    const direct = ok(await alice.call("conversation:create", { kind: "direct", members: ["erin"] }));
    ok(await erin.call("message:send", { conversationId: direct.id, clientId: "e1", text: "bye" }));
    const gone = new Promise<string>((resolve) => erin.socket.once("disconnect", (reason) => resolve(reason)));
    const erased = await t.request("DELETE", "/v1/users/erin", { auth: API_KEY });
    expect(erased.status).toBe(204);
    expect(await gone).toBe("io server disconnect");

    const before = Date.now();
    const again = await t.connect("erin", { name: "Erin" });
    expect(again.session.conversations).toEqual([]);
    const me = await t.request("GET", "/v1/me", { auth: again.token });
    expect(me.body.user.id).toBe("erin");
    expect(Date.parse(me.body.user.createdAt)).toBeGreaterThanOrEqual(before - 1000);
  });
});
