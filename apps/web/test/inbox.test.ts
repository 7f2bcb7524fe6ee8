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
});
