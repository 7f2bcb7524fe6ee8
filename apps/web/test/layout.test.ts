import { describe, expect, it } from "vitest";
import { browserSkipReason, browserSuite, screenshot, signIn, unique } from "./support/browser.js";

const skip = browserSkipReason();
if (skip) process.stdout.write(`${skip}: the web app layout suite\n`);

describe.skipIf(skip !== null)("the web app in Chromium: what stays inside the conversation pane", () => {
  const suite = browserSuite();

  it("opens a short message's toolbar inside the pane on either side, never widens the list, and puts the cursor in the box of a chosen chat", async () => {
    const me = { id: unique("lia"), name: "Lia Moreau" };
    const other = { id: unique("tom"), name: "Tom Berg" };
    const [myToken, otherToken] = await Promise.all([suite.node.token(me.id, me.name), suite.node.token(other.id, other.name)]);
    for (const token of [myToken, otherToken]) {
      expect((await fetch(`${suite.node.url}/v1/me`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);
    }
    const { conversation } = await suite.node.api<{ conversation: { id: string } }>("POST", "/v1/conversations", { kind: "direct", members: [other.id] }, me.id);
    // Enough before them to fill the pane, so the list sits at its bottom.
    for (let i = 1; i <= 20; i++) await suite.node.api("POST", `/v1/conversations/${conversation.id}/messages`, { text: `line ${i}` }, i % 2 ? other.id : me.id);
    await suite.node.api("POST", `/v1/conversations/${conversation.id}/messages`, { text: "ok" }, other.id);
    await suite.node.api("POST", `/v1/conversations/${conversation.id}/messages`, { text: "ok" }, me.id);

    const person = await suite.person();
    const page = person.page;
    await signIn(person, suite.node.url, myToken);
    // Chosen from the inbox with the keyboard: the cursor goes to the message box.
    const row = page.getByRole("option", { name: new RegExp(other.name) });
    await row.focus();
    await row.press("Enter");
    const box = page.getByRole("textbox", { name: "Message" });
    await expect.poll(() => box.evaluate((el) => el === el.ownerDocument.activeElement), { timeout: 10_000 }).toBe(true);

    const log = page.getByRole("log", { name: "Messages" });
    await expect.poll(() => log.getByText("ok", { exact: true }).count(), { timeout: 10_000 }).toBe(2);
    const pane = await page.locator(".parley-scroll").boundingBox();
    expect(pane).not.toBeNull();
    for (const [index, side] of [
      [0, "theirs"],
      [1, "mine"],
    ] as const) {
      const message = log.locator(".parley-message").filter({ hasText: /^ok/ }).nth(index);
      await message.hover();
      const toolbar = message.locator(".parley-actions");
      await expect.poll(() => toolbar.evaluate((el) => el.ownerDocument.defaultView!.getComputedStyle(el).opacity)).toBe("1");
      const bar = (await toolbar.boundingBox())!;
      expect(bar.width, side).toBeGreaterThan(60);
      expect(bar.x, `${side}: toolbar's left edge`).toBeGreaterThanOrEqual(pane!.x);
      expect(bar.x + bar.width, `${side}: toolbar's right edge`).toBeLessThanOrEqual(pane!.x + pane!.width);
      await screenshot(page, `layout-toolbar-${side}`);
    }
    // Deleting the last message asks below it, in view.
    const last = log.locator(".parley-message").filter({ hasText: /^ok/ }).nth(1);
    await last.hover();
    await last.getByRole("button", { name: "Delete" }).click();
    const question = page.getByRole("group", { name: "Delete this message?" });
    await expect.poll(() => question.count()).toBe(1);
    await expect
      .poll(async () => {
        const q = (await question.boundingBox())!;
        const list = (await page.locator(".parley-scroll").boundingBox())!;
        return q.y + q.height <= list.y + list.height + 1;
      })
      .toBe(true);
    await page.keyboard.press("Escape");
    await expect.poll(() => question.count()).toBe(0);

    // Hidden toolbars take no room sideways: the list cannot be scrolled or swiped left and right.
    const widths = await page.locator(".parley-scroll").evaluate((el) => ({ scroll: el.scrollWidth, client: el.clientWidth }));
    expect(widths.scroll).toBeLessThanOrEqual(widths.client);

    // A message scrolled to the very top of the list: its toolbar is not cut off by the list's edge (nor under the header).
    const top = log.locator(".parley-message").filter({ hasText: /^line 6/ });
    await top.evaluate((el) => {
      const scroller = el.closest(".parley-scroll")!;
      scroller.scrollTop += el.getBoundingClientRect().top - scroller.getBoundingClientRect().top;
    });
    await page.mouse.move(0, 0);
    await top.hover();
    const toolbar = top.locator(".parley-actions");
    await expect.poll(() => toolbar.evaluate((el) => el.ownerDocument.defaultView!.getComputedStyle(el).opacity)).toBe("1");
    const bar = (await toolbar.boundingBox())!;
    expect(bar.y).toBeGreaterThanOrEqual(pane!.y);
    const hit = await toolbar.evaluate((el) => {
      const r = el.getBoundingClientRect();
      return el.contains(el.ownerDocument.elementFromPoint(r.x + r.width / 2, r.y + r.height / 2));
    });
    expect(hit).toBe(true);
    await screenshot(page, "layout-toolbar-top");

    // Closed by the host, the conversation says so in the same word in its header and its inbox row.
    await suite.node.api("PATCH", `/v1/conversations/${conversation.id}`, { status: "closed" });
    await expect.poll(() => page.locator(".conversation-header").getByText("Closed", { exact: true }).count(), { timeout: 10_000 }).toBe(1);
    await expect.poll(() => row.getByText("Closed", { exact: true }).count()).toBe(1);
    expect(await page.getByText("Resolved", { exact: true }).count()).toBe(0);
  });

  it("keeps a long conversation one stop on the way to the composer: Tab passes one message's controls, ↑ and ↓ move between messages", async () => {
    const me = { id: unique("kim"), name: "Kim Sato" };
    const other = { id: unique("raj"), name: "Raj Mehta" };
    const [myToken, otherToken] = await Promise.all([suite.node.token(me.id, me.name), suite.node.token(other.id, other.name)]);
    for (const token of [myToken, otherToken]) {
      expect((await fetch(`${suite.node.url}/v1/me`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);
    }
    const { conversation } = await suite.node.api<{ conversation: { id: string } }>("POST", "/v1/conversations", { kind: "direct", members: [other.id] }, me.id);
    for (let i = 1; i <= 30; i++) {
      await suite.node.api("POST", `/v1/conversations/${conversation.id}/messages`, { text: `note ${i} https://example.com/${i}` }, i % 2 ? other.id : me.id);
    }
    const person = await suite.person();
    const page = person.page;
    await signIn(person, suite.node.url, myToken, conversation.id);
    const log = page.getByRole("log", { name: "Messages" });
    await expect.poll(() => log.getByText(/^note 30/).count(), { timeout: 10_000 }).toBe(1);

    // Run in the page, as text: this suite is typed for Node, without the DOM's globals.
    const focusedMessage = () =>
      page.evaluate<string | null>(`document.activeElement?.closest(".parley-message")?.querySelector(".parley-text")?.textContent ?? null`);
    const focusedIs = async (name: string) => (await page.evaluate<string | null>(`document.activeElement?.getAttribute("aria-label") ?? null`)) === name;
    // From the oldest message, a few Tabs reach the composer: the other 29 messages' controls are not in the way.
    await log.getByRole("link", { name: "https://example.com/1", exact: true }).focus();
    expect(await focusedMessage()).toBe("note 1 https://example.com/1");
    let tabs = 0;
    while (!(await focusedIs("Message")) && tabs < 10) {
      await page.keyboard.press("Tab");
      tabs++;
    }
    expect(await focusedIs("Message")).toBe(true);
    expect(tabs).toBeLessThanOrEqual(4);

    // Back into the list (past the composer's Attach button): the message last focused; ↓ walks down, ↑ up.
    tabs = 0;
    while ((await focusedMessage()) === null && tabs < 10) {
      await page.keyboard.press("Shift+Tab");
      tabs++;
    }
    expect(tabs).toBeLessThanOrEqual(4);
    expect(await focusedMessage()).toBe("note 1 https://example.com/1");
    await page.keyboard.press("ArrowDown");
    await page.keyboard.press("ArrowDown");
    expect(await focusedMessage()).toBe("note 3 https://example.com/3");
    await page.keyboard.press("ArrowUp");
    expect(await focusedMessage()).toBe("note 2 https://example.com/2");
    // Tab from there leaves the list: the composer, not the next message.
    tabs = 0;
    while (!(await focusedIs("Message")) && tabs < 10) {
      await page.keyboard.press("Tab");
      tabs++;
    }
    expect(tabs).toBeLessThanOrEqual(4);
  });

  it("keeps a message's menu on a phone's screen, on either side", async () => {
    const me = { id: unique("noa"), name: "Noa Levi" };
    const other = { id: unique("ike"), name: "Ike Obi" };
    const [myToken, otherToken] = await Promise.all([suite.node.token(me.id, me.name), suite.node.token(other.id, other.name)]);
    for (const token of [myToken, otherToken]) {
      expect((await fetch(`${suite.node.url}/v1/me`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);
    }
    const { conversation } = await suite.node.api<{ conversation: { id: string } }>("POST", "/v1/conversations", { kind: "direct", members: [other.id] }, me.id);
    // Two long ones in a row: each bubble spans the pane, so the first one's menu opens over the second one's "…".
    const long = "a longer message from the other side of the chat, long enough to wrap over two lines or three on a phone";
    await suite.node.api("POST", `/v1/conversations/${conversation.id}/messages`, { text: long }, other.id);
    await suite.node.api("POST", `/v1/conversations/${conversation.id}/messages`, { text: long }, other.id);
    await suite.node.api("POST", `/v1/conversations/${conversation.id}/messages`, { text: "and a longer one of mine, as long as theirs" }, me.id);
    const phone = await suite.person({ viewport: { width: 375, height: 740 }, touch: true });
    await signIn(phone, suite.node.url, myToken, conversation.id);
    const log = phone.page.getByRole("log", { name: "Messages" });
    await expect.poll(() => log.locator(".parley-message").count(), { timeout: 10_000 }).toBe(3);
    for (const [index, side] of [
      [0, "theirs"],
      [2, "mine"],
    ] as const) {
      await log.locator(".parley-message").nth(index).getByRole("button", { name: "More actions" }).click();
      const menu = phone.page.getByRole("menu", { name: "More actions" });
      await expect.poll(() => menu.count()).toBe(1);
      const box = (await menu.boundingBox())!;
      expect(box.x, `${side}: menu's left edge`).toBeGreaterThanOrEqual(0);
      expect(box.x + box.width, `${side}: menu's right edge`).toBeLessThanOrEqual(375);
      // Every item is what a tap on it reaches: no other message's "…" lies over the menu.
      const reached = await menu.getByRole("menuitem").evaluateAll((items) =>
        items.map((item) => {
          const r = item.getBoundingClientRect();
          return [0.1, 0.3, 0.5, 0.7, 0.9].every((f) => item.contains(item.ownerDocument.elementFromPoint(r.x + r.width * f, r.y + r.height / 2)));
        }),
      );
      expect(reached.length, side).toBeGreaterThan(1);
      expect(reached, side).not.toContain(false);
      await screenshot(phone.page, `layout-phone-menu-${side}`);
      await phone.page.keyboard.press("Escape");
      await expect.poll(() => menu.count()).toBe(0);
    }
  });
});
