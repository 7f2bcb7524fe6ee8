import { afterAll, describe, expect, it } from "vitest";
import { seedDemoData } from "../src/dev/demo-data.js";
import { DEMO_USERS } from "../src/dev/demo-users.js";
import { backends } from "./support/backends.js";
import { API_KEY, startTestServer } from "./support/test-server.js";

const quiet = { info: () => undefined, warn: (message: string) => expect.fail(message) };

describe("outside dev mode", () => {
  const [sqlite] = backends();
  afterAll(() => sqlite!.cleanup());

  it("answers 404 on every /dev path and serves the web app only outside the server's paths", async () => {
    const t = await startTestServer(await sqlite!.create());
    try {
      expect((await t.request("GET", "/dev/users")).status).toBe(404);
      expect((await t.request("POST", "/dev/token", { body: { userId: "casey" } })).status).toBe(404);
      expect((await t.request("GET", "/dev/login")).status).toBe(404);
      expect((await t.request("GET", "/dev")).status).toBe(404);
      expect((await t.request("GET", "/web-app.json")).body).toMatchObject({ dev: false, guests: false, uploadMaxBytes: 10 * 1024 * 1024 });
      // Without guests, nobody learns whether support is staffed without a token.
      expect((await t.request("GET", "/v1/support/availability")).status).toBe(401);

      for (const page of ["/", "/c/some-conversation", "/desk", "/support"]) {
        const res = await t.request("GET", page);
        expect(res.status, page).toBe(200);
        expect(res.headers.get("content-type"), page).toMatch(/^text\/html/);
        expect(res.headers.get("content-security-policy"), page).toContain("script-src 'self'");
      }
      // The server's own paths are never shadowed by the app.
      const missing = await t.request("GET", "/v1/no-such-thing", { auth: API_KEY });
      expect(missing.status).toBe(404);
      expect(missing.body).toMatchObject({ error: { code: "not_found" } });
      expect((await t.request("GET", "/health")).body).toMatchObject({ status: "ok" });
      expect((await t.request("GET", "/metrics")).headers.get("content-type")).toMatch(/^text\/plain/);
      const openapi = (await t.request("GET", "/docs/json")).body;
      expect(openapi).toMatchObject({ openapi: "3.1.0" });
      // The multipart upload and the file download are described too.
      expect(openapi.paths["/v1/uploads"].post.requestBody.content["multipart/form-data"].schema.required).toEqual(["file"]);
      expect(Object.keys(openapi.paths["/v1/uploads/{id}"].get.responses)).toEqual(["200", "400", "401", "403", "404"]);
      // Request bodies carry the bounds the server enforces: a client generated from the document refuses what the server would.
      const body = (path: string, method = "post") => openapi.paths[path][method].requestBody.content["application/json"].schema;
      const send = body("/v1/conversations/{id}/messages");
      expect(send.properties.clientId).toMatchObject({ type: "string", minLength: 1, maxLength: 200 });
      expect(send.properties.metadata).toMatchObject({ type: "object" });
      expect(body("/v1/conversations").properties.title).toMatchObject({ type: "string", maxLength: 200 });
      expect(body("/v1/guests").properties.name).toMatchObject({ type: "string", minLength: 1, maxLength: 100 });
      expect(body("/v1/tokens").properties.sub).toMatchObject({ minLength: 1, maxLength: 200, pattern: "^[^:]*$" });
      expect((await t.request("GET", "/socket.io/?EIO=4&transport=polling")).status).toBe(200);
      // A missing file is a 404, not the app; paths cannot climb out of the app's folder.
      expect((await t.request("GET", "/assets/missing-file.js")).status).toBe(404);
      expect((await t.request("GET", "/..%2f..%2fpackage.json")).status).toBe(404);
    } finally {
      await t.close();
    }
  });
});

describe.each(backends())("dev mode on $name", (backend) => {
  afterAll(() => backend.cleanup());

  it("lists the demo users and mints a token for one of them only", async () => {
    const t = await startTestServer(await backend.create(), { dev: true });
    try {
      const { body: list } = await t.request("GET", "/dev/users");
      const labels = list.users.map((u: { label: string }) => u.label);
      for (const label of ["Customer", "Photographer", "Bartender", "Provider", "Moderator", "Guest visitor", "Community member"]) {
        expect(labels).toContain(label);
      }
      expect(labels.filter((l: string) => l === "Operator")).toHaveLength(2);

      const minted = await t.request("POST", "/dev/token", { body: { userId: "olivia" } });
      expect(minted.status).toBe(201);
      expect(minted.body.user).toEqual({ id: "olivia", name: "Olivia Chen", roles: ["operator"] });
      const me = await t.request("GET", "/v1/me", { auth: minted.body.token });
      expect(me.body.user).toMatchObject({ id: "olivia", roles: ["operator"] });

      const guest = await t.request("POST", "/dev/token", { body: { userId: "guest-demo" } });
      const guestInbox = await t.request("GET", "/v1/conversations", { auth: guest.body.token });
      expect(guestInbox.status).toBe(200);

      expect((await t.request("POST", "/dev/token", { body: { userId: "admin" } })).status).toBe(404);
      expect((await t.request("POST", "/dev/token", { body: {} })).status).toBe(400);
      expect((await t.request("GET", "/web-app.json")).body).toMatchObject({ dev: true });
      const login = await t.request("GET", "/dev/login");
      expect(login.status).toBe(200);
      expect(login.headers.get("content-type")).toMatch(/^text\/html/);
    } finally {
      await t.close();
    }
  });

  it("creates one conversation per seed scenario once, however often it starts", async () => {
    const t = await startTestServer(await backend.create(), { dev: true });
    try {
      const first = await seedDemoData(t.server.domain, quiet);
      expect(first.created).toEqual([
        "demo:booking:42",
        "demo:marketplace:casey-pat",
        "demo:dispute:7",
        "demo:community:general",
        "demo:support:val",
        "demo:support:noah",
      ]);
      const stats = async () => (await t.request("GET", "/v1/stats", { auth: API_KEY })).body.totals;
      const before = await stats();
      expect(before.conversations).toEqual({ direct: 1, group: 2, channel: 1, support: 2 });
      expect((await seedDemoData(t.server.domain, quiet)).created).toEqual([]);
      expect(await stats()).toEqual(before);

      const inbox = async (userId: string) =>
        (await t.request("GET", "/v1/conversations", { auth: API_KEY, actAs: userId })).body.conversations as Array<{
          ref: string;
          unreadCount: number;
          lastMessage: { text: string; attachments: unknown[] } | null;
        }>;
      const casey = await inbox("casey");
      expect(casey.map((c) => c.ref).sort()).toEqual([
        "demo:booking:42",
        "demo:community:general",
        "demo:dispute:7",
        "demo:marketplace:casey-pat",
      ]);
      expect(casey.find((c) => c.ref === "demo:booking:42")?.unreadCount).toBe(1);
      const olivia = await inbox("olivia");
      expect(olivia.filter((c) => c.ref.startsWith("demo:support:")).length).toBe(2);
      expect(olivia.find((c) => c.ref === "demo:support:val")?.unreadCount).toBe(1);

      const dm = await t.request("GET", `/v1/conversations/by-ref/${encodeURIComponent("demo:marketplace:casey-pat")}`, { auth: API_KEY });
      const history = await t.request("GET", `/v1/conversations/${dm.body.conversation.id}/messages`, { auth: API_KEY });
      const photo = history.body.messages.find((m: { type: string }) => m.type === "image");
      expect(photo.attachments[0]).toMatchObject({ mimeType: "image/png", width: 480, height: 320 });
      expect(photo.reactions).toEqual({ "❤️": ["casey"] });
      expect(DEMO_USERS.length).toBeGreaterThanOrEqual(10);
    } finally {
      await t.close();
    }
  });
});
