import { afterAll, afterEach, beforeEach, describe, expect, it } from "vitest";
import { ackDataSchemas, serverEventSchemas, type ClientEventName, type ServerEventName } from "@parley/protocol";
import { topologies } from "./support/topologies.js";
import { ok, settle, signToken, type ConnectedClient, type TestServer } from "./support/test-server.js";

/**
 * Every acknowledgement and every event a real server sends, in a session
 * that uses every client→server event, must match the protocol package's
 * schemas: a payload that drifts from what clients are typed against fails
 * here, not in a user's browser.
 */
describe.each(topologies())("the wire matches the protocol's schemas on $name", (topology) => {
  let t: TestServer;
  beforeEach(async () => {
    t = await topology.start({ guests: true });
  });
  afterEach(async () => {
    await t.close();
  });
  afterAll(() => topology.cleanup());

  it("answers every client event and sends every server event in the documented shape", async () => {
    const acks: Array<{ event: ClientEventName; data: unknown }> = [];
    const call = async (client: ConnectedClient, event: ClientEventName, payload: unknown) => {
      const data = ok(await client.call(event, payload));
      acks.push({ event, data });
      return data;
    };
    const alice = await t.connect("alice", { name: "Alice" });
    const bob = await t.connect("bob", { name: "Bob" });
    const mod = await t.connect("mod", { name: "Mo", roles: ["moderator", "operator"] });

    const direct = await call(alice, "conversation:create", { kind: "direct", members: ["bob"] });
    await call(bob, "conversation:open", { conversationId: direct.id });
    await call(alice, "conversation:open", { conversationId: direct.id });
    await call(alice, "typing", { conversationId: direct.id, typing: true });
    const sent = await call(alice, "message:send", { conversationId: direct.id, clientId: "c1", text: "Hello" });
    await call(bob, "conversation:delivered", { conversationId: direct.id, seq: sent.seq });
    await call(bob, "conversation:read", { conversationId: direct.id, seq: sent.seq });
    await call(alice, "message:edit", { conversationId: direct.id, messageId: sent.id, text: "Hello!" });
    await call(bob, "message:react", { conversationId: direct.id, messageId: sent.id, emoji: "👍", on: true });
    const second = await call(alice, "message:send", { conversationId: direct.id, clientId: "c2", text: "oops" });
    await call(alice, "message:delete", { conversationId: direct.id, messageId: second.id, scope: "everyone" });
    await call(bob, "message:delete", { conversationId: direct.id, messageId: sent.id, scope: "me" });
    await call(alice, "conversation:history", { conversationId: direct.id });
    await call(alice, "message:get", { conversationId: direct.id, messageIds: [sent.id] });
    await call(alice, "conversation:sync", { conversationId: direct.id, afterSeq: 0 });
    await call(alice, "conversation:list", {});
    await call(alice, "presence:get", { userIds: ["bob"] });

    // A global moderator joins a dispute and leaves it: Alice, a member, is told both.
    const admin = await t.connect("admin", { roles: ["admin"] });
    const dispute = ok(await admin.call("conversation:create", { kind: "group", title: "Dispute", members: ["alice", "bob"] }));
    await call(mod, "conversation:join", { conversationId: dispute.id });
    await call(mod, "conversation:leave", { conversationId: dispute.id });
    await alice.waitFor("member:left", (e: { conversationId: string }) => e.conversationId === dispute.id);
    const support = await call(bob, "conversation:create", { kind: "support", title: "Help" });
    await call(bob, "message:send", { conversationId: support.id, clientId: "s1", text: "Help please" });
    await call(mod, "conversation:resolve", { conversationId: support.id });
    await call(alice, "auth:refresh", { token: await signToken("alice", { name: "Alice" }) });

    // Bob goes: Alice, watching their conversation, is told he is offline.
    bob.close();
    await alice.waitFor("presence", (p: { userId: string; online: boolean }) => p.userId === "bob" && !p.online, 10_000);
    await call(alice, "conversation:close", { conversationId: direct.id });
    await settle(300);

    expect(new Set(acks.map((a) => a.event))).toEqual(new Set(Object.keys(ackDataSchemas)));
    for (const { event, data } of acks) {
      const parsed = ackDataSchemas[event].safeParse(data);
      expect(parsed.success, `${event} ack: ${parsed.error?.message}`).toBe(true);
    }

    const seen = new Set<ServerEventName>();
    for (const client of [alice, bob, mod]) {
      for (const event of Object.keys(serverEventSchemas) as ServerEventName[]) {
        const payloads: unknown[] = event === "session" ? [client.session] : client.received(event);
        for (const payload of payloads) {
          seen.add(event);
          const parsed = serverEventSchemas[event].safeParse(payload);
          expect(parsed.success, `${event}: ${parsed.error?.message}`).toBe(true);
        }
      }
    }
    // Every event but session:expired (its own suite waits for a token to run out) came by.
    expect([...seen].sort()).toEqual(Object.keys(serverEventSchemas).filter((e) => e !== "session:expired").sort());
  });
});
