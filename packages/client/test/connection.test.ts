import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createParleyClient, type ConnectionStatus, type ParleyClient } from "@parley/client";
import { API_KEY, FAST, Fleet, eventually, signToken, sleep, startNode, statusIs, type Node } from "./support/harness.js";

/** Every distinct status the client went through, in order. */
function recordStatuses(client: ParleyClient): ConnectionStatus[] {
  const seen: ConnectionStatus[] = [client.connection.getSnapshot().status];
  client.connection.subscribe(() => {
    const status = client.connection.getSnapshot().status;
    if (seen[seen.length - 1] !== status) seen.push(status);
  });
  return seen;
}

describe("connection", () => {
  let node: Node;
  const fleet = new Fleet();

  beforeAll(async () => {
    node = await startNode();
  });
  afterEach(() => fleet.close());
  afterAll(() => node.close());

  it("shows no one online while its own connection is lost, and fetches presence again when it is back", async () => {
    const proxy = await fleet.proxy(node.port);
    const fay = fleet.client(proxy.url, "fay");
    const gus = fleet.client(node.url, "gus");
    await Promise.all([statusIs(fay, "connected"), statusIs(gus, "connected")]);
    await node.t.request("POST", "/v1/conversations", { auth: API_KEY, actAs: "fay", body: { kind: "direct", members: ["gus"] } });
    const stop = fay.presence.watch(["gus"]);
    await eventually(() => fay.presence.getSnapshot().get("gus")?.online === true, 3_000, "gus online");

    await proxy.cut();
    await statusIs(fay, "reconnecting");
    expect(fay.presence.getSnapshot().get("gus")).toBeUndefined();
    await proxy.restore();
    await statusIs(fay, "connected");
    await eventually(() => fay.presence.getSnapshot().get("gus")?.online === true, 3_000, "gus online again");
    stop();
  });

  it("lets the app see every status change: connecting, connected, reconnecting, connected, disconnected (Sendbird #11)", async () => {
    const proxy = await fleet.proxy(node.port);
    const alice = fleet.client(proxy.url, "alice", { autoConnect: false });
    const seen = recordStatuses(alice);
    alice.connect();
    await statusIs(alice, "connected");
    expect(alice.connection.getSnapshot().user).toMatchObject({ id: "alice", name: "Alice" });

    await proxy.cut();
    await statusIs(alice, "reconnecting");
    await sleep(150);
    expect(alice.connection.getSnapshot().status).toBe("reconnecting");
    await proxy.restore();
    await statusIs(alice, "connected");

    alice.disconnect();
    await statusIs(alice, "disconnected");
    expect(seen).toEqual(["disconnected", "connecting", "connected", "reconnecting", "connected", "disconnected"]);
    expect(alice.connection.getSnapshot().error).toBeNull();
  });

  it("follows the browser's offline and online events: reconnecting at once when the network goes, connected at once when it is back", async () => {
    // A browser's window, as far as the client looks at it.
    const network = new EventTarget();
    const g = globalThis as Partial<Pick<EventTarget, "addEventListener" | "removeEventListener">>;
    g.addEventListener = network.addEventListener.bind(network);
    g.removeEventListener = network.removeEventListener.bind(network);
    try {
      // A long backoff, so that only the online event can explain a quick return.
      const alice = fleet.client(node.url, "alice", { reconnectDelayMs: 20_000, reconnectDelayMaxMs: 20_000 });
      const seen = recordStatuses(alice);
      await statusIs(alice, "connected");

      const wentOffline = Date.now();
      network.dispatchEvent(new Event("offline"));
      await statusIs(alice, "reconnecting", 1_000);
      expect(Date.now() - wentOffline).toBeLessThan(1_000);
      await sleep(300);
      expect(alice.connection.getSnapshot().status).toBe("reconnecting");

      const backOnline = Date.now();
      network.dispatchEvent(new Event("online"));
      await statusIs(alice, "connected", 3_000);
      expect(Date.now() - backOnline).toBeLessThan(3_000);
      expect(seen.slice(seen.indexOf("connected"))).toEqual(["connected", "reconnecting", "connected"]);
    } finally {
      delete g.addEventListener;
      delete g.removeEventListener;
    }
  });

  it("stops for good on an invalid token: one attempt, status disconnected, the reason exposed", async () => {
    const proxy = await fleet.proxy(node.port);
    const client = fleet.track(createParleyClient({ ...FAST, url: proxy.url, token: "not-a-token" }));
    await statusIs(client, "disconnected");
    const { error } = client.connection.getSnapshot();
    expect(error?.code).toBe("unauthenticated");
    expect(error?.details?.reason).toBe("invalid");
    await sleep(600);
    expect(proxy.accepted).toBe(1);
    expect(client.connection.getSnapshot().status).toBe("disconnected");
  });

  it("stops on an expired fixed token without retrying", async () => {
    const proxy = await fleet.proxy(node.port);
    const token = await signToken("alice", { expiresIn: -60 });
    const client = fleet.track(createParleyClient({ ...FAST, url: proxy.url, token }));
    await statusIs(client, "disconnected");
    expect(client.connection.getSnapshot().error?.details?.reason).toBe("expired");
    await sleep(400);
    expect(proxy.accepted).toBe(1);
  });

  it("asks getToken again when the server says the token expired, and connects", async () => {
    let calls = 0;
    const client = fleet.track(
      createParleyClient({
        ...FAST,
        url: node.url,
        // The first token is one that expired a minute ago, as a cached token would be.
        getToken: () => signToken("alice", { expiresIn: ++calls === 1 ? -60 : 3600 }),
      }),
    );
    await statusIs(client, "connected");
    expect(calls).toBe(2);
  });

  it("refreshes the token with auth:refresh before exp and stays connected past the first token's exp", async () => {
    const alice = fleet.client(node.url, "alice", { tokenOptions: { expiresIn: 3 }, refreshBeforeExpiryMs: 2_000 });
    const seen = recordStatuses(alice);
    await statusIs(alice, "connected");
    await sleep(3_300);
    expect(alice.connection.getSnapshot().status).toBe("connected");
    expect(seen).toEqual(["connecting", "connected"]);
    expect(fleet.tokenCalls.get("alice")).toBeGreaterThanOrEqual(2);
  });

  it("reconnects with a fresh token after session:expired when the refresh could not happen", async () => {
    let calls = 0;
    const client = fleet.track(
      createParleyClient({
        ...FAST,
        url: node.url,
        refreshBeforeExpiryMs: 60_000,
        getToken: () => {
          calls += 1;
          // The refresh before exp fails (the host's back end is briefly down).
          if (calls === 2) throw new Error("back end unavailable");
          return signToken("alice", { expiresIn: calls === 1 ? 2 : 3600 });
        },
      }),
    );
    const seen = recordStatuses(client);
    await statusIs(client, "connected");
    await eventually(() => calls >= 3 && client.connection.getSnapshot().status === "connected", 6_000, "a reconnect with a third token");
    expect(seen).toEqual(["connecting", "connected", "reconnecting", "connected"]);
  });

  it("stops with reason expired when a fixed token expires on a live connection", async () => {
    const token = await signToken("alice", { expiresIn: 2 });
    const client = fleet.track(createParleyClient({ ...FAST, url: node.url, token }));
    await statusIs(client, "connected");
    await statusIs(client, "disconnected", 5_000);
    expect(client.connection.getSnapshot().error).toMatchObject({ code: "unauthenticated", details: { reason: "expired" } });
  });
});
