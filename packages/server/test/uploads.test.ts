import { afterAll, afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Message } from "@parley/protocol";
import { topologies } from "./support/topologies.js";
import { ok, type TestServer } from "./support/test-server.js";

/** A valid GIF whose header says `width` × `height`. */
function gif(width: number, height: number): Buffer {
  const bytes = Buffer.from("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7", "base64");
  bytes.writeUInt16LE(width, 6);
  bytes.writeUInt16LE(height, 8);
  return bytes;
}

describe.each(topologies())("uploads and attachments on $name", (topology) => {
  let t: TestServer;
  beforeEach(async () => {
    t = await topology.start({ uploadMaxBytes: 4096 });
  });
  afterEach(async () => {
    await t.close();
  });
  afterAll(() => topology.cleanup());

  async function upload(token: string, bytes: Buffer, name: string, type: string) {
    const form = new FormData();
    form.append("file", new Blob([bytes], { type }), name);
    const res = await fetch(`${t.url}/v1/uploads`, { method: "POST", headers: { authorization: `Bearer ${token}` }, body: form });
    return { status: res.status, body: (await res.json()) as { attachment: { id: string; url: string }; error: { code: string } } };
  }

  async function setup() {
    const alice = await t.connect("alice");
    const bob = await t.connect("bob");
    const conversationId: string = ok(await alice.call("conversation:create", { kind: "direct", members: ["bob"] })).id;
    return { alice, bob, conversationId };
  }

  it("sends an image message whose signed URL works in an <img> for an hour, and is refreshed by history", async () => {
    const { alice, bob, conversationId } = await setup();
    const image = gif(640, 480);
    const uploaded = await upload(alice.token, image, "photo.gif", "image/gif");
    expect(uploaded.status).toBe(201);
    expect(uploaded.body.attachment).toMatchObject({ name: "photo.gif", mimeType: "image/gif", size: image.length, width: 640, height: 480 });

    const sent: Message = ok(
      await alice.call("message:send", { conversationId, clientId: "img", attachments: [{ id: uploaded.body.attachment.id }], text: "Look" }),
    );
    expect(sent).toMatchObject({ type: "image", text: "Look" });
    const live: Message = await bob.waitFor("message:new", (m: Message) => m.id === sent.id);
    const url = live.attachments[0]!.url;
    expect(url).toMatch(new RegExp(`^/v1/uploads/${uploaded.body.attachment.id}\\?expires=\\d+&sig=`));
    const expires = Number(new URL(url, t.url).searchParams.get("expires"));
    expect(expires * 1000 - Date.now()).toBeGreaterThan(3500_000);

    const res = await fetch(t.url + url);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("image/gif");
    expect(res.headers.get("x-content-type-options")).toBe("nosniff");
    expect(Buffer.from(await res.arrayBuffer()).equals(image)).toBe(true);

    const tampered = url.replace(/sig=./, (m) => (m.endsWith("A") ? "sig=B" : "sig=A"));
    expect((await fetch(t.url + tampered)).status).toBe(403);
    expect((await fetch(`${t.url}/v1/uploads/${uploaded.body.attachment.id}`)).status).toBe(401);
    const asBob = await fetch(`${t.url}/v1/uploads/${uploaded.body.attachment.id}`, { headers: { authorization: `Bearer ${bob.token}` } });
    expect(asBob.status).toBe(200);
    const eve = await t.connect("eve");
    const asEve = await fetch(`${t.url}/v1/uploads/${uploaded.body.attachment.id}`, { headers: { authorization: `Bearer ${eve.token}` } });
    expect(asEve.status).toBe(403);

    const history = ok(await bob.call("conversation:history", { conversationId }));
    expect(history.messages[0].attachments[0]).toMatchObject({ id: uploaded.body.attachment.id, width: 640, height: 480 });
    expect(history.messages[0].attachments[0].url).toMatch(/sig=/);

    // Every later copy of the message (a reaction, an edit, over REST or the socket) carries signed URLs too.
    const reacted = await t.request("PUT", `/v1/conversations/${conversationId}/messages/${sent.id}/reactions/${encodeURIComponent("👍")}`, {
      auth: bob.token,
    });
    expect(reacted.status).toBe(200);
    expect(reacted.body.message.attachments[0].url).toMatch(/sig=/);
    const again = await t.request("PUT", `/v1/conversations/${conversationId}/messages/${sent.id}/reactions/${encodeURIComponent("👍")}`, {
      auth: bob.token,
    });
    expect(again.status).toBe(200);
    expect(again.body.message.attachments[0].url).toMatch(/sig=/);
    const edited: Message = ok(await alice.call("message:edit", { conversationId, messageId: sent.id, text: "Look!" }));
    expect(edited.attachments[0]!.url).toMatch(/sig=/);
    const updated: Message = await bob.waitFor("message:updated", (m: Message) => m.id === sent.id && m.text === "Look!");
    expect(updated.attachments[0]!.url).toMatch(/sig=/);
  });

  it("refuses types outside the allowlist, files over the limit and images that do not decode", async () => {
    const { alice } = await setup();
    const exe = await upload(alice.token, Buffer.from("MZ"), "tool.exe", "application/x-msdownload");
    expect(exe).toMatchObject({ status: 400, body: { error: { code: "invalid_argument" } } });
    const big = await upload(alice.token, Buffer.alloc(5000, 65), "big.txt", "text/plain");
    expect(big).toMatchObject({ status: 413, body: { error: { code: "payload_too_large" } } });
    const fake = await upload(alice.token, Buffer.from("<html>not an image</html>"), "x.png", "image/png");
    expect(fake).toMatchObject({ status: 400, body: { error: { code: "invalid_argument" } } });
    expect(await t.server.storage.db.selectFrom("uploads").selectAll().execute()).toHaveLength(0);
  });

  it("takes one file per upload and refuses a request with two, keeping neither", async () => {
    const { alice } = await setup();
    const form = new FormData();
    form.append("file", new Blob([gif(10, 10)], { type: "image/gif" }), "one.gif");
    form.append("file", new Blob([gif(20, 20)], { type: "image/gif" }), "two.gif");
    const res = await fetch(`${t.url}/v1/uploads`, { method: "POST", headers: { authorization: `Bearer ${alice.token}` }, body: form });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: { code: "invalid_argument", message: "Send one file per upload" } });
    const single = await upload(alice.token, gif(10, 10), "one.gif", "image/gif");
    expect(single.status).toBe(201);
  });

  it("only lets the uploader attach a file, once, and removes it with the message", async () => {
    const { alice, bob, conversationId } = await setup();
    const doc = await upload(alice.token, Buffer.from("minutes of the meeting"), "notes.txt", "text/plain");
    const stolen = await bob.call("message:send", { conversationId, clientId: "steal", attachments: [{ id: doc.body.attachment.id }] });
    expect(stolen).toMatchObject({ ok: false, error: { code: "invalid_argument" } });
    const asImage = await alice.call("message:send", { conversationId, clientId: "img", type: "image", attachments: [{ id: doc.body.attachment.id }] });
    expect(asImage).toMatchObject({ ok: false, error: { code: "invalid_argument" } });
    const file: Message = ok(await alice.call("message:send", { conversationId, clientId: "doc", attachments: [{ id: doc.body.attachment.id }] }));
    expect(file.type).toBe("file");
    const again = await alice.call("message:send", { conversationId, clientId: "doc2", attachments: [{ id: doc.body.attachment.id }] });
    expect(again).toMatchObject({ ok: false, error: { code: "invalid_argument" } });
    const url = file.attachments[0]!.url;
    expect((await fetch(t.url + url)).headers.get("content-disposition")).toMatch(/^inline; filename\*=UTF-8''notes.txt$/);

    ok(await alice.call("message:delete", { conversationId, messageId: file.id, scope: "everyone" }));
    expect((await fetch(t.url + url)).status).toBe(404);
    const tombstone = ok(await bob.call("conversation:history", { conversationId })).messages[0];
    expect(tombstone).toMatchObject({ id: file.id, attachments: [], text: null });
  });
});
