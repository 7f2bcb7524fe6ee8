import { existsSync, readdirSync } from "node:fs";
import http from "node:http";
import fc from "fast-check";
import { afterAll, afterEach, beforeEach, describe, expect, it } from "vitest";
import { ERROR_CODES, ERROR_STATUS, type Ack, type ErrorCode } from "@parley/protocol";
import { backends } from "./support/backends.js";
import { API_KEY, ok, startTestServer, type ConnectedClient, type TestServer } from "./support/test-server.js";

const EVENTS = [
  "conversation:list",
  "conversation:create",
  "conversation:open",
  "conversation:close",
  "conversation:join",
  "conversation:leave",
  "conversation:sync",
  "conversation:history",
  "conversation:read",
  "conversation:delivered",
  "conversation:resolve",
  "message:send",
  "message:edit",
  "message:delete",
  "message:react",
  "message:get",
  "typing",
  "presence:get",
  "auth:refresh",
] as const;

const FIELDS = [
  "__proto__", "constructor", "prototype", "conversationId", "messageId", "clientId", "text", "type", "kind",
  "members", "ref", "title", "metadata", "limit", "cursor", "seq", "afterSeq", "beforeSeq", "scope", "emoji",
  "on", "typing", "userIds", "token", "attachments", "replyTo", "senderId", "status", "messageIds",
];

/** Values that break naive servers: wrong types, huge and invalid strings, deep and odd objects. */
function hostile(ids: { conversationId: string; messageId: string }) {
  const leaf = fc.oneof(
    fc.string(),
    fc.string({ unit: "binary", maxLength: 20 }),
    fc.string({ minLength: 6000, maxLength: 9000 }),
    fc.constantFrom("\u0000", "\uD800", "\uDFFF", "<img src=x onerror=alert(1)>", "' OR 1=1 --", "%00", "../../etc/passwd"),
    fc.integer(),
    fc.double(),
    fc.constantFrom(-1, 0, 2 ** 53, Number.MAX_SAFE_INTEGER + 2, 1e308),
    fc.boolean(),
    fc.constant(null),
    fc.constantFrom(ids.conversationId, ids.messageId),
  );
  const { tree } = fc.letrec((tie) => ({
    tree: fc.oneof({ depthSize: "small", withCrossShrink: true }, leaf, tie("array"), tie("object")),
    array: fc.array(tie("tree"), { maxLength: 4 }),
    object: fc.dictionary(fc.constantFrom(...FIELDS), tie("tree"), { maxKeys: 6 }),
  }));
  const deep = fc.integer({ min: 50, max: 400 }).map((n) => {
    let v: unknown = "bottom";
    for (let i = 0; i < n; i++) v = { metadata: v };
    return { conversationId: ids.conversationId, clientId: "deep", text: "x", metadata: v };
  });
  const nearlyValid = fc.record(
    {
      conversationId: fc.oneof(fc.constant(ids.conversationId), leaf),
      messageId: fc.oneof(fc.constant(ids.messageId), leaf),
      clientId: fc.oneof(fc.string({ minLength: 1, maxLength: 10 }), leaf),
      text: leaf,
      seq: leaf,
      afterSeq: leaf,
      scope: fc.oneof(fc.constantFrom("me", "everyone"), leaf),
      extra: tree,
    },
    { requiredKeys: [] },
  );
  return fc.oneof(tree, deep, nearlyValid, fc.anything({ maxDepth: 3 }));
}

describe.each(backends())("hostile input on $name", (backend) => {
  let t: TestServer;
  let alice: ConnectedClient;
  let ids: { conversationId: string; messageId: string };

  beforeEach(async () => {
    t = await startTestServer(await backend.create(), { rateMessages: "100000/s,100000", uploadMaxBytes: 64 * 1024 });
    alice = await t.connect("alice");
    const conversationId = ok(await alice.call("conversation:create", { kind: "direct", members: ["bob"] })).id;
    const messageId = ok(await alice.call("message:send", { conversationId, clientId: "seed", text: "seed" })).id;
    ids = { conversationId, messageId };
  });
  afterEach(async () => {
    await t.close();
  });
  afterAll(() => backend.cleanup());

  /** Row counts of every table, the conversation's last seq, and the files in the uploads directory. */
  async function counts(): Promise<Counts> {
    const db = t.server.storage.db;
    const tables = ["messages", "conversations", "members", "users", "hidden_messages", "uploads", "webhook_outbox"] as const;
    const values = await Promise.all(
      tables.map(async (table) => Number((await db.selectFrom(table).select((eb) => eb.fn.countAll().as("n")).executeTakeFirstOrThrow()).n)),
    );
    const seq = await db.selectFrom("conversations").select("last_seq").where("id", "=", ids.conversationId).executeTakeFirst();
    const files = existsSync(t.config.uploadsDir) ? readdirSync(t.config.uploadsDir, { recursive: true }).length : 0;
    const [messages, conversations, members, users, hiddenMessages, uploads, webhookOutbox] = values as [number, number, number, number, number, number, number];
    return { messages, conversations, members, users, hiddenMessages, uploads, webhookOutbox, lastSeq: Number(seq?.last_seq ?? -1), files };
  }

  it("answers every client event with a clear error code, never crashes, and writes nothing on error", async () => {
    let errors = 0;
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...EVENTS), hostile(ids), async (event, payload) => {
        // Stay just under the 100 events/s limit: this checks validation, not flooding.
        await new Promise((r) => setTimeout(r, 12));
        const before = JSON.stringify(await counts());
        let ack: Ack<unknown>;
        try {
          ack = await alice.call(event, payload);
        } catch (err) {
          // Only a payload over the 64 KiB transport limit may drop the socket.
          expect(JSON.stringify(payload).length).toBeGreaterThan(60_000);
          alice = await t.connect("alice");
          void err;
          return;
        }
        if (ack.ok) return;
        errors++;
        expect(ERROR_CODES).toContain(ack.error.code);
        expect(ack.error.code).not.toBe("internal");
        expect(typeof ack.error.message).toBe("string");
        expect(JSON.stringify(await counts())).toBe(before);
      }),
      { numRuns: 400 },
    );
    expect(errors).toBeGreaterThan(300);
    expect(Object.prototype).not.toHaveProperty("polluted");
    expect(ok(await alice.call("conversation:history", { conversationId: ids.conversationId })).messages[0].text).toBe("seed");
  }, 120_000);

  /** Checks a refusal is Parley's `{ error: { code, message, details? } }` with the status of its code, and nothing else. */
  function expectContractError(res: RawResponse, label: string): void {
    let body: { error?: { code?: unknown; message?: unknown; details?: unknown } } & Record<string, unknown>;
    try {
      body = JSON.parse(res.text) as typeof body;
    } catch {
      throw new Error(`${label}: answered ${res.status} with a body that is not JSON: ${res.text.slice(0, 200)}`);
    }
    expect(Object.keys(body ?? {}), `${label}: ${res.text.slice(0, 300)}`).toEqual(["error"]);
    const { code, message, details, ...rest } = body.error ?? {};
    expect(rest, `${label}: ${res.text.slice(0, 300)}`).toEqual({});
    expect(ERROR_CODES, label).toContain(code);
    expect(res.status, `${label}: ${res.text.slice(0, 300)}`).toBe(ERROR_STATUS[code as ErrorCode]);
    expect(code, `${label}: ${res.text.slice(0, 300)}`).not.toBe("internal");
    expect(typeof message === "string" && message.length > 0, label).toBe(true);
    if (details !== undefined) expect(typeof details, label).toBe("object");
  }

  /** A success, or a contract error with nothing written; `actedAs` allows the acted-as user's row (Parley keeps a row per user seen). */
  async function expectAnswered(res: RawResponse, label: string, before: Counts, actedAs = false): Promise<void> {
    if (res.status < 400) {
      expect([200, 201, 204], `${label}: ${res.text.slice(0, 300)}`).toContain(res.status);
      return;
    }
    expectContractError(res, label);
    const after = await counts();
    if (actedAs) {
      expect(after.users - before.users, label).toBeLessThanOrEqual(1);
      after.users = before.users;
    }
    expect(after, `${label}: wrote something although refused`).toEqual(before);
  }

  it("answers every REST endpoint's hostile body and query in the error shape and writes nothing on error", async () => {
    const { conversationId, messageId } = ids;
    const routes: Array<[string, string]> = [
      ["POST", "/v1/conversations"],
      ["PATCH", `/v1/conversations/${conversationId}`],
      ["POST", `/v1/conversations/${conversationId}/members`],
      ["POST", `/v1/conversations/${conversationId}/messages`],
      ["PATCH", `/v1/conversations/${conversationId}/messages/${messageId}`],
      ["POST", `/v1/conversations/${conversationId}/read`],
      ["POST", "/v1/tokens"],
      ["POST", "/v1/guests"],
      ["POST", "/v1/uploads"],
      ["GET", `/v1/conversations/${conversationId}/messages?limit=`],
      ["GET", `/v1/conversations/${conversationId}/messages?afterSeq=`],
      ["GET", "/v1/conversations?cursor="],
      ["GET", "/v1/search?q="],
      ["GET", `/v1/conversations/${conversationId}?x=`],
      ["GET", "/v1/conversations/by-ref/"],
      ["GET", `/v1/conversations/${conversationId}/members?x=`],
      ["DELETE", `/v1/conversations/${conversationId}/members/`],
      ["DELETE", `/v1/conversations/${conversationId}/messages/${messageId}?scope=`],
      ["PUT", `/v1/conversations/${conversationId}/messages/${messageId}/reactions/`],
      ["DELETE", `/v1/conversations/${conversationId}/messages/${messageId}/reactions/`],
      ["DELETE", "/v1/users/"],
      ["GET", "/v1/uploads/"],
      ["GET", "/v1/me?x="],
      ["GET", "/v1/stats?x="],
      ["GET", "/v1/channels?cursor="],
      ["GET", "/v1/support/availability?x="],
    ];
    const statuses = new Map<number, number>();
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...routes),
        hostile(ids),
        fc.string({ unit: "binary", maxLength: 40 }),
        fc.constantFrom(alice.token, API_KEY),
        async ([method, path], body, raw, credential) => {
          const before = await counts();
          const withRaw = path.endsWith("=") || path.endsWith("/") ? path + encodeURIComponentLoosely(raw) : path;
          const hasBody = method !== "GET" && method !== "DELETE";
          const res = await rawRequest(t.url, method, withRaw, {
            headers: { authorization: `Bearer ${credential}`, ...(hasBody ? { "content-type": "application/json" } : {}) },
            ...(hasBody ? { body: typeof body === "string" ? body : JSON.stringify(body) } : {}),
          });
          statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
          await expectAnswered(res, `${method} ${withRaw.slice(0, 120)}`, before);
        },
      ),
      { numRuns: 400 },
    );
    process.stdout.write(`[fuzz] REST bodies on ${backend.name}: answers by status ${JSON.stringify(Object.fromEntries(statuses))}\n`);
    const health = await t.request("GET", `/v1/conversations/${conversationId}/messages`, { auth: API_KEY });
    expect(health.status).toBe(200);
  }, 120_000);

  it("answers hostile path segments, query strings and credentials on every endpoint in the error shape and writes nothing on refusal", async () => {
    const { conversationId, messageId } = ids;
    const c = ":conversation";
    const m = ":message";
    const routes: Array<[string, string, unknown?]> = [
      ["GET", `/v1/conversations/${c}`],
      ["PATCH", `/v1/conversations/${c}`, { title: "renamed" }],
      ["GET", "/v1/conversations/by-ref/:ref"],
      ["GET", `/v1/conversations/${c}/members`],
      ["POST", `/v1/conversations/${c}/members`, { userId: "carol" }],
      ["DELETE", `/v1/conversations/${c}/members/:user`],
      ["GET", `/v1/conversations/${c}/messages`],
      ["POST", `/v1/conversations/${c}/messages`, { clientId: "path-fuzz", text: "hello" }],
      ["PATCH", `/v1/conversations/${c}/messages/${m}`, { text: "edited" }],
      ["DELETE", `/v1/conversations/${c}/messages/${m}?scope=me`],
      ["PUT", `/v1/conversations/${c}/messages/${m}/reactions/:emoji`],
      ["DELETE", `/v1/conversations/${c}/messages/${m}/reactions/:emoji`],
      ["POST", `/v1/conversations/${c}/read`, { seq: 1 }],
      ["GET", "/v1/uploads/:upload"],
      ["DELETE", "/v1/users/:user"],
      ["GET", "/v1/me?:query"],
      ["GET", "/v1/stats?:query"],
      ["GET", "/v1/channels?:query"],
      ["GET", "/v1/conversations?:query"],
      ["GET", "/v1/search?q=:query"],
    ];
    const statuses = new Map<number, number>();
    const valid: Record<string, string> = {
      ":conversation": conversationId,
      ":message": messageId,
      ":ref": "no-such-ref",
      ":user": "bob",
      ":emoji": encodeURIComponent("👍"),
      ":upload": "no-such-upload",
      ":query": "limit=1",
    };
    // Mostly valid credentials, since a request refused at sign-in never reaches its path's validation.
    const credential = fc.oneof(
      { arbitrary: fc.constant({ authorization: `Bearer ${alice.token}` }), weight: 5 },
      { arbitrary: fc.constant({ authorization: `Bearer ${API_KEY}` }), weight: 4 },
      { arbitrary: headerValue.map((actAs) => ({ authorization: `Bearer ${API_KEY}`, "parley-user": actAs })), weight: 2 },
      { arbitrary: headerValue.map((token) => ({ authorization: `Bearer ${token}` })), weight: 1 },
      { arbitrary: headerValue.map((value) => ({ authorization: value })), weight: 1 },
      { arbitrary: fc.constant({}), weight: 1 },
    );
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...routes),
        fc.array(fc.option(pathSegment, { nil: undefined, freq: 3 }), { minLength: 4, maxLength: 4 }),
        credential,
        async ([method, template, body], segments, headers) => {
          let n = 0;
          // Each placeholder gets a valid value or a hostile segment, sent as it is (only bytes HTTP cannot carry are escaped).
          const path = template.replace(/:(conversation|message|ref|user|emoji|upload|query)/g, (name) => segments[n++] ?? valid[name]!);
          const before = await counts();
          const res = await rawRequest(t.url, method, path, {
            headers: { ...headers, ...(body === undefined ? {} : { "content-type": "application/json" }) },
            ...(body === undefined ? {} : { body: JSON.stringify(body) }),
          });
          statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
          await expectAnswered(res, `${method} ${path.slice(0, 160)} as ${JSON.stringify(headers).slice(0, 80)}`, before, "parley-user" in headers);
        },
      ),
      { numRuns: 500 },
    );
    process.stdout.write(`[fuzz] REST paths on ${backend.name}: answers by status ${JSON.stringify(Object.fromEntries(statuses))}\n`);
    expect((await t.request("GET", `/v1/conversations/${conversationId}/messages`, { auth: API_KEY })).status).toBe(200);
  }, 120_000);

  it("answers hostile multipart uploads (names, types, sizes, several files) in the error shape and stores nothing on refusal", async () => {
    const max = t.config.uploadMaxBytes;
    const file = fc.record({
      field: fc.constantFrom("file", "file", "upload", "", "__proto__"),
      name: fc.oneof(
        fc.constantFrom(
          "notes.txt", "../../etc/passwd", "..\\..\\boot.ini", "a\u0000b.txt", "", ".", "..", "x".repeat(1000), "CON", "%E0%A4%A.txt",
          "quote\".txt", "line\r\nContent-Type: image/png\r\n\r\nx.txt", "ünïcödé 👍.txt", "\uD800.txt", "<script>alert(1)</script>.txt",
        ),
        fc.string({ maxLength: 300 }),
        fc.string({ unit: "binary", maxLength: 60 }),
      ),
      type: fc.constantFrom(
        "text/plain", "text/plain; charset=utf-8", "TEXT/PLAIN", "image/png", "image/svg+xml", "text/html", "application/x-msdownload",
        "application/octet-stream", "", "image/*", "x".repeat(300), "text/plain\u0000", "application/pdf",
      ),
      size: fc.constantFrom(0, 1, 100, max - 1, max, max + 1, max * 2),
      image: fc.boolean(),
    });
    const request = fc.record({
      files: fc.array(file, { minLength: 0, maxLength: 3 }),
      fields: fc.array(fc.tuple(fc.constantFrom("name", "type", "x".repeat(2000), "__proto__"), fc.string({ maxLength: 3000 })), { maxLength: 3 }),
      contentType: fc.constantFrom("multipart", "multipart", "multipart", "no-boundary", "wrong-boundary", "text/plain", "application/json"),
    });
    let stored = 0;
    const codes = new Map<string, number>();
    await fc.assert(
      fc.asyncProperty(request, async ({ files, fields, contentType }) => {
        const boundary = `----parley${Math.random().toString(16).slice(2)}`;
        const parts: Buffer[] = [];
        for (const [name, value] of fields) {
          parts.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`));
        }
        for (const f of files) {
          const bytes = f.image && f.size >= TINY_PNG.length ? Buffer.concat([TINY_PNG, Buffer.alloc(f.size - TINY_PNG.length)]) : Buffer.alloc(f.size, 0x61);
          parts.push(
            Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${f.field}"; filename="${f.name}"\r\nContent-Type: ${f.type}\r\n\r\n`),
            bytes,
            Buffer.from("\r\n"),
          );
        }
        parts.push(Buffer.from(`--${boundary}--\r\n`));
        const header = {
          multipart: `multipart/form-data; boundary=${boundary}`,
          "no-boundary": "multipart/form-data",
          "wrong-boundary": "multipart/form-data; boundary=not-the-one",
          "text/plain": "text/plain",
          "application/json": "application/json",
        }[contentType];
        const before = await counts();
        const res = await rawRequest(t.url, "POST", "/v1/uploads", {
          headers: { authorization: `Bearer ${alice.token}`, "content-type": header },
          body: Buffer.concat(parts),
        });
        const label = `upload of ${JSON.stringify(files.map((f) => ({ ...f, name: f.name.slice(0, 40), type: f.type.slice(0, 40) })))} as ${contentType}`;
        if (res.status >= 400) {
          await expectAnswered(res, label, before);
          const code = (JSON.parse(res.text) as { error: { code: string } }).error.code;
          codes.set(code, (codes.get(code) ?? 0) + 1);
          return;
        }
        expect(res.status, `${label}: ${res.text.slice(0, 300)}`).toBe(201);
        stored++;
        const { attachment } = JSON.parse(res.text) as { attachment: { id: string; name: string; mimeType: string; size: number } };
        // A filename with a line break cannot be carried in a part's header: the parser drops such a
        // part, so it never reaches the server as a file (parts without a field name are not counted either).
        const readable = files.filter((f) => f.field !== "" && !/[\r\n]/.test(f.name));
        const sent = readable[0] ?? files[0]!;
        // One file per upload: a second file refuses the whole request.
        expect(readable.length, label).toBeLessThanOrEqual(1);
        expect(attachment.size, label).toBeLessThanOrEqual(max);
        expect([...attachment.name].some((ch) => ch < " " || ch === "/" || ch === "\\"), `${label}: ${attachment.name}`).toBe(false);
        expect(attachment.name.length, label).toBeGreaterThan(0);
        expect(attachment.name.length, label).toBeLessThanOrEqual(200);
        expect(t.config.uploadTypes.some((p) => (p.endsWith("/*") ? attachment.mimeType.startsWith(p.slice(0, -1)) : p === attachment.mimeType)), label).toBe(true);
        expect(attachment.size, label).toBe(sent.size);
        const after = await counts();
        expect([after.uploads - before.uploads, after.files - before.files], label).toEqual([1, 1]);
      }),
      {
        numRuns: 250,
        // Uploads that must be stored, run first, so that the checks of an accepted upload run in every run
        // (by chance alone a run of 250 can draw none).
        examples: [
          [{ files: [{ field: "file", name: "notes.txt", type: "text/plain", size: 100, image: false }], fields: [], contentType: "multipart" }],
          [{ files: [{ field: "file", name: "ünïcödé 👍.txt", type: "image/png", size: max, image: true }], fields: [["name", "x"]], contentType: "multipart" }],
        ],
      },
    );
    process.stdout.write(`[fuzz] uploads on ${backend.name}: stored=${stored} refused=${JSON.stringify(Object.fromEntries(codes))}\n`);
    expect(stored).toBeGreaterThan(0);
  }, 120_000);

  it("reaches ids, refs and user ids of up to 200 characters in the path, and answers bad percent-encoding in the error shape", async () => {
    const refs = ["r".repeat(130), "r".repeat(200), "é".repeat(200), "€".repeat(200), `${"👍".repeat(99)}/.`];
    for (const ref of refs) {
      const created = await t.request("POST", "/v1/conversations", { auth: API_KEY, body: { kind: "group", ref, members: ["alice", ref] } });
      expect(created.status, `create with a ${ref.length}-character ref`).toBe(201);
      const found = await rawRequest(t.url, "GET", `/v1/conversations/by-ref/${encodeURIComponent(ref)}`, { headers: { authorization: `Bearer ${alice.token}` } });
      expect(found.status, `GET by-ref of a ${ref.length}-character ref (${encodeURIComponent(ref).length} in the URL): ${found.text.slice(0, 200)}`).toBe(200);
      expect(JSON.parse(found.text).conversation.id).toBe(created.body.conversation.id);
      // The same string as a user id: a member removed by id, then erased.
      const id = created.body.conversation.id as string;
      const removed = await rawRequest(t.url, "DELETE", `/v1/conversations/${id}/members/${encodeURIComponent(ref)}`, { headers: { authorization: `Bearer ${API_KEY}` } });
      expect(removed.status, `DELETE member ${ref.length} characters: ${removed.text.slice(0, 200)}`).toBe(204);
      const members = (await t.request("GET", `/v1/conversations/${id}/members`, { auth: API_KEY })).body.members.map((mm: { userId: string }) => mm.userId);
      expect(members).toEqual(["alice"]);
      const erased = await rawRequest(t.url, "DELETE", `/v1/users/${encodeURIComponent(ref)}`, { headers: { authorization: `Bearer ${API_KEY}` } });
      expect(erased.status, `DELETE user ${ref.length} characters: ${erased.text.slice(0, 200)}`).toBe(204);
    }
    const before = await counts();
    const tooLong = await rawRequest(t.url, "GET", `/v1/conversations/by-ref/${"r".repeat(201)}`, { headers: { authorization: `Bearer ${alice.token}` } });
    expectContractError(tooLong, "a 201-character ref");
    expect(JSON.parse(tooLong.text).error.code).toBe("invalid_argument");
    for (const path of [
      "/v1/conversations/%E0%A4%A",
      "/v1/conversations/by-ref/%E0%A4%A",
      `/v1/conversations/${ids.conversationId}/messages/%E0%A4%A/reactions/%F0%9F`,
      "/v1/users/%",
      `/v1/conversations/${ids.conversationId}/members/%zz`,
    ]) {
      for (const method of ["GET", "DELETE", "PUT"]) {
        const res = await rawRequest(t.url, method, path, { headers: { authorization: `Bearer ${API_KEY}` } });
        expectContractError(res, `${method} ${path}`);
        expect([400, 404], `${method} ${path}`).toContain(res.status);
      }
    }
    expect(await counts()).toEqual(before);
  }, 60_000);

  it("answers malformed requests in the error shape: raw non-ASCII bytes in the path, multipart without a usable boundary", async () => {
    const before = await counts();
    const auth = { authorization: `Bearer ${alice.token}` };
    // "é" goes out as the single Latin-1 byte 0xE9, which is not UTF-8 and not allowed in a request line.
    for (const path of [`/v1/conversations/${"é".repeat(3)}`, "/v1/conversations/by-ref/caf\u00e9", "/v1/me?name=\u00ff"]) {
      expectContractError(await rawRequest(t.url, "GET", path, { headers: auth }), `GET ${path} sent as raw bytes`);
    }
    const file = '--b\r\nContent-Disposition: form-data; name="file"; filename="a.txt"\r\nContent-Type: text/plain\r\n\r\nhello\r\n--b--\r\n';
    for (const [contentType, body] of [
      ["multipart/form-data", file],
      ["multipart/form-data; boundary=not-the-one", file],
      ["multipart/form-data; boundary=b", file.slice(0, 60)],
      ["multipart/form-data; boundary=b", "--b--\r\n"],
    ] as const) {
      const res = await rawRequest(t.url, "POST", "/v1/uploads", { headers: { ...auth, "content-type": contentType }, body });
      expectContractError(res, `upload as ${contentType} of ${body.length} bytes`);
      expect(JSON.parse(res.text).error.code, `upload as ${contentType} of ${body.length} bytes`).toBe("invalid_argument");
    }
    expect(await counts()).toEqual(before);
  });
});

interface Counts {
  messages: number;
  conversations: number;
  members: number;
  users: number;
  hiddenMessages: number;
  uploads: number;
  webhookOutbox: number;
  lastSeq: number;
  files: number;
}

interface RawResponse {
  status: number;
  text: string;
}

/**
 * An HTTP request whose path goes out as written: `..`, `%E0%A4%A` and raw
 * Latin-1 bytes reach the server untouched (fetch would normalise them); only
 * what a request line cannot carry (controls, spaces, code points above
 * U+00FF, lone surrogates) is percent-encoded as its UTF-8 bytes.
 */
function rawRequest(base: string, method: string, path: string, options: { headers?: Record<string, string>; body?: string | Buffer } = {}): Promise<RawResponse> {
  const url = new URL(base);
  let sent = "";
  for (const ch of path) {
    const code = ch.codePointAt(0)!;
    sent += code >= 0x21 && code <= 0xff ? ch : [...Buffer.from(ch, "utf8")].map((b) => `%${b.toString(16).toUpperCase().padStart(2, "0")}`).join("");
  }
  return new Promise((resolve, reject) => {
    const req = http.request(
      // A connection of its own: a refused request may close the connection, which a reused keep-alive socket would report as a hang-up.
      { host: url.hostname, port: url.port, method, path: sent, headers: options.headers, timeout: 15_000, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString("utf8") }));
        res.on("error", reject);
      },
    );
    req.on("timeout", () => req.destroy(new Error(`no answer to ${method} ${sent.slice(0, 100)}`)));
    req.on("error", reject);
    req.end(options.body);
  });
}

/** encodeURIComponent that leaves what it cannot encode (lone surrogates) as it is. */
function encodeURIComponentLoosely(value: string): string {
  try {
    return encodeURIComponent(value);
  } catch {
    return value;
  }
}

/** A header value Node lets through (tab, printable ASCII and Latin-1), including long and odd ones. */
const headerValue = fc.oneof(
  fc.string({ unit: fc.integer({ min: 0x20, max: 0xff }).filter((c) => c !== 0x7f).map((c) => String.fromCharCode(c)), maxLength: 300 }),
  fc.constantFrom("", "Bearer", "Bearer ", "Basic YWxpY2U6c2VjcmV0", "alice", "a".repeat(201), "\t", "é", "null", "undefined", "__proto__", "eyJhbGciOiJub25lIn0.eyJzdWIiOiJhbGljZSJ9."),
);

/** A path segment: raw hostile strings (long, bad percent-encoding, dot segments, NUL, Unicode) or any string percent-encoded. */
const pathSegment = fc.oneof(
  fc.constantFrom(
    "%E0%A4%A", "%", "%%", "%zz", "%00", "%C0%AF", "%ED%A0%80", "%FF", "..", ".", "%2e%2e", "..%2F..%2Fetc%2Fpasswd", "../../etc/passwd",
    "\u0000", "a\u0000b", "\uD800", "\uDFFF", "é", "👍🏽", "𝕏", "\u202E", "a b", "a?b=c", "a#b", "a;b", "*", "~", "x".repeat(300), "%41".repeat(100),
    "é".repeat(150), "__proto__", "constructor", "null", "0", "-1", "1e308",
  ),
  fc.string({ minLength: 1, maxLength: 300 }),
  fc.string({ unit: "binary", minLength: 1, maxLength: 40 }),
  fc.string({ unit: "grapheme", minLength: 1, maxLength: 60 }),
  fc.string({ minLength: 1, maxLength: 300 }).map(encodeURIComponentLoosely),
  fc.string({ unit: "binary", minLength: 1, maxLength: 200 }).map(encodeURIComponentLoosely),
);

/** The smallest PNG: 1×1, transparent. */
const TINY_PNG = Buffer.from(
  "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d49444154789c6300010000000500010d0a2db40000000049454e44ae426082",
  "hex",
);
