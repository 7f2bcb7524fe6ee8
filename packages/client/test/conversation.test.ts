import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
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
  type Node,
} from "./support/harness.js";
import { demoPhotoPng } from "../../server/src/dev/demo-image.js";

describe("a conversation's state", () => {
  let node: Node;
  const fleet = new Fleet();

  beforeAll(async () => {
    node = await startNode({ rateMessages: "2000/s,2000" });
  });
  afterEach(() => fleet.close());
  afterAll(() => node.close());

  async function pair(a: string, b: string) {
    const alice = fleet.client(node.url, a);
    const bob = fleet.client(node.url, b);
    await Promise.all([statusIs(alice, "connected"), statusIs(bob, "connected")]);
    const id = await directConversation(node.t, a, b);
    return { alice, bob, id, mine: alice.conversation(id), theirs: bob.conversation(id) };
  }

  it("reports delivery as messages arrive and read when marked: the sender sees sent, delivered, then read by whom", async () => {
    const { id, mine, theirs, bob } = await pair("alice", "bob");
    await mine.open();
    // Bob's client is connected but has not opened the conversation: receiving it is enough for ✓✓.
    const sent = await mine.send({ text: "did you get this?" });
    const status = () => mine.getSnapshot().messages.find((m) => m.id === sent.id)?.status;
    await eventually(() => status() === "delivered", 3_000, "delivered");

    await bob.inbox.load();
    expect(bob.inbox.getSnapshot().conversations.find((c) => c.id === id)?.unreadCount).toBe(1);
    await theirs.open();
    await theirs.markRead();
    expect(bob.inbox.getSnapshot().conversations.find((c) => c.id === id)?.unreadCount).toBe(0);
    await eventually(() => status() === "read", 3_000, "read");
    expect(mine.getSnapshot().messages[0]!.readBy).toMatchObject([{ userId: "bob", name: "Bob" }]);
    expect(mine.getSnapshot().messages[0]!.readBy[0]!.at).not.toBeNull();
  });

  it("uploads a photo and shows it, pending and stored, with a URL that loads from a page on any origin", async () => {
    const { alice, mine, theirs } = await pair("alice", "bob");
    await Promise.all([mine.open(), theirs.open()]);
    const progress: number[] = [];
    const photo = await alice.upload(new Blob([demoPhotoPng(64, 48)], { type: "image/png" }), {
      name: "shoot.png",
      onProgress: (loaded, total) => progress.push(loaded / total),
    });
    expect(photo).toMatchObject({ name: "shoot.png", mimeType: "image/png", width: 64, height: 48 });
    expect(progress.at(-1)).toBe(1);

    const sending = mine.send({ type: "image", attachments: [photo] });
    // Pending, it already shows the photo.
    const pending = mine.getSnapshot().messages.find((m) => m.status === "pending");
    expect(pending?.attachments[0]?.url).toMatch(new RegExp(`^${node.url}/v1/uploads/`));
    const stored = await sending;

    const seen = await eventually(() => theirs.getSnapshot().messages.find((m) => m.id === stored.id), 3_000, "the photo at Bob's");
    const url = seen!.attachments[0]!.url;
    expect(url.startsWith(`${node.url}/v1/uploads/`)).toBe(true);
    // The signed URL alone (as an <img> on the host's page would ask) gets the image.
    const res = await fetch(url);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("image/png");
  });

  it("refuses an upload of a type the server does not allow, with its code", async () => {
    const { alice } = await pair("alice", "bob");
    await expect(alice.upload(new Blob(["#!/bin/sh"], { type: "application/x-sh" }), { name: "run.sh" })).rejects.toMatchObject({
      code: "invalid_argument",
    });
  });

  it("keeps an operator's inbox true live: another operator answering shows as a member, and only the visitor's messages count as unread", async () => {
    const vic = fleet.client(node.url, "vicky");
    const omar = fleet.client(node.url, "omar", { tokenOptions: { roles: ["operator"] } });
    const olivia = fleet.client(node.url, "olivia", { tokenOptions: { roles: ["operator"] } });
    await Promise.all([statusIs(vic, "connected"), statusIs(omar, "connected"), statusIs(olivia, "connected")]);
    const id = (await vic.createConversation({ kind: "support", title: "Order 9" })).id;
    await omar.inbox.load();
    const row = () => omar.inbox.getSnapshot().conversations.find((c) => c.id === id);
    await eventually(() => row() !== undefined, 3_000, "the support conversation in Omar's inbox");

    await vic.conversation(id).send({ text: "where is my order?" });
    await eventually(() => row()?.unreadCount === 1, 3_000, "one unread");
    // Olivia answers: she joins (a notice) and writes. Neither is the visitor's.
    await olivia.conversation(id).send({ text: "Looking into it" });
    await eventually(() => row()?.members.some((m) => m.userId === "olivia") === true, 3_000, "Olivia listed as a member");
    await eventually(() => row()?.lastMessage?.text === "Looking into it", 3_000, "the answer as the last message");
    await sleep(200);
    expect(row()?.unreadCount).toBe(1);
    // The server agrees.
    await omar.inbox.load();
    expect(row()?.unreadCount).toBe(1);
  });

  it("shows in the inbox, live, where the user's own last message has got to", async () => {
    const { alice, id, theirs } = await pair("alice", "bob");
    await alice.inbox.load();
    const status = () => alice.inbox.getSnapshot().conversations.find((c) => c.id === id)?.lastMessageStatus;
    const sent = await alice.conversation(id).send({ text: "are you there?" });
    await eventually(() => status() === "sent" || status() === "delivered", 3_000, "✓ in the inbox");
    // Bob's client reports delivery by itself; then he reads it.
    await eventually(() => status() === "delivered", 3_000, "✓✓ in the inbox");
    await theirs.open();
    await theirs.markRead();
    await eventually(() => status() === "read", 3_000, "read in the inbox");
    // A fresh page from the server agrees.
    await alice.inbox.load();
    expect(alice.inbox.getSnapshot().conversations.find((c) => c.id === id)).toMatchObject({ lastMessage: { id: sent.id }, lastMessageStatus: "read" });
  });

  it("pages older history with loadOlder until there is none, in seq order", async () => {
    const { id, theirs } = await pair("carol", "dave");
    for (let i = 1; i <= 120; i++) await restSend(node.t, id, "carol", `m${i}`);
    await theirs.open();
    expect(shown(theirs).texts).toHaveLength(50);
    expect(shown(theirs).texts[0]).toBe("m71");
    expect(theirs.getSnapshot().hasOlder).toBe(true);
    await theirs.loadOlder();
    expect(shown(theirs).texts).toHaveLength(100);
    await theirs.loadOlder();
    expect(theirs.getSnapshot().hasOlder).toBe(false);
    const history = await serverHistory(node.t, id, "dave");
    expect(shown(theirs).stored).toEqual(history.map((m) => `${m.seq}:${m.text}`));
    expect(shown(theirs).texts).toEqual(Array.from({ length: 120 }, (_, i) => `m${i + 1}`));
  });

  it("opens at an old message away from the newest, pages towards them while they stay live, and jumps back to them", async () => {
    const id = await directConversation(node.t, "erin", "fay");
    for (let i = 1; i <= 70; i++) await restSend(node.t, id, "erin", `m${i}`);
    const fay = fleet.client(node.url, "fay", { pageSize: 20 });
    await statusIs(fay, "connected");
    const chat = fay.conversation(id);
    await chat.open();
    expect(shown(chat).texts[0]).toBe("m51");

    // The first unread of a long backlog: a page from a few messages before it, the newest out of sight.
    await chat.openAt(11);
    expect(shown(chat).texts).toEqual(Array.from({ length: 20 }, (_, i) => `m${i + 6}`));
    expect(chat.getSnapshot()).toMatchObject({ hasOlder: true, hasNewer: true });
    // What arrives meanwhile is kept, not shown after the window.
    await restSend(node.t, id, "erin", "live 1");
    await eventually(() => chat.getSnapshot().conversation?.lastSeq === 71, 3_000, "live message");
    expect(shown(chat).texts.at(-1)).toBe("m25");
    expect(chat.getSnapshot().newerCount).toBe(1);
    // Reading the window reads up to what it shows, not the newest.
    await chat.markRead();
    expect(chat.getSnapshot().lastReadSeq).toBe(25);
    expect(
      (await node.t.request("GET", `/v1/conversations/${id}`, { auth: API_KEY, actAs: "fay" })).body,
    ).toMatchObject({ members: expect.arrayContaining([expect.objectContaining({ userId: "fay", lastReadSeq: 25 })]) });

    while (chat.getSnapshot().hasNewer) await chat.loadNewer();
    const history = await serverHistory(node.t, id, "fay");
    expect(shown(chat).stored).toEqual(history.filter((m) => m.seq >= 6).map((m) => `${m.seq}:${m.text}`));
    expect(shown(chat).texts.at(-1)).toBe("live 1");
    // Opening just before the window joins it: one list again, back to the first message.
    await chat.openAt(3);
    expect(chat.getSnapshot()).toMatchObject({ hasOlder: false, hasNewer: false });
    expect(shown(chat).stored).toEqual(history.map((m) => `${m.seq}:${m.text}`));

    // On another device: opened at the backlog, then the user sends: the newest show, with the message after them.
    const phone = fleet.client(node.url, "fay", { pageSize: 20 });
    await statusIs(phone, "connected");
    const other = phone.conversation(id);
    await other.open();
    await other.openAt(11);
    expect(other.getSnapshot().hasNewer).toBe(true);
    const sent = other.send({ text: "catching up" });
    expect(other.getSnapshot().hasNewer).toBe(false);
    await sent;
    expect(shown(other).texts.slice(-3)).toEqual(["m70", "live 1", "catching up"]);
    expect(shown(other).texts[0]).toBe("m52");
  });

  it("quotes a reply's original that is older than the loaded pages, kept up to date, and opens there", async () => {
    const { id, mine } = await pair("gus", "hal");
    const original = await restSend(node.t, id, "hal", "the original question");
    for (let i = 1; i <= 60; i++) await restSend(node.t, id, "hal", `filler ${i}`);
    const reply = await mine.send({ text: "answering that", replyTo: original.id });
    const reader = fleet.client(node.url, "gus", { pageSize: 20 });
    await statusIs(reader, "connected");
    const chat = reader.conversation(id);
    await chat.open();
    expect(shown(chat).texts).not.toContain("the original question");
    expect(chat.getSnapshot().quoted).toEqual({});
    // How many `message:get` requests the server has answered.
    const asked = async () => {
      const metrics = String((await node.t.request("GET", "/metrics")).body);
      return Number(/parley_socket_events_total\{event="message:get",outcome="ok"\} (\d+)/.exec(metrics)?.[1] ?? 0);
    };
    const before = await asked();
    await chat.loadQuoted();
    expect(chat.getSnapshot().quoted[original.id]).toMatchObject({ id: original.id, seq: 1, senderName: "Hal", text: "the original question" });
    // Asked once: nothing more goes out for it.
    await chat.loadQuoted();
    expect(await asked()).toBe(before + 1);

    // An edit of the original reaches the quote live; opening at it shows it in its place, the reply still held.
    const hal = fleet.client(node.url, "hal");
    await statusIs(hal, "connected");
    await hal.conversation(id).edit(original.id, "the original question, edited");
    await eventually(() => chat.getSnapshot().quoted[original.id]?.text === "the original question, edited", 3_000, "edited quote");
    await chat.openAt(1);
    expect(shown(chat).texts[0]).toBe("the original question, edited");
    expect(chat.getSnapshot().quoted[original.id]).toBeUndefined();
    expect(chat.getSnapshot().hasNewer).toBe(true);
    // Edited again while on show: the quote has it too once the window gives way to the newest.
    await hal.conversation(id).edit(original.id, "the original question, edited twice");
    await eventually(() => shown(chat).texts[0] === "the original question, edited twice", 3_000, "second edit");
    chat.jumpToLatest();
    expect(chat.getSnapshot().quoted[original.id]?.text).toBe("the original question, edited twice");
    expect(shown(chat).texts.at(-1)).toBe("answering that");
    expect(shown(chat).stored.at(-1)).toBe(`${reply.seq}:answering that`);
  });

  it("shows edits, reactions and a tombstone for a message deleted for everyone, and drops one deleted for me on every device", async () => {
    const { alice, id, mine, theirs } = await pair("erin", "frank");
    const otherTab = fleet.client(node.url, "erin");
    await statusIs(otherTab, "connected");
    const tab = otherTab.conversation(id);
    await Promise.all([mine.open(), theirs.open(), tab.open()]);
    const first = await theirs.send({ text: "first" });
    const second = await theirs.send({ text: "second" });
    await eventually(() => shown(mine).stored.length === 2 && shown(tab).stored.length === 2);

    await theirs.edit(first.id, "first, edited");
    await mine.react(first.id, "👍");
    await theirs.delete(second.id, "everyone");
    await eventually(() => shown(mine).texts.join() === "first, edited,<deleted>");
    const [edited, tombstone] = mine.getSnapshot().messages;
    expect(edited!.editedAt).not.toBeNull();
    await eventually(() => theirs.getSnapshot().messages[0]!.reactions["👍"]?.includes("erin"));
    expect(tombstone!.deletedAt).not.toBeNull();
    expect(shown(theirs).texts).toEqual(["first, edited", "<deleted>"]);

    await mine.delete(first.id, "me");
    expect(shown(mine).texts).toEqual(["<deleted>"]);
    await eventually(() => shown(tab).texts.join() === "<deleted>", 3_000, "the other tab drops it");
    expect(shown(theirs).texts).toEqual(["first, edited", "<deleted>"]);
    expect(alice.connection.getSnapshot().status).toBe("connected");
  });

  it("shows who is typing, clears it when their message arrives, and stops on its own", async () => {
    const { mine, theirs } = await pair("gina", "hank");
    await Promise.all([mine.open(), theirs.open()]);
    mine.sendTyping();
    await eventually(() => theirs.getSnapshot().typing.length === 1, 3_000, "typing shown");
    expect(theirs.getSnapshot().typing).toEqual([{ userId: "gina", name: "Gina" }]);
    expect(mine.getSnapshot().typing).toEqual([]);
    await mine.send({ text: "done typing" });
    await eventually(() => theirs.getSnapshot().typing.length === 0, 3_000, "typing cleared by the send");

    mine.sendTyping();
    await eventually(() => theirs.getSnapshot().typing.length === 1, 3_000, "typing shown again");
    mine.stopTyping();
    await eventually(() => theirs.getSnapshot().typing.length === 0, 3_000, "typing cleared by stopTyping");
  });

  it("keeps presence of watched users: online, then offline with lastSeenAt when they leave", async () => {
    const { alice, mine, theirs, bob } = await pair("ivan", "judy");
    await Promise.all([mine.open(), theirs.open()]);
    const stop = bob.presence.watch(["ivan"]);
    await eventually(() => bob.presence.getSnapshot().get("ivan")?.online === true, 3_000, "online");
    alice.close();
    await eventually(() => bob.presence.getSnapshot().get("ivan")?.online === false, 3_000, "offline");
    expect(bob.presence.getSnapshot().get("ivan")?.lastSeenAt).toMatch(/^\d{4}-/);
    stop();
  });

  it("keeps the inbox live: new conversations, last message and order by activity", async () => {
    const { alice, id } = await pair("kim", "lee");
    await restSend(node.t, id, "lee", "hello kim");
    await alice.inbox.load();
    expect(alice.inbox.getSnapshot().conversations.map((c) => c.id)).toEqual([id]);
    const second = await directConversation(node.t, "mo", "kim");
    await eventually(() => alice.inbox.getSnapshot().conversations.length === 2, 3_000, "the new conversation");
    await restSend(node.t, second, "mo", "newer");
    await eventually(() => alice.inbox.getSnapshot().conversations[0]?.id === second, 3_000, "reordered");
    expect(alice.inbox.getSnapshot().conversations[0]!.lastMessage?.text).toBe("newer");
    await restSend(node.t, id, "lee", "newest");
    await eventually(() => alice.inbox.getSnapshot().conversations[0]?.id === id, 3_000, "reordered again");
    expect(alice.inbox.getSnapshot().conversations.map((c) => c.unreadCount)).toEqual([2, 1]);
    await sleep(50);
  });
});
