import { afterAll, afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Message } from "@parley/protocol";
import { backends } from "./support/backends.js";
import { topologies } from "./support/topologies.js";
import { API_KEY, ok, settle, signToken, startTestServer, type TestServer } from "./support/test-server.js";

describe.each(topologies())("read state, typing, presence and limits on $name", (topology) => {
  let t: TestServer;
  beforeEach(async () => {
    t = await topology.start();
  });
  afterEach(async () => {
    await t.close();
  });
  afterAll(() => topology.cleanup());

  async function pair() {
    const alice = await t.connect("alice", { name: "Alice" });
    const bob = await t.connect("bob", { name: "Bob" });
    const conversationId: string = ok(await alice.call("conversation:create", { kind: "direct", members: ["bob"] })).id;
    return { alice, bob, conversationId };
  }

  it("tells the sender when a message was delivered and read, and clears the reader's other tabs", async () => {
    const { alice, bob, conversationId } = await pair();
    const bobTab2 = await t.connect("bob");
    const m = ok(await alice.call("message:send", { conversationId, clientId: "r1", text: "ping" }));
    await bob.waitFor("message:new");
    ok(await bob.call("conversation:delivered", { conversationId, seq: m.seq }));
    expect(await alice.waitFor("conversation:delivered")).toEqual({ conversationId, userId: "bob", seq: m.seq });
    expect(ok(await bob.call("conversation:read", { conversationId, seq: m.seq }))).toEqual({ lastReadSeq: m.seq });
    const receipt = await alice.waitFor("conversation:read");
    expect(receipt).toMatchObject({ conversationId, userId: "bob", seq: m.seq });
    expect(receipt.at).toMatch(/Z$/);
    expect((await bobTab2.waitFor("conversation:read")).seq).toBe(m.seq);
    // Reading backwards never moves the position back.
    expect(ok(await bob.call("conversation:read", { conversationId, seq: 0 }))).toEqual({ lastReadSeq: m.seq });
    const members = ok(await alice.call("conversation:open", { conversationId })).members;
    expect(members.find((x: { userId: string }) => x.userId === "bob")).toMatchObject({ lastReadSeq: m.seq, lastDeliveredSeq: m.seq });
  });

  it("keeps read receipts in channels to the reader's own sockets", async () => {
    const id = (await t.request("POST", "/v1/conversations", { auth: API_KEY, body: { kind: "channel" } })).body.conversation.id;
    const ann = await t.connect("ann");
    const ben = await t.connect("ben");
    ok(await ann.call("conversation:open", { conversationId: id }));
    ok(await ben.call("conversation:open", { conversationId: id }));
    ok(await ben.call("conversation:join", { conversationId: id }));
    const m = ok(await ann.call("message:send", { conversationId: id, clientId: "c1", text: "hi" }));
    ok(await ben.call("conversation:read", { conversationId: id, seq: m.seq }));
    await settle();
    expect(ann.received("conversation:read")).toHaveLength(0);
    expect(ben.received("conversation:read")).toHaveLength(1);
  });

  it("shows typing to the others watching, never the typist, and ends it on send", async () => {
    const { alice, bob, conversationId } = await pair();
    const aliceTab2 = await t.connect("alice");
    ok(await bob.call("conversation:open", { conversationId, limit: 0 }));
    ok(await aliceTab2.call("conversation:open", { conversationId, limit: 0 }));
    ok(await alice.call("typing", { conversationId, typing: true }));
    expect(await bob.waitFor("typing")).toEqual({ conversationId, userId: "alice", name: "Alice", typing: true });
    ok(await alice.call("message:send", { conversationId, clientId: "t1", text: "done typing" }));
    expect(await bob.waitFor("typing", (e) => e.typing === false)).toMatchObject({ userId: "alice" });
    await settle();
    expect(aliceTab2.received("typing")).toHaveLength(0);
    const eve = await t.connect("eve");
    expect(await eve.call("typing", { conversationId, typing: true })).toMatchObject({ ok: false, error: { code: "forbidden" } });
  });

  it("expires a typing indicator 6 s after the last typing: true", async () => {
    const { alice, bob, conversationId } = await pair();
    ok(await bob.call("conversation:open", { conversationId, limit: 0 }));
    ok(await alice.call("typing", { conversationId, typing: true }));
    await bob.waitFor("typing", (e) => e.typing === true);
    const started = Date.now();
    await new Promise((r) => setTimeout(r, 2000));
    ok(await alice.call("typing", { conversationId, typing: true }));
    const stopped = await bob.waitFor("typing", (e) => e.typing === false, 10_000);
    const elapsed = Date.now() - started;
    expect(stopped.userId).toBe("alice");
    // Renewed at 2 s, so it ends about 8 s after the first one, not 6.
    expect(elapsed).toBeGreaterThan(7500);
    expect(elapsed).toBeLessThan(9500);
    expect(bob.received("typing").filter((e) => e.typing === true)).toHaveLength(1);
  }, 15_000);

  it("ends a typing indicator at once when the typist's last socket goes", async () => {
    const { alice, bob, conversationId } = await pair();
    ok(await bob.call("conversation:open", { conversationId, limit: 0 }));
    ok(await alice.call("typing", { conversationId, typing: true }));
    await bob.waitFor("typing", (e) => e.typing === true);
    const started = Date.now();
    alice.socket.io.engine.close();
    await bob.waitFor("typing", (e) => e.typing === false, 3000);
    expect(Date.now() - started).toBeLessThan(1500);
  });

  it("tells a direct partner of a user's presence without the conversation open (their inbox shows the dot); a group's members only when watching", async () => {
    const carol = await t.connect("carol");
    const direct = ok(await carol.call("conversation:create", { kind: "direct", members: ["dan"] }));
    const group = await t.request("POST", "/v1/conversations", { auth: API_KEY, body: { kind: "group", members: ["carol", "erin", "dan"] } });
    expect(group.status).toBe(201);
    const erin = await t.connect("erin");
    // Neither has opened anything.
    const dan = await t.connect("dan");
    await expect.poll(() => carol.received("presence").some((e) => e.userId === "dan" && e.online === true), { timeout: 10_000 }).toBe(true);
    dan.close();
    await expect.poll(() => carol.received("presence").some((e) => e.userId === "dan" && e.online === false), { timeout: 10_000 }).toBe(true);
    // Erin shares only the group with Dan and is not watching it: she hears nothing.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(erin.received("presence").filter((e) => e.userId === "dan")).toEqual([]);
    expect(direct.kind).toBe("direct");
  });

  it("shows a user online across tabs and offline with lastSeenAt when the last tab goes", async () => {
    const { alice, conversationId } = await pair();
    ok(await alice.call("conversation:open", { conversationId, limit: 0 }));
    const bob2 = await t.connect("bob");
    const bob3 = await t.connect("bob");
    expect(ok(await alice.call("presence:get", { userIds: ["bob", "stranger"] }))).toEqual([
      { userId: "bob", online: true, lastSeenAt: expect.any(String) },
    ]);
    // Disconnect every one of Bob's sockets, on whichever node it is.
    t.server.gateway.io.in("user:bob").disconnectSockets(true);
    const offline = await alice.waitFor("presence", (e) => e.userId === "bob" && e.online === false);
    expect(offline).toMatchObject({ userId: "bob", online: false });
    expect(Date.parse(offline.lastSeenAt)).toBeGreaterThan(Date.now() - 5000);
    expect(alice.received("presence").filter((e) => e.userId === "bob" && e.online === false)).toHaveLength(1);
    const seenBefore = alice.received("presence").length;
    const back = await t.connect("bob");
    await expect
      .poll(() => alice.received("presence").slice(seenBefore).some((e) => e.userId === "bob" && e.online === true))
      .toBe(true);
    expect(ok(await alice.call("presence:get", { userIds: ["bob"] }))[0].online).toBe(true);
    back.close();
    bob2.close();
    bob3.close();
  });

  it("stores the name of each of many users connecting at once, a new name on reconnect, and when each was last seen", async () => {
    const crowdIds = Array.from({ length: 12 }, (_, i) => `crowd${i}`);
    const created = await t.request("POST", "/v1/conversations", { auth: API_KEY, body: { kind: "group", members: ["watcher", ...crowdIds] } });
    expect(created.status).toBe(201);
    const conversationId: string = created.body.conversation.id;
    const watcher = await t.connect("watcher", { name: "Watcher" });
    ok(await watcher.call("conversation:open", { conversationId, limit: 0 }));
    const names = async () =>
      new Map(
        ok(await watcher.call("conversation:open", { conversationId, limit: 0 })).members.map((m: { userId: string; name: string }) => [
          m.userId,
          m.name,
        ]),
      );

    const crowd = await Promise.all(crowdIds.map((id) => t.connect(id, { name: `Person ${id}` })));
    expect(await names()).toEqual(new Map([["watcher", "Watcher"], ...crowdIds.map((id): [string, string] => [id, `Person ${id}`])]));

    // Two more tabs of one of them at once, each token with another name: both connect, one name is stored.
    const tabs = await Promise.all([t.connect("crowd0", { name: "Tab A" }), t.connect("crowd0", { name: "Tab B" })]);
    expect(["Tab A", "Tab B"]).toContain((await names()).get("crowd0"));
    for (const tab of tabs) tab.close();

    // All of them leave at once: each one's going offline is stored, as the event said.
    for (const socket of crowd) socket.close();
    await expect
      .poll(() => new Set(watcher.received("presence").filter((e) => e.online === false).map((e) => e.userId)).size, { timeout: 10_000 })
      .toBe(crowdIds.length);
    const told = new Map(
      watcher
        .received("presence")
        .filter((e) => e.online === false)
        .map((e) => [e.userId, e.lastSeenAt]),
    );
    const stored = ok(await watcher.call("presence:get", { userIds: crowdIds }));
    expect(stored).toHaveLength(crowdIds.length);
    for (const p of stored) {
      expect(typeof told.get(p.userId), p.userId).toBe("string");
      expect(p).toEqual({ userId: p.userId, online: false, lastSeenAt: told.get(p.userId) });
    }

    const renamed = await t.connect("crowd3", { name: "Someone Else" });
    expect((await names()).get("crowd3")).toBe("Someone Else");
    renamed.close();
  });

  it("limits sends per user, storing nothing over the limit, on sockets and REST", async () => {
    // A burst of 20 that refills slowly, so the count does not depend on how fast this machine is.
    await t.close();
    t = await topology.start({ rateMessages: "0.1/s,20" });
    const { alice, conversationId } = await pair();
    const results = await Promise.all(
      Array.from({ length: 25 }, (_, i) => alice.call("message:send", { conversationId, clientId: `burst-${i}`, text: `${i}` })),
    );
    const limited = results.filter((r) => !r.ok);
    expect(results.filter((r) => r.ok)).toHaveLength(20);
    expect(limited).toHaveLength(5);
    for (const r of limited) {
      expect(r).toMatchObject({ ok: false, error: { code: "rate_limited" } });
      expect(r.error.details?.retryAfterMs).toBeGreaterThan(0);
    }
    const history = ok(await alice.call("conversation:history", { conversationId, limit: 200 }));
    expect(history.messages).toHaveLength(20);
    const rest = await t.request("POST", `/v1/conversations/${conversationId}/messages`, { auth: alice.token, body: { text: "more" } });
    expect(rest.status).toBe(429);
    expect(rest.body.error.code).toBe("rate_limited");
    expect(Number(rest.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    // A retry of a message that was stored is still a success.
    const stored = history.messages[0] as Message;
    expect(ok(await alice.call("message:send", { conversationId, clientId: stored.clientId, text: stored.text }))).toMatchObject({ id: stored.id });
  });

  it("disconnects a socket that floods events far over the limit", async () => {
    const { alice, bob, conversationId } = await pair();
    const gone = new Promise<string>((resolve) => alice.socket.once("disconnect", resolve));
    for (let i = 0; i < 400; i++) alice.socket.emit("typing", { conversationId, typing: i % 2 === 0 }, () => {});
    expect(await gone).toBe("io server disconnect");
    expect(bob.socket.connected).toBe(true);
    expect(ok(await bob.call("conversation:history", { conversationId })).messages).toHaveLength(0);
  });

  it("expires a session when its token runs out, unless refreshed first", async () => {
    const short = await t.connect("carol", { expiresIn: 2 });
    const refreshed = await t.connect("dave", { expiresIn: 2 });
    const fresh = await signToken("dave", { expiresIn: 3600 });
    const answer = ok(await refreshed.call("auth:refresh", { token: fresh }));
    expect(Date.parse(answer.expiresAt)).toBeGreaterThan(Date.now() + 3500_000);
    const other = await signToken("mallory", { expiresIn: 3600 });
    expect(await refreshed.call("auth:refresh", { token: other })).toMatchObject({ ok: false, error: { code: "forbidden" } });
    expect(await refreshed.call("auth:refresh", { token: "junk" })).toMatchObject({
      ok: false,
      error: { code: "unauthenticated", details: { reason: "invalid" } },
    });
    await short.waitFor("session:expired", () => true, 5000);
    await new Promise((r) => setTimeout(r, 200));
    expect(short.socket.connected).toBe(false);
    expect(refreshed.socket.connected).toBe(true);
    expect(refreshed.received("session:expired")).toHaveLength(0);
  }, 10_000);
});

describe("metrics", () => {
  const [sqlite] = backends();
  afterAll(() => sqlite!.cleanup());

  it("exposes connections, events, stored messages and request timings in Prometheus text", async () => {
    const t = await startTestServer(await sqlite!.create());
    try {
      const alice = await t.connect("alice");
      const id = ok(await alice.call("conversation:create", { kind: "direct", members: ["bob"] })).id;
      ok(await alice.call("message:send", { conversationId: id, clientId: "m1", text: "hi" }));
      await alice.call("message:send", { conversationId: id, clientId: "m2", text: "" });
      await t.request("GET", "/health");
      const res = await fetch(`${t.url}/metrics`);
      expect(res.headers.get("content-type")).toMatch(/^text\/plain/);
      const text = await res.text();
      expect(text).toMatch(/^parley_socket_connections 1$/m);
      expect(text).toMatch(/^parley_messages_stored_total 1$/m);
      expect(text).toMatch(/^parley_socket_events_total\{event="message:send",outcome="ok"\} 1$/m);
      expect(text).toMatch(/^parley_socket_events_total\{event="message:send",outcome="invalid_argument"\} 1$/m);
      expect(text).toMatch(/^parley_socket_event_seconds_count\{event="message:send"\} 2$/m);
      expect(text).toMatch(/^parley_http_request_seconds_count\{method="GET",route="\/health",status="200"\} 1$/m);
      expect(text).toMatch(/^parley_webhooks_pending 0$/m);
    } finally {
      await t.close();
    }
  });
});
