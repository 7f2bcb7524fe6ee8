import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { ParleyClientError } from "@parley/client";
import {
  API_KEY,
  Fleet,
  directConversation,
  eventually,
  serverHistory,
  shown,
  sleep,
  startNode,
  statusIs,
  watchInvariants,
  type Node,
} from "./support/harness.js";

describe("sending", () => {
  let node: Node;
  const fleet = new Fleet();

  beforeAll(async () => {
    node = await startNode();
  });
  afterEach(() => fleet.close());
  afterAll(() => node.close());

  /** Alice (through a proxy the test can cut) and Bob, both watching a new direct conversation. */
  async function pair(a = "alice", b = "bob") {
    const proxy = await fleet.proxy(node.port);
    const alice = fleet.client(proxy.url, a);
    const bob = fleet.client(node.url, b);
    await statusIs(alice, "connected");
    await statusIs(bob, "connected");
    const id = await directConversation(node.t, a, b);
    const mine = alice.conversation(id);
    const theirs = bob.conversation(id);
    await mine.open();
    await theirs.open();
    return { proxy, alice, bob, id, mine, theirs, invariants: [watchInvariants(mine), watchInvariants(theirs)] };
  }

  it("shows a send at once as pending, then replaces it by the stored message, once, for sender and recipient", async () => {
    const { mine, theirs, invariants } = await pair();
    const sent = mine.send({ text: "Hello Bob" });
    const pending = mine.getSnapshot().messages;
    expect(pending).toHaveLength(1);
    expect(pending[0]).toMatchObject({ text: "Hello Bob", status: "pending", seq: null, own: true });
    const key = pending[0]!.key;

    const stored = await sent;
    const after = mine.getSnapshot().messages;
    expect(after).toHaveLength(1);
    expect(after[0]).toMatchObject({ key, id: stored.id, seq: stored.seq, text: "Hello Bob" });
    expect(["sent", "delivered", "read"]).toContain(after[0]!.status);
    await eventually(() => shown(theirs).stored.length === 1);
    await sleep(100);
    expect(shown(mine).texts).toEqual(["Hello Bob"]);
    expect(shown(theirs).texts).toEqual(["Hello Bob"]);
    for (const watch of invariants) expect(watch.problems).toEqual([]);
  });

  it("marks a refused send failed with its error, and a retry sends it once", async () => {
    const { id, mine, theirs, invariants } = await pair("carol", "dave");
    const closed = await node.t.request("PATCH", `/v1/conversations/${id}`, { auth: API_KEY, body: { status: "closed" } });
    expect(closed.status).toBe(200);

    const attempt = mine.send({ text: "Are you there?" });
    await expect(attempt).rejects.toMatchObject({ code: "conflict" });
    const failed = mine.getSnapshot().messages;
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatchObject({ status: "failed", text: "Are you there?" });
    expect(failed[0]!.error).toBeInstanceOf(ParleyClientError);
    expect(failed[0]!.error?.code).toBe("conflict");

    await node.t.request("PATCH", `/v1/conversations/${id}`, { auth: API_KEY, body: { status: "open" } });
    const stored = await mine.retry(failed[0]!.clientId!);
    expect(stored.clientId).toBe(failed[0]!.clientId);
    expect(mine.getSnapshot().messages.map((m) => [m.key, m.status === "failed" || m.status === "pending"])).toEqual([[failed[0]!.key, false]]);
    await eventually(() => shown(theirs).texts.includes("Are you there?"));
    expect((await serverHistory(node.t, id, "carol")).filter((m) => m.type === "text")).toHaveLength(1);
    for (const watch of invariants) expect(watch.problems).toEqual([]);
  });

  it("refuses a payload over 64 KiB before sending it, and the connection stays up", async () => {
    const { alice, mine, theirs } = await pair("erin", "frank");
    let statusChanges = 0;
    alice.connection.subscribe(() => statusChanges++);
    await expect(mine.send({ text: "x".repeat(70_000) })).rejects.toMatchObject({ code: "payload_too_large" });
    expect(mine.getSnapshot().messages).toHaveLength(0);
    await expect(mine.send({ text: "   " })).rejects.toMatchObject({ code: "invalid_argument" });
    await mine.send({ text: "small enough" });
    await eventually(() => shown(theirs).texts.includes("small enough"));
    expect(statusChanges).toBe(0);
    expect(alice.connection.getSnapshot().status).toBe("connected");
  });

  it("keeps sends made while offline in order and sends them once when the connection returns", async () => {
    const { proxy, alice, id, mine, theirs, invariants } = await pair("gina", "hank");
    await mine.send({ text: "before" });
    await proxy.cut();
    await statusIs(alice, "reconnecting");
    const sends = ["one", "two", "three"].map((text) => mine.send({ text }));
    expect(shown(mine).pending).toEqual(["one", "two", "three"]);
    await sleep(300);
    expect(shown(mine).pending).toEqual(["one", "two", "three"]);

    await proxy.restore();
    const stored = await Promise.all(sends);
    expect(stored.map((m) => m.text)).toEqual(["one", "two", "three"]);
    expect(stored[0]!.seq).toBeLessThan(stored[1]!.seq);
    expect(stored[1]!.seq).toBeLessThan(stored[2]!.seq);
    await eventually(() => shown(theirs).stored.length === 4);
    const history = (await serverHistory(node.t, id, "hank")).map((m) => `${m.seq}:${m.text}`);
    expect(history.slice(-4).map((s) => s.split(":")[1])).toEqual(["before", "one", "two", "three"]);
    await sleep(100);
    expect(shown(mine).stored).toEqual(history);
    expect(shown(theirs).stored).toEqual(history);
    expect(shown(mine).pending).toEqual([]);
    for (const watch of invariants) expect(watch.problems).toEqual([]);
  });

  it("reports a retried send as a success, shown once, when the first try had landed and only its ack was lost (Socket.IO #5334, Stream #2331)", async () => {
    const { proxy, alice, id, mine, theirs, invariants } = await pair("ivan", "judy");
    proxy.dropDownstream(true);
    const sent = mine.send({ text: "landed" });
    await eventually(() => shown(theirs).texts.includes("landed"), 5_000, "the message at the recipient");
    expect(shown(mine).pending).toEqual(["landed"]);

    await proxy.cut();
    await statusIs(alice, "reconnecting");
    await proxy.restore();
    const stored = await sent;
    const history = await serverHistory(node.t, id, "ivan");
    expect(history.filter((m) => m.text === "landed").map((m) => m.id)).toEqual([stored.id]);
    await sleep(150);
    expect(mine.getSnapshot().messages.map((m) => [m.text, m.status === "failed"])).toEqual([["landed", false]]);
    expect(shown(theirs).texts).toEqual(["landed"]);
    for (const watch of invariants) expect(watch.problems).toEqual([]);
  });

  it("holds sends while the app has disconnected on purpose and sends them on connect()", async () => {
    const { alice, mine, theirs } = await pair("olga", "pete");
    alice.disconnect();
    await statusIs(alice, "disconnected");
    const sent = mine.send({ text: "later" });
    await sleep(200);
    expect(shown(mine).pending).toEqual(["later"]);
    alice.connect();
    await statusIs(alice, "connected");
    await sent;
    await eventually(() => shown(theirs).texts.includes("later"));
    expect(shown(mine).texts).toEqual(["later"]);
  });

  it("waits out rate limiting and sends a long burst once, in order", async () => {
    const { id, mine, theirs } = await pair("mia", "ned");
    const texts = Array.from({ length: 30 }, (_, i) => `quick ${i + 1}`);
    const stored = await Promise.all(texts.map((text) => mine.send({ text })));
    expect(stored.map((m) => m.text)).toEqual(texts);
    expect((await serverHistory(node.t, id, "mia")).map((m) => m.text)).toEqual(texts);
    await eventually(() => shown(theirs).stored.length === texts.length);
    expect(shown(theirs).texts).toEqual(texts);
    expect(mine.getSnapshot().messages.some((m) => m.status === "failed")).toBe(false);
  });

  it("delivers every message of a burst exactly once, in order, when the network is cut mid-send", async () => {
    const { proxy, alice, id, mine, theirs, invariants } = await pair("kim", "lee");
    const texts = Array.from({ length: 8 }, (_, i) => `burst ${i + 1}`);
    const sends = texts.map((text) => mine.send({ text }));
    await sends[1];
    await proxy.cut();
    await statusIs(alice, "reconnecting");
    await sleep(100);
    await proxy.restore();
    await Promise.all(sends);

    const history = (await serverHistory(node.t, id, "kim")).map((m) => `${m.seq}:${m.text}`);
    expect(history.map((s) => s.split(":")[1])).toEqual(texts);
    await eventually(() => shown(theirs).stored.length === texts.length);
    await sleep(100);
    expect(shown(mine).stored).toEqual(history);
    expect(shown(theirs).stored).toEqual(history);
    for (const watch of invariants) expect(watch.problems).toEqual([]);
  });
});
