import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { Message } from "@parley/protocol";
import {
  API_KEY,
  Fleet,
  directConversation,
  eventually,
  restSend,
  serverHistory,
  shown,
  sleep,
  startNode,
  statusIs,
  watchInvariants,
  type Node,
} from "./support/harness.js";

/** `seq:text` as the SDK shows it, for comparing with the server's history. */
const asShown = (messages: Message[]) => messages.map((m) => `${m.seq}:${m.text ?? "<deleted>"}`);

describe("resync after a lost connection", () => {
  let node: Node;
  const fleet = new Fleet();

  beforeAll(async () => {
    // Tests here send hundreds of messages as fast as they can.
    node = await startNode({ rateMessages: "2000/s,2000" });
  });
  afterEach(() => fleet.close());
  afterAll(() => node.close());

  it("recovers a conversation the client opened but had received no event in before dropping (Socket.IO #4888)", async () => {
    const proxy = await fleet.proxy(node.port);
    const alice = fleet.client(proxy.url, "alice");
    await statusIs(alice, "connected");
    const id = await directConversation(node.t, "alice", "bob");
    const chat = alice.conversation(id);
    await chat.open();
    expect(chat.getSnapshot().messages).toEqual([]);
    const watch = watchInvariants(chat);

    await proxy.cut();
    await statusIs(alice, "reconnecting");
    for (const text of ["first", "second", "third"]) await restSend(node.t, id, "bob", text);
    await proxy.restore();
    await eventually(() => shown(chat).stored.length === 3, 5_000, "three messages");
    expect(shown(chat).stored).toEqual(asShown(await serverHistory(node.t, id, "alice")));
    expect(watch.problems).toEqual([]);
  });

  it("merges a multi-page sync with live events arriving during it: nothing twice, nothing out of order, edits and deletes applied", async () => {
    const proxy = await fleet.proxy(node.port);
    const alice = fleet.client(proxy.url, "alice2");
    const aliceOtherDevice = fleet.client(node.url, "alice2");
    const bob = fleet.client(node.url, "bob2");
    await Promise.all([statusIs(alice, "connected"), statusIs(bob, "connected"), statusIs(aliceOtherDevice, "connected")]);
    const id = await directConversation(node.t, "alice2", "bob2");
    const chat = alice.conversation(id);
    const bobChat = bob.conversation(id);
    await Promise.all([chat.open(), bobChat.open(), aliceOtherDevice.conversation(id).open()]);
    const early = await Promise.all(["keep", "edit me", "delete me", "hide me"].map((text) => restSend(node.t, id, "bob2", text)));
    await eventually(() => shown(chat).stored.length === 4);
    const watch = watchInvariants(chat);

    await proxy.cut();
    await statusIs(alice, "reconnecting");
    await bobChat.edit(early[1]!.id, "edited while you were away");
    await bobChat.delete(early[2]!.id, "everyone");
    await aliceOtherDevice.conversation(id).delete(early[3]!.id, "me");
    // More than one sync page (the SDK asks for 200 at a time).
    for (let i = 1; i <= 230; i++) await restSend(node.t, id, "bob2", `missed ${i}`);

    await proxy.restore();
    // Live messages race the sync.
    const live = Array.from({ length: 15 }, (_, i) => bobChat.send({ text: `live ${i + 1}` }));
    await Promise.all(live);
    const history = await serverHistory(node.t, id, "alice2");
    await eventually(() => shown(chat).stored.length === history.length, 8_000, "every message");
    await sleep(100);
    expect(shown(chat).stored).toEqual(asShown(history));
    const texts = shown(chat).texts;
    expect(texts).toContain("edited while you were away");
    expect(texts).not.toContain("hide me");
    expect(chat.getSnapshot().messages.find((m) => m.id === early[2]!.id)).toMatchObject({ text: null });
    expect(chat.getSnapshot().messages.find((m) => m.id === early[2]!.id)?.deletedAt).not.toBeNull();
    expect(watch.problems).toEqual([]);
  });

  it("keeps receiving a watched channel's live messages after reconnecting, with nothing re-watched by the app (Stream #3406)", async () => {
    const created = await node.t.request("POST", "/v1/conversations", { auth: API_KEY, body: { kind: "channel", title: "general" } });
    const channelId = (created.body as { conversation: { id: string } }).conversation.id;
    const proxy = await fleet.proxy(node.port);
    const reader = fleet.client(proxy.url, "reader");
    const poster = fleet.client(node.url, "poster");
    await Promise.all([statusIs(reader, "connected"), statusIs(poster, "connected")]);
    const channel = reader.conversation(channelId);
    await channel.open();
    await poster.conversation(channelId).send({ text: "before the drop" });
    await eventually(() => shown(channel).texts.includes("before the drop"));

    await proxy.cut();
    await statusIs(reader, "reconnecting");
    await poster.conversation(channelId).send({ text: "during the drop" });
    await proxy.restore();
    await statusIs(reader, "connected");
    await eventually(() => shown(channel).texts.includes("during the drop"), 5_000, "the missed message");
    // Resync is done; from here on only a live event can bring a message.
    await poster.conversation(channelId).send({ text: "after the drop" });
    await eventually(() => shown(channel).texts.includes("after the drop"), 2_000, "the live message");
    expect(shown(channel).texts).toEqual(["before the drop", "during the drop", "after the drop"]);
  });

  it("keeps unread counts right across reconnects (Stream #1061)", async () => {
    const proxy = await fleet.proxy(node.port);
    const alice = fleet.client(proxy.url, "alice3");
    // Alice's phone shows only a badge (the total), never the list that would refetch counts.
    const phone = fleet.client(proxy.url, "alice3");
    const bob = fleet.client(node.url, "bob3");
    await Promise.all([statusIs(alice, "connected"), statusIs(bob, "connected"), statusIs(phone, "connected")]);
    const id = await directConversation(node.t, "alice3", "bob3");
    await alice.inbox.load();
    const unread = () => alice.inbox.getSnapshot().conversations.find((c) => c.id === id)?.unreadCount;
    const serverUnread = async () => {
      const res = await node.t.request("GET", "/v1/conversations", { auth: API_KEY, actAs: "alice3" });
      return (res.body as { conversations: Array<{ id: string; unreadCount: number }> }).conversations.find((c) => c.id === id)?.unreadCount;
    };
    // Both of Alice's clients hold the conversation, so the reconnect syncs what they missed.
    const chat = alice.conversation(id);
    await Promise.all([chat.open(), phone.conversation(id).open()]);
    const bobChat = bob.conversation(id);
    await bobChat.send({ text: "1" });
    await bobChat.send({ text: "2" });
    await eventually(() => unread() === 2, 3_000, "2 unread");

    await proxy.cut();
    await statusIs(alice, "reconnecting");
    for (const text of ["3", "4", "5"]) await bobChat.send({ text });
    await proxy.restore();
    await statusIs(alice, "connected");
    await statusIs(phone, "connected");
    // The sync brings the three missed messages; the session's count already has them.
    await eventually(() => shown(chat).stored.length === 5 && shown(phone.conversation(id)).stored.length === 5, 3_000, "the missed messages");
    await eventually(() => unread() === 5 && phone.inbox.getSnapshot().totalUnread === 5, 3_000, "5 unread on both clients");
    // Settled: nothing late may count a message again.
    await sleep(300);
    expect(unread()).toBe(5);
    expect(phone.inbox.getSnapshot().totalUnread).toBe(5);
    expect(await serverUnread()).toBe(5);
    expect(alice.inbox.getSnapshot().totalUnread).toBe(5);

    await chat.markRead();
    expect(unread()).toBe(0);
    await proxy.cut();
    await statusIs(alice, "reconnecting");
    await proxy.restore();
    await statusIs(alice, "connected");
    await sleep(300);
    await eventually(() => unread() === 0 && phone.inbox.getSnapshot().totalUnread === 0, 3_000, "nothing unread");
    expect(unread()).toBe(0);
    expect(phone.inbox.getSnapshot().totalUnread).toBe(0);
    expect(await serverUnread()).toBe(0);

    await bobChat.send({ text: "6" });
    await eventually(() => unread() === 1, 3_000, "1 unread");
    await sleep(200);
    expect(unread()).toBe(await serverUnread());
    expect(phone.inbox.getSnapshot().totalUnread).toBe(1);
  });
});

describe("resync after a server restart on the same port", () => {
  const fleet = new Fleet();
  let node: Node;

  beforeAll(async () => {
    node = await startNode();
  });
  afterEach(() => fleet.close());
  afterAll(() => node.close());

  it("shows every acknowledged message exactly once, in seq order, to every member, and sends what was queued during the outage once", async () => {
    const proxy = await fleet.proxy(node.port);
    const alice = fleet.client(proxy.url, "alice");
    const bob = fleet.client(node.url, "bob");
    await Promise.all([statusIs(alice, "connected"), statusIs(bob, "connected")]);
    const id = await directConversation(node.t, "alice", "bob");
    const aliceChat = alice.conversation(id);
    const bobChat = bob.conversation(id);
    await Promise.all([aliceChat.open(), bobChat.open()]);
    const watches = [watchInvariants(aliceChat), watchInvariants(bobChat)];
    const acked: Message[] = [];
    for (const text of ["a1", "a2"]) acked.push(await aliceChat.send({ text }));
    acked.push(await bobChat.send({ text: "b1" }));

    await node.stop();
    await Promise.all([statusIs(alice, "reconnecting"), statusIs(bob, "reconnecting")]);
    const queued = ["queued 1", "queued 2"].map((text) => aliceChat.send({ text }));
    await sleep(200);
    expect(shown(aliceChat).pending).toEqual(["queued 1", "queued 2"]);

    // Alice's network is down too when the server comes back; Bob is not.
    await proxy.cut();
    await node.start();
    await statusIs(bob, "connected");
    acked.push(await bobChat.send({ text: "b2" }));
    await proxy.restore();
    await statusIs(alice, "connected");
    acked.push(...(await Promise.all(queued)));
    acked.push(await bobChat.send({ text: "b3" }));

    const history = await serverHistory(node.t, id, "alice");
    for (const chat of [aliceChat, bobChat]) {
      await eventually(() => shown(chat).stored.length === history.length, 5_000, "every message");
    }
    await sleep(100);
    const expected = asShown(history);
    expect(shown(aliceChat).stored).toEqual(expected);
    expect(shown(bobChat).stored).toEqual(expected);
    for (const message of acked) {
      for (const chat of [aliceChat, bobChat]) {
        expect(chat.getSnapshot().messages.filter((m) => m.id === message.id)).toHaveLength(1);
      }
    }
    expect(history.map((m) => m.text)).toEqual(["a1", "a2", "b1", "b2", "queued 1", "queued 2", "b3"]);
    for (const watch of watches) expect(watch.problems).toEqual([]);
  });
});
