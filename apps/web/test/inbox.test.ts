import { describe, expect, it } from "vitest";
import { browserSkipReason, browserSuite, screenshot, signIn, unique } from "./support/browser.js";

const skip = browserSkipReason();
if (skip) process.stdout.write(`${skip}: the web app inbox suite\n`);

describe.skipIf(skip !== null)("the web app in Chromium: the inbox", () => {
  const suite = browserSuite();

  it("shows the presence dot of a direct partner coming online and going, while another conversation is open", async () => {
    const ana = { id: unique("ana"), name: "Ana Lima" };
    const ben = { id: unique("ben"), name: "Ben Roy" };
    const cy = { id: unique("cy"), name: "Cy Park" };
    const tokens = await Promise.all([ana, ben, cy].map((u) => suite.node.token(u.id, u.name)));
    for (const token of tokens) {
      expect((await fetch(`${suite.node.url}/v1/me`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);
    }
    const withBen = await suite.node.api<{ conversation: { id: string } }>("POST", "/v1/conversations", { kind: "direct", members: [ben.id] }, ana.id);
    const withCy = await suite.node.api<{ conversation: { id: string } }>("POST", "/v1/conversations", { kind: "direct", members: [cy.id] }, ana.id);
    await suite.node.api("POST", `/v1/conversations/${withBen.conversation.id}/messages`, { text: "see you later" }, ben.id);

    // Ana reads Cy's conversation; Ben's is only a row in her inbox.
    const anaP = await suite.person();
    await signIn(anaP, suite.node.url, tokens[0]!, withCy.conversation.id);
    const benRow = anaP.page.getByRole("option", { name: new RegExp(ben.name) });
    await expect.poll(() => benRow.count(), { timeout: 10_000 }).toBe(1);
    const dot = benRow.locator(".parley-avatar-dot");
    expect(await dot.count()).toBe(0);

    const benP = await suite.person();
    await signIn(benP, suite.node.url, tokens[1]!);
    await expect.poll(() => dot.count(), { timeout: 10_000 }).toBe(1);
    await screenshot(anaP.page, "inbox-partner-online");

    await benP.page.close();
    await expect.poll(() => dot.count(), { timeout: 15_000 }).toBe(0);
  });

  it("starts a direct conversation from New message with someone from a group, and opens that same one the next time", async () => {
    const ana = { id: unique("ana"), name: "Ana Lima" };
    const cal = { id: unique("cal"), name: "Cal Ortiz" };
    const dee = { id: unique("dee"), name: "Dee Quinn" };
    const tokens = await Promise.all([ana, cal, dee].map((u) => suite.node.token(u.id, u.name)));
    for (const token of tokens) {
      expect((await fetch(`${suite.node.url}/v1/me`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);
    }
    await suite.node.api("POST", "/v1/conversations", { kind: "group", title: "Trip planning", members: [ana.id, cal.id, dee.id] });

    const anaP = await suite.person();
    await signIn(anaP, suite.node.url, tokens[0]!);
    const page = anaP.page;
    const inbox = page.getByRole("listbox", { name: "Conversations" });
    await expect.poll(() => inbox.getByRole("option").count(), { timeout: 10_000 }).toBe(1);
    await page.getByRole("button", { name: "New message" }).click();
    await expect.poll(() => new URL(page.url()).pathname).toBe("/new");
    const people = page.getByRole("list", { name: "People" });
    // The people of Ana's conversations, by name, not Ana herself; the search box has the cursor.
    await expect.poll(() => people.getByRole("listitem").allInnerTexts(), { timeout: 10_000 }).toEqual([
      expect.stringContaining("Cal Ortiz"),
      expect.stringContaining("Dee Quinn"),
    ]);
    const search = page.getByRole("searchbox", { name: "Search people" });
    await expect.poll(() => search.evaluate((el) => el === el.ownerDocument.activeElement)).toBe(true);
    await search.fill("dee");
    await expect.poll(() => people.getByRole("listitem").count()).toBe(1);
    await screenshot(page, "new-message");
    await people.getByRole("button", { name: "Message Dee Quinn" }).click();

    await expect.poll(() => new URL(page.url()).pathname, { timeout: 10_000 }).toMatch(/^\/c\//);
    const directPath = new URL(page.url()).pathname;
    await expect.poll(() => page.getByRole("heading", { level: 2, name: "Dee Quinn" }).count(), { timeout: 10_000 }).toBe(1);
    const box = page.getByRole("textbox", { name: "Message" });
    await box.fill("Shall we book the train together?");
    await box.press("Enter");
    const conversationId = decodeURIComponent(directPath.split("/")[2]!);
    await expect
      .poll(async () => {
        const { messages } = await suite.node.api<{ messages: Array<{ text: string }> }>("GET", `/v1/conversations/${conversationId}/messages`, undefined, dee.id);
        return messages.map((m) => m.text);
      }, { timeout: 10_000 })
      .toEqual(["Shall we book the train together?"]);
    await expect.poll(() => inbox.getByRole("option").count(), { timeout: 10_000 }).toBe(2);

    // The next time, the same conversation opens: one per pair.
    await page.getByRole("button", { name: "New message" }).click();
    await people.getByRole("button", { name: "Message Dee Quinn" }).click();
    await expect.poll(() => new URL(page.url()).pathname, { timeout: 10_000 }).toBe(directPath);
    expect(await inbox.getByRole("option").count()).toBe(2);
    expect(anaP.errors).toEqual([]);

    // A support visitor has no one to write to: no such button.
    const guest = await suite.node.api<{ token: string }>("POST", "/v1/guests", { name: "Visitor" });
    const visitor = await suite.person();
    await signIn(visitor, suite.node.url, guest.token);
    await expect.poll(() => visitor.page.getByText("No conversations yet").count(), { timeout: 10_000 }).toBe(1);
    expect(await visitor.page.getByRole("button", { name: "New message" }).count()).toBe(0);
  });
});
