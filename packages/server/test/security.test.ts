import { SignJWT } from "jose";
import { afterAll, afterEach, beforeEach, describe, expect, it } from "vitest";
import { backends } from "./support/backends.js";
import { topologies } from "./support/topologies.js";
import {
  API_KEY,
  connectWithToken,
  JWT_SECRET,
  ok,
  settle,
  signToken,
  startTestServer,
  type ConnectedClient,
  type TestServer,
} from "./support/test-server.js";

const ISSUERS = [
  { iss: "user-backend", secret: "user-backend-secret-0123456789", prefix: "user:" },
  { iss: "bartender-backend", secret: "bartender-backend-secret-012345", prefix: "bartender:" },
];

async function connectError(url: string, token: string | undefined): Promise<{ message: string; data: unknown }> {
  try {
    await connectWithToken(url, token);
  } catch (err) {
    return err as { message: string; data: unknown };
  }
  throw new Error("expected the connection to be refused");
}

describe.each(topologies())("identity and authorization on $name", (topology) => {
  let t: TestServer;

  beforeEach(async () => {
    t = await topology.start({ jwtIssuers: ISSUERS });
  });
  afterEach(async () => {
    await t.close();
  });
  afterAll(() => topology.cleanup());

  async function counts() {
    const db = t.server.storage.db;
    const [messages, conversations, members] = await Promise.all(
      (["messages", "conversations", "members"] as const).map(async (table) =>
        Number((await db.selectFrom(table).select((eb) => eb.fn.countAll().as("n")).executeTakeFirstOrThrow()).n),
      ),
    );
    return { messages, conversations, members };
  }

  it("refuses connections with a missing, invalid or expired token, saying why", async () => {
    expect((await connectError(t.url, undefined)).data).toMatchObject({ code: "unauthenticated", details: { reason: "missing" } });
    expect((await connectError(t.url, "not-a-jwt")).data).toMatchObject({ code: "unauthenticated", details: { reason: "invalid" } });
    const wrongSecret = await signToken("alice", { secret: "some-other-secret-0123456789" });
    expect((await connectError(t.url, wrongSecret)).data).toMatchObject({ details: { reason: "invalid" } });
    const expired = await signToken("alice", { expiresIn: -60 });
    expect((await connectError(t.url, expired)).data).toMatchObject({ details: { reason: "expired" } });
    const noExp = await signToken("alice", { expiresIn: null });
    expect((await connectError(t.url, noExp)).data).toMatchObject({ details: { reason: "invalid" } });
    const colon = await signToken("user:7");
    expect((await connectError(t.url, colon)).data).toMatchObject({ details: { reason: "invalid" } });
  });

  it("accepts only HS256 tokens signed with the secret, valid now within five seconds", async () => {
    const now = Math.floor(Date.now() / 1000);
    const base64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");
    const refused = async (token: string) => (await connectError(t.url, token)).data;
    // Parley's own secret, and a trusted issuer's (whose tokens carry its iss).
    for (const { secret, iss, id } of [
      { secret: JWT_SECRET, iss: undefined, id: "alice" },
      { secret: ISSUERS[0]!.secret, iss: ISSUERS[0]!.iss, id: "user:alice" },
    ]) {
      const claims = { sub: "alice", name: "Alice", exp: now + 600, ...(iss ? { iss } : {}) };
      const sign = (alg: string, payload: Record<string, unknown> = claims) =>
        new SignJWT(payload).setProtectedHeader({ alg }).sign(new TextEncoder().encode(secret));

      // Another HMAC algorithm with the same secret, and an unsigned token.
      for (const alg of ["HS384", "HS512"]) {
        expect(await refused(await sign(alg)), alg).toMatchObject({ code: "unauthenticated", details: { reason: "invalid" } });
      }
      expect(await refused(`${base64url({ alg: "none" })}.${base64url(claims)}.`)).toMatchObject({ details: { reason: "invalid" } });
      // A signed token whose claims were changed afterwards.
      const [header, , signature] = (await sign("HS256")).split(".");
      const tampered = `${header}.${base64url({ ...claims, sub: "mallory" })}.${signature}`;
      expect(await refused(tampered)).toMatchObject({ details: { reason: "invalid" } });
      // Not valid for another 10 s; expired 10 s ago; claims of the wrong type; no exp.
      expect(await refused(await sign("HS256", { ...claims, nbf: now + 10 }))).toMatchObject({ details: { reason: "invalid" } });
      expect(await refused(await sign("HS256", { ...claims, exp: now - 10 }))).toMatchObject({ details: { reason: "expired" } });
      expect(await refused(await sign("HS256", { ...claims, exp: String(now + 600) }))).toMatchObject({ details: { reason: "invalid" } });
      expect(await refused(await sign("HS256", { ...claims, iat: "yesterday" }))).toMatchObject({ details: { reason: "invalid" } });
      const { exp: _exp, ...noExp } = claims;
      expect(await refused(await sign("HS256", noExp))).toMatchObject({ details: { reason: "invalid" } });

      // Clocks a few seconds apart: a token valid from a moment from now, or
      // (over REST, where nothing ends a session at exp) just expired, still
      // passes; so does a token read with its line ending.
      const moment = Math.floor(Date.now() / 1000);
      const early = await connectWithToken(t.url, `${await sign("HS256", { ...claims, nbf: moment + 2 })}\n`);
      expect(early.session.user).toMatchObject({ id, name: "Alice" });
      early.socket.disconnect();
      const late = await t.request("GET", "/v1/me", { auth: await sign("HS256", { ...claims, exp: moment - 2 }) });
      expect(late.body.user).toMatchObject({ id, name: "Alice" });
    }
  });

  it("keeps users of two issuers with the same sub apart", async () => {
    const user7 = await t.connect("7", { iss: "user-backend", secret: ISSUERS[0]!.secret, name: "Uma" });
    const bartender7 = await t.connect("7", { iss: "bartender-backend", secret: ISSUERS[1]!.secret, name: "Bart" });
    expect(user7.session.user.id).toBe("user:7");
    expect(bartender7.session.user.id).toBe("bartender:7");
    const forged = await signToken("7", { iss: "bartender-backend", secret: ISSUERS[0]!.secret });
    expect((await connectError(t.url, forged)).data).toMatchObject({ details: { reason: "invalid" } });

    const created = await t.request("POST", "/v1/conversations", {
      auth: API_KEY,
      body: { kind: "group", ref: "booking:42", members: ["user:7", "bartender:7"] },
    });
    const id = created.body.conversation.id;
    ok(await user7.call("message:send", { conversationId: id, clientId: "u", text: "Can you bring ice?" }));
    expect((await bartender7.waitFor("message:new")).senderId).toBe("user:7");
    const third = await t.connect("8", { iss: "user-backend", secret: ISSUERS[0]!.secret });
    for (const [event, payload] of [
      ["conversation:open", { conversationId: id }],
      ["conversation:history", { conversationId: id }],
      ["conversation:sync", { conversationId: id, afterSeq: 0 }],
      ["conversation:join", { conversationId: id }],
      ["message:send", { conversationId: id, clientId: "x", text: "let me in" }],
    ] as const) {
      expect(await third.call(event, payload), event).toMatchObject({ ok: false, error: { code: "forbidden" } });
    }
    await settle();
    expect(third.received("message:new")).toHaveLength(0);
    const rest = await t.request("GET", `/v1/conversations/${id}/messages`, { auth: third.token });
    expect(rest.status).toBe(403);
  });

  it("lets the API key act as admin, or as exactly one user with Parley-User", async () => {
    const me = await t.request("GET", "/v1/me", { auth: API_KEY });
    expect(me.body.user.roles).toContain("admin");
    const created = await t.request("POST", "/v1/conversations", { auth: API_KEY, body: { kind: "direct", members: ["a", "b"] } });
    const id = created.body.conversation.id;
    const asC = await t.request("GET", `/v1/conversations/${id}`, { auth: API_KEY, actAs: "c" });
    expect(asC.status).toBe(403);
    const asA = await t.request("POST", `/v1/conversations/${id}/messages`, { auth: API_KEY, actAs: "a", body: { text: "hi" } });
    expect(asA.body.message.senderId).toBe("a");
    const tokenWithActAs = await t.request("GET", "/v1/me", { auth: await signToken("a"), actAs: "b" });
    expect(tokenWithActAs.status).toBe(401);
    const bad = await t.request("GET", "/v1/me", { auth: "pk_wrong_key_0123456789" });
    expect(bad.body.error).toMatchObject({ code: "unauthenticated", details: { reason: "invalid" } });
    const missing = await t.request("GET", "/v1/conversations");
    expect(missing.status).toBe(401);
    expect(missing.body.error.details.reason).toBe("missing");
    const expired = await t.request("GET", "/v1/me", { auth: await signToken("a", { expiresIn: -10 }) });
    expect(expired.body.error.details.reason).toBe("expired");
  });

  it("keeps creation to those allowed: groups and channels by the server, guests only support", async () => {
    const user = await t.connect("u1");
    const guest = await t.connect("g1", { roles: ["guest"] });
    expect(await user.call("conversation:create", { kind: "group", members: ["u2"] })).toMatchObject({ error: { code: "forbidden" } });
    expect(await user.call("conversation:create", { kind: "channel" })).toMatchObject({ error: { code: "forbidden" } });
    expect(await guest.call("conversation:create", { kind: "direct", members: ["u1"] })).toMatchObject({ error: { code: "forbidden" } });
    expect(await user.call("conversation:create", { kind: "direct", members: ["u2", "u3"] })).toMatchObject({
      error: { code: "invalid_argument" },
    });
    expect(await counts()).toEqual({ messages: 0, conversations: 0, members: 0 });
  });

  describe("bad input writes nothing", () => {
    let alice: ConnectedClient;
    let conversationId: string;

    beforeEach(async () => {
      alice = await t.connect("alice");
      conversationId = ok(await alice.call("conversation:create", { kind: "direct", members: ["bob"] })).id;
      ok(await alice.call("message:send", { conversationId, clientId: "seed", text: "first" }));
    });

    it("answers malformed payloads with invalid_argument on every event", async () => {
      const before = await counts();
      const events = [
        "conversation:list", "conversation:create", "conversation:open", "conversation:close", "conversation:join",
        "conversation:leave", "conversation:sync", "conversation:history", "conversation:read", "conversation:delivered",
        "conversation:resolve", "message:send", "message:edit", "message:delete", "message:react",
      ];
      const junk: unknown[] = [
        null, 42, "text", [], { conversationId: 5 }, { conversationId: conversationId, extra: { __proto__: { x: 1 } } },
        { conversationId, limit: 10_000 }, { conversationId, afterSeq: -1 }, { conversationId: "x".repeat(5000) },
      ];
      for (const event of events) {
        for (const payload of junk) {
          const ack = await alice.call(event, payload);
          expect(ack, `${event} ${JSON.stringify(payload)}`).toMatchObject({ ok: false, error: { code: "invalid_argument" } });
        }
      }
      expect(await alice.call("message:send", null)).toMatchObject({ ok: false, error: { code: "invalid_argument" } });
      expect(await alice.call("conversation:sync", { conversationId })).toMatchObject({ error: { code: "invalid_argument" } });
      expect(await counts()).toEqual(before);
      expect(ok(await alice.call("conversation:history", { conversationId })).messages).toHaveLength(1);
    });

    it("refuses NUL and unpaired surrogates anywhere they would reach the database", async () => {
      const before = await counts();
      expect(await alice.call("conversation:open", { conversationId: "a\u0000b" })).toMatchObject({ error: { code: "invalid_argument" } });
      expect(await alice.call("message:send", { conversationId, clientId: "nul\u0000", text: "x" })).toMatchObject({
        error: { code: "invalid_argument" },
      });
      expect(await alice.call("message:send", { conversationId, clientId: "meta", text: "x", metadata: { note: "a\u0000" } })).toMatchObject({
        error: { code: "invalid_argument" },
      });
      expect((await t.request("GET", "/v1/search?q=%00", { auth: alice.token })).status).toBe(400);
      expect((await t.request("GET", "/v1/conversations/by-ref/%00", { auth: alice.token })).status).toBe(400);
      const named = await t.connect("nils", { name: "Ni\u0000ls\uD800" });
      expect(named.session.user.name).toBe("Nils");
      expect(await counts()).toEqual(before);
    });

    it("refuses a sender chosen by the client", async () => {
      const before = await counts();
      const ack = await alice.call("message:send", { conversationId, clientId: "spoof", text: "as bob", senderId: "bob" });
      expect(ack).toMatchObject({ ok: false, error: { code: "invalid_argument" } });
      const rest = await t.request("POST", `/v1/conversations/${conversationId}/messages`, {
        auth: alice.token,
        body: { text: "as bob", senderId: "bob" },
      });
      expect(rest.status).toBe(400);
      expect(rest.body.error.code).toBe("invalid_argument");
      expect(await counts()).toEqual(before);
    });

    it("checks message text: length in code points, NUL, lone surrogates, blank", async () => {
      const before = await counts();
      const send = (text: string, clientId = Math.random().toString(36)) => alice.call("message:send", { conversationId, clientId, text });
      expect(await send("a".repeat(5001))).toMatchObject({ error: { code: "payload_too_large" } });
      expect(await send("bad\u0000byte")).toMatchObject({ error: { code: "invalid_argument" } });
      expect(await send("half \uD83D pair")).toMatchObject({ error: { code: "invalid_argument" } });
      expect(await send("\uDE00 reversed")).toMatchObject({ error: { code: "invalid_argument" } });
      expect(await send("   \n\t ")).toMatchObject({ error: { code: "invalid_argument" } });
      expect(await counts()).toEqual(before);
      // 5000 emoji are 10000 UTF-16 units but 5000 code points: accepted, stored exactly.
      const emoji = "😀".repeat(5000);
      expect(ok(await send(emoji)).text).toBe(emoji);
      const html = "<img src=x onerror=alert(1)>";
      expect(ok(await send(html)).text).toBe(html);
    });

    it("drops a socket that sends a packet over 64 KiB, storing nothing", async () => {
      const before = await counts();
      const closed = new Promise<string>((resolve) => alice.socket.once("disconnect", (reason) => resolve(reason)));
      alice.socket.emit("message:send", { conversationId, clientId: "big", text: "x".repeat(70_000) }, () => {});
      expect(await closed).toBe("transport close");
      expect(await counts()).toEqual(before);
      const check = await t.connect("alice");
      expect(ok(await check.call("conversation:history", { conversationId })).messages).toHaveLength(1);
    });

    it("answers bad REST requests with error bodies and writes nothing", async () => {
      const before = await counts();
      const auth = alice.token;
      const badJson = await fetch(`${t.url}/v1/conversations/${conversationId}/messages`, {
        method: "POST",
        headers: { authorization: `Bearer ${auth}`, "content-type": "application/json" },
        body: "{not json",
      });
      expect(badJson.status).toBe(400);
      expect(((await badJson.json()) as { error: { code: string } }).error.code).toBe("invalid_argument");
      const both = await t.request("GET", `/v1/conversations/${conversationId}/messages?beforeSeq=5&afterSeq=1`, { auth });
      expect(both.body.error.code).toBe("invalid_argument");
      const hugeLimit = await t.request("GET", `/v1/conversations/${conversationId}/messages?limit=5000`, { auth });
      expect(hugeLimit.status).toBe(400);
      const unknown = await t.request("GET", "/v1/nothing-here", { auth });
      expect(unknown.body.error.code).toBe("not_found");
      const missing = await t.request("GET", "/v1/conversations/does-not-exist", { auth });
      expect(missing.status).toBe(404);
      const protoMeta = await t.request("POST", "/v1/conversations", {
        auth: API_KEY,
        body: '{"kind":"channel","metadata":{"__proto__":{"polluted":true}}}',
      });
      expect(protoMeta.status).toBe(400);
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
      expect(await counts()).toEqual(before);
    });
  });
});

describe("dev mode", () => {
  const [sqlite] = backends();
  afterAll(() => sqlite!.cleanup());

  it("accepts tokens without exp only in dev mode", async () => {
    const t = await startTestServer(await sqlite!.create(), { dev: true });
    try {
      const client = await t.connect("devuser", { expiresIn: null });
      expect(client.session.user.id).toBe("devuser");
    } finally {
      await t.close();
    }
  });
});
