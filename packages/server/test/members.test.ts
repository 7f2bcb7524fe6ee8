import { afterAll, afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Message } from "@parley/protocol";
import { topologies } from "./support/topologies.js";
import { API_KEY, ok, settle, signToken, type TestServer } from "./support/test-server.js";

describe.each(topologies())("members over REST on $name", (topology) => {
  let t: TestServer;
  beforeEach(async () => {
    t = await topology.start();
  });
  afterEach(async () => {
    await t.close();
  });
  afterAll(() => topology.cleanup());

  it("lets owners add and remove members, with system messages and events; others may not", async () => {
    const owner = await signToken("olive", { name: "Olive" });
    const created = await t.request("POST", "/v1/conversations", {
      auth: API_KEY,
      body: { kind: "group", title: "Crew", members: [{ userId: "olive", role: "owner" }, "max"] },
    });
    const id = created.body.conversation.id;
    const max = await t.connect("max", { name: "Max" });

    const byMember = await t.request("POST", `/v1/conversations/${id}/members`, { auth: max.token, body: { userId: "nia" } });
    expect(byMember.status).toBe(403);

    const added = await t.request("POST", `/v1/conversations/${id}/members`, { auth: owner, body: { userId: "nia" } });
    expect(added.status).toBe(201);
    expect(added.body.member).toMatchObject({ userId: "nia", role: "member", lastReadSeq: 0 });
    expect((await max.waitFor("member:joined")).member.userId).toBe("nia");
    // Adding someone who already belongs answers 200 with their membership and changes nothing.
    const again = await t.request("POST", `/v1/conversations/${id}/members`, { auth: owner, body: { userId: "nia" } });
    expect(again.status).toBe(200);
    expect(again.body.member).toMatchObject({ userId: "nia", role: "member", joinedAt: added.body.member.joinedAt });
    const nia = await t.connect("nia", { name: "Nia" });
    const history = ok(await nia.call("conversation:history", { conversationId: id }));
    expect(history.messages.map((m: Message) => m.text)).toEqual(["nia joined"]);

    const renamed = await t.request("PATCH", `/v1/conversations/${id}`, { auth: max.token, body: { title: "Mine now" } });
    expect(renamed.status).toBe(403);
    const byOwner = await t.request("PATCH", `/v1/conversations/${id}`, { auth: owner, body: { title: "Crew (Saturday)" } });
    expect(byOwner.status).toBe(200);
    expect(byOwner.body.conversation.title).toBe("Crew (Saturday)");
    expect((await max.waitFor("conversation:updated")).title).toBe("Crew (Saturday)");

    const removed = await t.request("DELETE", `/v1/conversations/${id}/members/nia`, { auth: owner });
    expect(removed.status).toBe(204);
    expect((await nia.waitFor("member:left")).member.userId).toBe("nia");
    ok(await max.call("message:send", { conversationId: id, clientId: "after", text: "nia is gone" }));
    await settle();
    expect(nia.received("message:new").map((m: Message) => m.text)).not.toContain("nia is gone");
    const list = await t.request("GET", `/v1/conversations/${id}/members`, { auth: owner });
    expect(list.body.members.map((m: { userId: string }) => m.userId).sort()).toEqual(["max", "olive"]);
    const lastText = ok(await max.call("conversation:history", { conversationId: id })).messages.map((m: Message) => m.text);
    expect(lastText).toContain("Nia was removed");
  });

  it("stops watching a channel on conversation:close", async () => {
    const created = await t.request("POST", "/v1/conversations", { auth: API_KEY, body: { kind: "channel", title: "News" } });
    const id = created.body.conversation.id;
    const reader = await t.connect("reader");
    const writer = await t.connect("writer");
    ok(await reader.call("conversation:open", { conversationId: id, limit: 0 }));
    ok(await writer.call("message:send", { conversationId: id, clientId: "n1", text: "one" }));
    await reader.waitFor("message:new");
    expect(ok(await reader.call("conversation:close", { conversationId: id }))).toBeNull();
    ok(await writer.call("message:send", { conversationId: id, clientId: "n2", text: "two" }));
    await settle();
    expect(reader.received("message:new").map((m: Message) => m.text)).toEqual(["one"]);
  });
});
