import { describe, expect, it } from "vitest";
import { type BrowserSuite, type Person, browserSkipReason, browserSuite, screenshot, unique } from "./support/browser.js";

const skip = browserSkipReason();
if (skip) process.stdout.write(`${skip}: the web app browser suite\n`);

describe.skipIf(skip !== null)("the web app in Chromium: the support desk", () => {
  const suite = browserSuite();
  const person = (options: Parameters<BrowserSuite["person"]>[0] = {}) => suite.person(options);

  /** An operator signed in from the dev login page, on the desk. */
  async function operator(name: string): Promise<Person> {
    const p = await person();
    await p.page.goto(`${suite.node.url}/dev/login`);
    await p.page.getByRole("button", { name: new RegExp(`^${name}`) }).click();
    await p.page.getByRole("link", { name: /desk/i }).first().click();
    await expect.poll(() => p.page.url(), { timeout: 10_000 }).toContain("/desk");
    return p;
  }

  it("a visitor's chat reaches both operators with an unread count; one answers, the other sees it; resolved, history kept", async () => {
    const visitorName = `Visitor ${unique("")}`;
    const visitor = await person();
    await visitor.page.goto(`${suite.node.url}/support`);
    await visitor.page.getByRole("textbox", { name: "Your name" }).fill(visitorName);
    await visitor.page.getByRole("button", { name: "Start chat" }).click();
    const visitorBox = visitor.page.getByRole("textbox", { name: "Message" });
    await expect.poll(() => visitorBox.isVisible(), { timeout: 10_000 }).toBe(true);

    // Before the visitor writes, the desk has nothing to show for them.
    const early = await operator("Olivia Chen");
    await early.page.getByRole("tab", { name: "All" }).click();
    await early.page.waitForTimeout(1000);
    expect(await early.page.getByRole("option").filter({ hasText: visitorName }).count()).toBe(0);
    await early.page.close();

    await visitorBox.fill("Hi, my order never arrived");
    await visitorBox.press("Enter");
    const visitorLog = visitor.page.getByRole("log", { name: "Messages" });
    await expect.poll(() => visitorLog.getByRole("img", { name: /^(Sent|Delivered|Read)/ }).count(), { timeout: 10_000 }).toBe(1);
    await screenshot(visitor.page, "support-visitor");

    const olivia = await operator("Olivia Chen");
    const omar = await operator("Omar Haddad");
    for (const op of [olivia, omar]) {
      await op.page.getByRole("tab", { name: "All" }).click();
      const row = op.page.getByRole("option").filter({ hasText: visitorName });
      await expect.poll(() => row.count(), { timeout: 10_000 }).toBe(1);
      await expect.poll(() => row.getByLabel("1 unread").count(), { timeout: 10_000 }).toBe(1);
    }
    await screenshot(olivia.page, "support-desk");
    // The row is named after the visitor, so their own message needs no name before it.
    const oliviaPreview = olivia.page.getByRole("option").filter({ hasText: visitorName }).locator(".parley-conversation-preview");
    expect(await oliviaPreview.textContent()).toBe("Hi, my order never arrived");

    // A tab's badge counts its conversations, as many as its rows, and stands out while some are unread.
    const rows = await olivia.page.getByRole("option").count();
    const allBadge = olivia.page.locator("#desk-tab-all .tab-count");
    expect(await allBadge.textContent()).toBe(String(rows));
    expect(await allBadge.getAttribute("data-unread")).toBe("true");
    expect(await olivia.page.locator("#desk-tab-all-count").textContent()).toMatch(new RegExp(`^${rows} conversations?, [1-9]\\d* unread$`));

    // Olivia answers; she becomes the conversation's operator.
    await olivia.page.getByRole("option").filter({ hasText: visitorName }).click();
    const oliviaLog = olivia.page.getByRole("log", { name: "Messages" });
    await expect.poll(() => oliviaLog.getByText("Hi, my order never arrived").count(), { timeout: 10_000 }).toBe(1);
    const oliviaBox = olivia.page.getByRole("textbox", { name: "Message" });
    await oliviaBox.fill("Sorry about that! Let me check.");
    await oliviaBox.press("Enter");

    // The visitor sees the answer with the operator's name.
    await expect.poll(() => visitorLog.getByText("Sorry about that! Let me check.").count(), { timeout: 10_000 }).toBe(1);
    await expect.poll(() => visitorLog.getByText("Olivia Chen").count(), { timeout: 10_000 }).toBeGreaterThan(0);

    // Omar's desk shows at once, without a reload, that the chat is taken: it leaves his Unassigned tab.
    await omar.page.getByRole("tab", { name: /^Unassigned/ }).click();
    await expect.poll(() => omar.page.getByRole("option").filter({ hasText: visitorName }).count(), { timeout: 10_000 }).toBe(0);
    await omar.page.getByRole("tab", { name: /^All/ }).click();
    // An operator's answer is named in the row, as in a group.
    const omarPreview = omar.page.getByRole("option").filter({ hasText: visitorName }).locator(".parley-conversation-preview");
    await expect.poll(() => omarPreview.textContent(), { timeout: 10_000 }).toBe("Olivia Chen: Sorry about that! Let me check.");

    // Omar sees Olivia's answer in the same conversation.
    await omar.page.getByRole("option").filter({ hasText: visitorName }).click();
    const omarLog = omar.page.getByRole("log", { name: "Messages" });
    await expect.poll(() => omarLog.getByText("Sorry about that! Let me check.").count(), { timeout: 10_000 }).toBe(1);
    await expect.poll(() => omar.page.getByRole("tab", { name: "Mine" }).count()).toBe(1);

    // Olivia resolves it: the visitor can no longer write, but keeps the history.
    await olivia.page.getByRole("button", { name: "Resolve" }).click();
    await expect.poll(() => olivia.page.getByRole("button", { name: "Reopen" }).count(), { timeout: 10_000 }).toBe(1);
    await expect.poll(() => visitorBox.isDisabled(), { timeout: 10_000 }).toBe(true);
    await screenshot(visitor.page, "support-visitor-resolved");

    // Coming back in the same browser keeps the conversation.
    await visitor.page.reload();
    await expect.poll(() => visitorLog.getByText("Sorry about that! Let me check.").count(), { timeout: 10_000 }).toBe(1);
    await expect.poll(() => visitorLog.getByText("Hi, my order never arrived").count()).toBe(1);

    // Also after the visitor's token ran out (a day later, say): it is renewed for the same visitor.
    const stored = () => visitor.page.evaluate<string | null>(`localStorage.getItem("parley.guest")`);
    const before = JSON.parse((await stored())!) as { token: string; expiresAt: string };
    await visitor.page.evaluate(`localStorage.setItem("parley.guest", JSON.stringify({ ...${JSON.stringify(before)}, expiresAt: new Date(Date.now() - 3600000).toISOString() }))`);
    await visitor.page.reload();
    await expect.poll(() => visitorLog.getByText("Hi, my order never arrived").count(), { timeout: 10_000 }).toBe(1);
    const after = JSON.parse((await stored())!) as { token: string; expiresAt: string };
    expect(after.token).not.toBe(before.token);
    expect(Date.parse(after.expiresAt)).toBeGreaterThan(Date.now());

    // A new chat after the resolved one is the same visitor: not asked for a name again, and a
    // conversation of its own on the desk, under the same name.
    await visitor.page.getByRole("button", { name: "Start a new chat" }).click();
    await expect.poll(() => visitorBox.isEnabled(), { timeout: 10_000 }).toBe(true);
    expect(await visitor.page.getByRole("textbox", { name: "Your name" }).count()).toBe(0);
    await expect.poll(() => visitorLog.getByText(`Hi ${visitorName}! Tell us how we can help.`).count(), { timeout: 10_000 }).toBe(1);
    expect(await visitorLog.getByText("Hi, my order never arrived").count()).toBe(0);
    await visitorBox.fill("One more thing: can I change the address?");
    await visitorBox.press("Enter");
    await expect.poll(() => visitorLog.getByRole("img", { name: /^(Sent|Delivered|Read)/ }).count(), { timeout: 10_000 }).toBe(1);
    const renewedChat = JSON.parse((await stored())!) as { token: string; conversationId: string };
    expect(renewedChat.token).toBe(after.token);
    await omar.page.getByRole("tab", { name: /^Unassigned/ }).click();
    const newRow = omar.page.getByRole("option").filter({ hasText: visitorName });
    await expect.poll(() => newRow.count(), { timeout: 10_000 }).toBe(1);
    await expect.poll(() => newRow.getByLabel("1 unread").count(), { timeout: 10_000 }).toBe(1);
    await newRow.click();
    await expect.poll(() => omarLog.getByText("One more thing: can I change the address?").count(), { timeout: 10_000 }).toBe(1);
    expect(await omarLog.getByText("Hi, my order never arrived").count()).toBe(0);
    // After a reload the visitor is still in the new chat.
    await visitor.page.reload();
    await expect.poll(() => visitorLog.getByText("One more thing: can I change the address?").count(), { timeout: 10_000 }).toBe(1);
    expect(await visitorBox.isEnabled()).toBe(true);
    expect([...visitor.errors, ...olivia.errors, ...omar.errors]).toEqual([]);
  });

  it("opens and closes a conversation's details on a phone", async () => {
    const visitorName = `Visitor ${unique("")}`;
    const visitor = await person();
    await visitor.page.goto(`${suite.node.url}/support`);
    await visitor.page.getByRole("textbox", { name: "Your name" }).fill(visitorName);
    await visitor.page.getByRole("button", { name: "Start chat" }).click();
    await visitor.page.getByRole("textbox", { name: "Message" }).fill("Is anyone there?");
    await visitor.page.getByRole("textbox", { name: "Message" }).press("Enter");

    const phone = await person({ viewport: { width: 375, height: 740 }, touch: true });
    await phone.page.goto(`${suite.node.url}/dev/login`);
    // Picking an operator opens the desk once the token is stored (going there first would drop the sign-in).
    await phone.page.getByRole("button", { name: /^Olivia Chen/ }).click();
    await expect.poll(() => phone.page.url(), { timeout: 10_000 }).toContain("/desk");
    await phone.page.getByRole("tab", { name: /^All/ }).click();
    const row = phone.page.getByRole("option").filter({ hasText: visitorName });
    await expect.poll(() => row.count(), { timeout: 10_000 }).toBe(1);
    await row.click();
    await phone.page.getByRole("button", { name: "Details" }).click();
    const details = phone.page.getByRole("complementary", { name: "Conversation details" });
    await expect.poll(() => details.isVisible()).toBe(true);
    await screenshot(phone.page, "desk-phone-details");
    await details.getByRole("button", { name: "Close details" }).click();
    await expect.poll(() => details.isVisible()).toBe(false);
    expect([...visitor.errors, ...phone.errors]).toEqual([]);
  });
});
