import { describe, expect, it } from "vitest";
import { startTcpProxy } from "../../../packages/client/test/support/tcp-proxy.js";
import { type BrowserSuite, browserSkipReason, browserSuite, screenshot, signIn, unique } from "./support/browser.js";

const skip = browserSkipReason();
if (skip) process.stdout.write(`${skip}: the web app browser suite\n`);

interface Pair {
  conversationId: string;
  ana: { id: string; name: string; token: string };
  ben: { id: string; name: string; token: string };
}

describe.skipIf(skip !== null)("the web app in Chromium: two people chatting", () => {
  const suite = browserSuite();
  const person = (options: Parameters<BrowserSuite["person"]>[0] = {}) => suite.person(options);

  /** Two fresh users and the direct conversation between them. */
  async function pair(): Promise<Pair> {
    const ana = { id: unique("ana"), name: "Ana Silva" };
    const ben = { id: unique("ben"), name: "Ben Okafor" };
    const [anaToken, benToken] = await Promise.all([suite.node.token(ana.id, ana.name), suite.node.token(ben.id, ben.name)]);
    // Parley learns a user's name from their token: as if both had used the app before.
    for (const token of [anaToken, benToken]) {
      const res = await fetch(`${suite.node.url}/v1/me`, { headers: { authorization: `Bearer ${token}` } });
      expect(res.status).toBe(200);
    }
    const { conversation } = await suite.node.api<{ conversation: { id: string } }>(
      "POST",
      "/v1/conversations",
      { kind: "direct", members: [ben.id] },
      ana.id,
    );
    return { conversationId: conversation.id, ana: { ...ana, token: anaToken }, ben: { ...ben, token: benToken } };
  }

  /** Sends through the REST API as `sender`, which limits each sender's rate: waits and tries again when it says so. */
  async function restSend(conversationId: string, sender: string, text: string, replyTo?: string): Promise<{ id: string; seq: number }> {
    for (;;) {
      try {
        const body = replyTo === undefined ? { text } : { text, replyTo };
        const { message } = await suite.node.api<{ message: { id: string; seq: number } }>("POST", `/v1/conversations/${conversationId}/messages`, body, sender);
        return message;
      } catch (err) {
        if (!String(err).includes(": 429 ")) throw err;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  }

  /** `user`'s unread count of the conversation, as their inbox lists it. */
  async function unreadOf(conversationId: string, user: string): Promise<number | undefined> {
    const { conversations } = await suite.node.api<{ conversations: Array<{ id: string; unreadCount: number }> }>("GET", "/v1/conversations", undefined, user);
    return conversations.find((c) => c.id === conversationId)?.unreadCount;
  }

  it("shows typing, the message, read marks and presence to the other person", async () => {
    const { conversationId, ana, ben } = await pair();
    const anaP = await person();
    const benP = await person();
    await signIn(anaP, suite.node.url, ana.token, conversationId);
    await signIn(benP, suite.node.url, ben.token, conversationId);

    // The token leaves the address bar as soon as it is read.
    await expect.poll(() => anaP.page.url()).not.toContain("token=");
    await expect.poll(() => anaP.page.getByRole("heading", { level: 2, name: ben.name }).count()).toBe(1);

    // Ben is online while his tab is open.
    await expect.poll(() => anaP.page.getByText(/^online$/).count(), { timeout: 10_000 }).toBeGreaterThan(0);

    const anaBox = anaP.page.getByRole("textbox", { name: "Message" });
    await anaBox.click();
    await anaBox.pressSequentially("Hello Ben", { delay: 20 });
    await expect.poll(() => benP.page.getByText(`${ana.name} is typing…`).count(), { timeout: 10_000 }).toBe(1);

    await anaBox.press("Enter");
    await expect.poll(() => anaBox.inputValue()).toBe("");
    const benLog = benP.page.getByRole("log", { name: "Messages" });
    await expect.poll(() => benLog.getByText("Hello Ben", { exact: true }).count(), { timeout: 10_000 }).toBe(1);
    // Sending clears the typing indicator at once.
    await expect.poll(() => benP.page.getByText(`${ana.name} is typing…`).count(), { timeout: 10_000 }).toBe(0);

    // Ben has the conversation open at the bottom in a visible tab: Ana sees it read, by Ben.
    const anaLog = anaP.page.getByRole("log", { name: "Messages" });
    await expect.poll(() => anaLog.getByRole("img", { name: new RegExp(`^Read by ${ben.name}`) }).count(), { timeout: 10_000 }).toBe(1);
    await screenshot(anaP.page, "conversation-desktop");

    // Ben answers; Ana sees it.
    const benBox = benP.page.getByRole("textbox", { name: "Message" });
    await benBox.fill("Hi Ana! Line one");
    await benBox.press("Shift+Enter");
    await benBox.pressSequentially("line two");
    await benBox.press("Enter");
    await expect.poll(() => anaLog.getByText(/Hi Ana! Line one\s+line two/).count(), { timeout: 10_000 }).toBe(1);

    // Ben leaves: Ana sees when he was last seen.
    await benP.page.close();
    await expect.poll(() => anaP.page.getByText(/^last seen/).count(), { timeout: 15_000 }).toBeGreaterThan(0);
    expect(anaP.errors).toEqual([]);
  });

  it("opens a conversation with many unread messages at the divider, and marks it read only once the bottom is seen", async () => {
    const { conversationId, ana, ben } = await pair();
    let readUpTo = 0;
    for (let i = 1; i <= 40; i++) readUpTo = (await restSend(conversationId, ana.id, `earlier ${i}`)).seq;
    await suite.node.api("POST", `/v1/conversations/${conversationId}/read`, { seq: readUpTo }, ben.id);
    for (let i = 1; i <= 80; i++) await restSend(conversationId, ana.id, `unread ${i}`);
    const unread = () => unreadOf(conversationId, ben.id);
    expect(await unread()).toBe(80);

    const benP = await person();
    await signIn(benP, suite.node.url, ben.token, conversationId);
    const log = benP.page.getByRole("log", { name: "Messages" });
    await expect.poll(() => log.getByRole("separator", { name: "Unread messages" }).count(), { timeout: 10_000 }).toBe(1);
    // The divider and the first unread message are in view, near the top of the list.
    const dividerPlace = () =>
      log.evaluate((el) => {
        const divider = el.querySelector(".parley-unread-divider");
        const first = divider?.nextElementSibling?.querySelector(".parley-text");
        if (!divider || !first) return "missing";
        const view = el.getBoundingClientRect();
        const d = divider.getBoundingClientRect();
        const f = first.getBoundingClientRect();
        if (d.top < view.top - 1 || f.bottom > view.bottom + 1) return `out of view (${d.top - view.top}px)`;
        return `${first.textContent} in view, ${d.top - view.top < view.height / 2 ? "top half" : "bottom half"}`;
      });
    await expect.poll(dividerPlace, { timeout: 10_000 }).toBe("unread 1 in view, top half");
    // Nothing moves it, and nothing is read, while Ben has not reached the bottom.
    await benP.page.waitForTimeout(1_500);
    expect(await dividerPlace()).toBe("unread 1 in view, top half");
    expect(await unread()).toBe(80);
    await screenshot(benP.page, "conversation-unread-divider");

    // Far above the bottom, a button goes there; once there it goes.
    const jump = benP.page.getByRole("button", { name: "Jump to latest" });
    await expect.poll(() => jump.count(), { timeout: 10_000 }).toBe(1);
    await jump.click();
    await expect.poll(unread, { timeout: 10_000 }).toBe(0);
    await expect.poll(() => log.evaluate((el) => el.scrollHeight - el.scrollTop - el.clientHeight < 40)).toBe(true);
    await expect.poll(() => jump.count()).toBe(0);
    // Scrolled up more than a screen, it is back.
    await log.evaluate((el) => {
      el.scrollTop = 0;
    });
    await expect.poll(() => jump.count(), { timeout: 10_000 }).toBe(1);
    expect(benP.errors).toEqual([]);
  });

  it("opens a backlog of hundreds of unread messages at the first of them, reads on a page at a time, jumps to the latest and back to a quoted original", async () => {
    const ben = { id: unique("ben"), name: "Ben Okafor" };
    const senders = Array.from({ length: 5 }, (_, i) => unique(`s${i}`));
    const benToken = await suite.node.token(ben.id, ben.name);
    const { conversation } = await suite.node.api<{ conversation: { id: string } }>(
      "POST",
      "/v1/conversations",
      { kind: "group", title: "Release crew", members: [ben.id, ...senders] },
    );
    const conversationId = conversation.id;
    // The senders take turns, so that each one's rate limit leaves room for the others.
    const send = (text: string, i: number, replyTo?: string) => restSend(conversationId, senders[i % senders.length]!, text, replyTo);
    let readUpTo = 0;
    let first = "";
    for (let i = 1; i <= 20; i++) {
      const sent = await send(`earlier ${i}`, i);
      first ||= sent.id;
      readUpTo = sent.seq;
    }
    await suite.node.api("POST", `/v1/conversations/${conversationId}/read`, { seq: readUpTo }, ben.id);
    // The last one answers the very first message, far older than any page the list loads with it.
    for (let i = 1; i <= 260; i++) await send(`unread ${i}`, i, i === 260 ? first : undefined);
    const unread = () => unreadOf(conversationId, ben.id);
    expect(await unread()).toBe(260);

    const benP = await person();
    await signIn(benP, suite.node.url, benToken, conversationId);
    const log = benP.page.getByRole("log", { name: "Messages" });
    const inView = (text: string) =>
      log.evaluate((el, text) => {
        const view = el.getBoundingClientRect();
        const item = [...el.querySelectorAll(".parley-text")].find((t) => t.textContent === text);
        if (!item) return "not loaded";
        const box = item.getBoundingClientRect();
        return box.top >= view.top - 1 && box.bottom <= view.bottom + 1 ? "in view" : "out of view";
      }, text);
    // The divider and the first unread message are in view; the newest are not loaded until Ben gets there.
    await expect.poll(() => log.getByRole("separator", { name: "Unread messages" }).count(), { timeout: 10_000 }).toBe(1);
    await expect.poll(() => inView("unread 1"), { timeout: 10_000 }).toBe("in view");
    expect(await log.evaluate((el) => el.querySelector(".parley-unread-divider + .parley-group .parley-text")?.textContent)).toBe("unread 1");
    expect(await inView("unread 260")).toBe("not loaded");
    const jump = benP.page.getByRole("button", { name: /Jump to latest/ });
    expect(await jump.count()).toBe(1);
    await benP.page.waitForTimeout(1_000);
    expect(await inView("unread 1")).toBe("in view");
    expect(await unread()).toBe(260);
    await screenshot(benP.page, "conversation-long-backlog");

    // Reading down to the bottom of what is loaded reads that much, and the next page follows below.
    const loaded = () => log.locator(".parley-text").count();
    const before = await loaded();
    await log.evaluate((el) => {
      el.scrollTop = el.scrollHeight;
    });
    await expect.poll(loaded, { timeout: 10_000 }).toBeGreaterThan(before);
    await expect.poll(unread, { timeout: 10_000 }).toBeLessThan(260);
    expect(await unread()).toBeGreaterThan(150);
    expect(await inView("unread 260")).toBe("not loaded");

    await jump.click();
    await expect.poll(() => inView("unread 260"), { timeout: 10_000 }).toBe("in view");
    expect(await jump.count()).toBe(0);
    await expect.poll(unread, { timeout: 10_000 }).toBe(0);

    // Its quote names the original's sender and text, and a click opens the list at the original.
    const quote = log.getByRole("button", { name: /^Reply to .+: earlier 1$/ });
    await expect.poll(() => quote.count(), { timeout: 10_000 }).toBe(1);
    await quote.click();
    await expect.poll(() => inView("earlier 1"), { timeout: 10_000 }).toBe("in view");
    expect(await inView("unread 260")).toBe("not loaded");
    expect(await jump.count()).toBe(1);
    expect(benP.errors).toEqual([]);
  });

  it("finds a message far back in a conversation through the inbox's search, and opens the conversation at it", async () => {
    const { conversationId, ana, ben } = await pair();
    const word = unique("hydra").replace(/[^a-z0-9]/gi, "");
    for (let i = 1; i <= 4; i++) await restSend(conversationId, ben.id, `before ${i}`);
    await restSend(conversationId, ben.id, `The ferry to ${word} leaves at 7:45 from pier 2`);
    // Ana has read up to "after 60": the 55 after it are unread.
    let readUpTo = 0;
    for (let i = 1; i <= 115; i++) {
      const { seq } = await restSend(conversationId, ben.id, `after ${i}`);
      if (i === 60) readUpTo = seq;
    }
    await suite.node.api("POST", `/v1/conversations/${conversationId}/read`, { seq: readUpTo }, ana.id);

    const anaP = await person();
    await signIn(anaP, suite.node.url, ana.token);
    const page = anaP.page;
    const search = page.getByRole("searchbox", { name: "Search conversations and messages" });
    await search.fill(word);
    const found = page.getByRole("region", { name: "Messages found" });
    const result = found.getByRole("button", { name: new RegExp(`${ben.name}.*The ferry to ${word}`) });
    await expect.poll(() => result.count(), { timeout: 10_000 }).toBe(1);
    // The match is marked.
    expect(await result.locator("mark").allInnerTexts()).toEqual([word]);
    await screenshot(page, "search-messages");

    await result.click();
    await expect.poll(() => new URL(page.url()).pathname, { timeout: 10_000 }).toBe(`/c/${conversationId}`);
    const log = page.getByRole("log", { name: "Messages" });
    const hit = log.locator(".parley-message").filter({ hasText: `The ferry to ${word}` });
    // Opened at it, though it is more than two pages back and the first unread message elsewhere: in view,
    // nothing read meanwhile, with a way down to the newest.
    await expect
      .poll(
        () =>
          hit.evaluate((el) => {
            const view = el.closest(".parley-scroll")!.getBoundingClientRect();
            const r = el.getBoundingClientRect();
            return r.top >= view.top - 1 && r.bottom <= view.bottom + 1;
          }),
        { timeout: 10_000 },
      )
      .toBe(true);
    await page.waitForTimeout(1_000);
    expect(await unreadOf(conversationId, ana.id)).toBe(55);
    expect(await log.getByText("after 115", { exact: true }).count()).toBe(0);
    await page.getByRole("button", { name: /Jump to latest/ }).click();
    await expect
      .poll(
        () =>
          log.getByText("after 115", { exact: true }).evaluate((el) => {
            const view = el.closest(".parley-scroll")!.getBoundingClientRect();
            const r = el.getBoundingClientRect();
            return r.top >= view.top - 1 && r.bottom <= view.bottom + 1;
          }),
        { timeout: 10_000 },
      )
      .toBe(true);
    await expect.poll(() => unreadOf(conversationId, ana.id), { timeout: 10_000 }).toBe(0);

    await search.fill(`${word}zzz`);
    await expect.poll(() => found.getByText("No message matches").count(), { timeout: 10_000 }).toBe(1);
    expect(anaP.errors).toEqual([]);
  });

  it("shows markup in a message as text and runs none of it", async () => {
    const { conversationId, ana, ben } = await pair();
    const anaP = await person();
    const benP = await person();
    await signIn(anaP, suite.node.url, ana.token, conversationId);
    await signIn(benP, suite.node.url, ben.token, conversationId);
    const hostile = `<img src=x onerror=alert(1)> <b>bold</b> <script>alert(2)</script>`;
    const box = anaP.page.getByRole("textbox", { name: "Message" });
    await box.fill(hostile);
    await box.press("Enter");
    const benLog = benP.page.getByRole("log", { name: "Messages" });
    await expect.poll(() => benLog.getByText(hostile, { exact: true }).count(), { timeout: 10_000 }).toBe(1);
    expect(await benLog.locator("img[src=x], b, script").count()).toBe(0);
    await benP.page.waitForTimeout(300);
    expect(benP.dialogs).toEqual([]);
    expect(anaP.dialogs).toEqual([]);
  });

  it("keeps the conversation and its history across a reload", async () => {
    const { conversationId, ana, ben } = await pair();
    for (let i = 1; i <= 3; i++) {
      await suite.node.api("POST", `/v1/conversations/${conversationId}/messages`, { text: `history ${i}`, clientId: `h${i}` }, ben.id);
    }
    const anaP = await person();
    await signIn(anaP, suite.node.url, ana.token, conversationId);
    const log = anaP.page.getByRole("log", { name: "Messages" });
    await expect.poll(() => log.getByText(/^history \d$/).count(), { timeout: 10_000 }).toBe(3);
    await expect.poll(() => anaP.page.url()).toContain(`/c/${conversationId}`);

    await anaP.page.reload();
    await expect.poll(() => log.getByText(/^history \d$/).count(), { timeout: 10_000 }).toBe(3);
    await expect.poll(() => anaP.page.getByRole("heading", { level: 2, name: ben.name }).count()).toBe(1);
    // The inbox shows the conversation with Ben's last message.
    const inbox = anaP.page.getByRole("listbox", { name: "Conversations" });
    await expect.poll(() => inbox.getByRole("option").filter({ hasText: "history 3" }).count(), { timeout: 10_000 }).toBe(1);
  });

  it("sends a message written while the connection is down once, when it returns", async () => {
    const { conversationId, ana, ben } = await pair();
    // Ana's browser reaches Parley only through a proxy the test can cut, like a network that goes away.
    const proxy = await startTcpProxy(suite.node.port);
    try {
      const anaP = await person();
      const benP = await person();
      await signIn(anaP, proxy.url, ana.token, conversationId);
      await signIn(benP, suite.node.url, ben.token, conversationId);
      const anaLog = anaP.page.getByRole("log", { name: "Messages" });
      const benLog = benP.page.getByRole("log", { name: "Messages" });
      const box = anaP.page.getByRole("textbox", { name: "Message" });
      await box.fill("before the cut");
      await box.press("Enter");
      await expect.poll(() => benLog.getByText("before the cut", { exact: true }).count(), { timeout: 10_000 }).toBe(1);

      await proxy.cut();
      await expect.poll(() => anaP.page.getByRole("status").filter({ hasText: "Reconnecting…" }).count(), { timeout: 15_000 }).toBe(1);
      await box.fill("written offline");
      await box.press("Enter");
      // It shows at once, pending.
      await expect.poll(() => anaLog.getByText("written offline", { exact: true }).count()).toBe(1);
      await expect.poll(() => anaLog.getByRole("img", { name: "Sending" }).count()).toBe(1);
      await screenshot(anaP.page, "offline-pending");
      await benP.page.waitForTimeout(500);
      expect(await benLog.getByText("written offline", { exact: true }).count()).toBe(0);

      await proxy.restore();
      await expect.poll(() => benLog.getByText("written offline", { exact: true }).count(), { timeout: 20_000 }).toBe(1);
      await expect.poll(() => anaP.page.getByRole("status").filter({ hasText: "Reconnecting…" }).count(), { timeout: 10_000 }).toBe(0);
      await expect.poll(() => anaLog.getByRole("img", { name: "Sending" }).count(), { timeout: 10_000 }).toBe(0);
      expect(await anaLog.getByText("written offline", { exact: true }).count()).toBe(1);

      // Stored exactly once.
      const { messages } = await suite.node.api<{ messages: Array<{ text: string | null }> }>(
        "GET",
        `/v1/conversations/${conversationId}/messages?limit=50`,
        undefined,
        ana.id,
      );
      expect(messages.filter((m) => m.text === "written offline")).toHaveLength(1);
      await benP.page.waitForTimeout(500);
      expect(await benLog.getByText("written offline", { exact: true }).count()).toBe(1);
    } finally {
      await proxy.close();
    }
  });

  it("signs in a demo user from /dev/login and shows the inbox, on a desktop and on a phone", async () => {
    const desktop = await person();
    await desktop.page.goto(`${suite.node.url}/dev/login`);
    await desktop.page.getByRole("button", { name: /^Casey Morgan/ }).click();
    const inbox = desktop.page.getByRole("listbox", { name: "Conversations" });
    await expect.poll(() => inbox.getByRole("option").count(), { timeout: 10_000 }).toBeGreaterThanOrEqual(3);
    await expect.poll(() => inbox.getByRole("option").filter({ hasText: "Booking #42" }).count()).toBe(1);
    await screenshot(desktop.page, "inbox-desktop");
    await inbox.getByRole("option").filter({ hasText: "Booking #42" }).click();
    await expect.poll(() => desktop.page.getByRole("heading", { level: 2, name: /Booking #42/ }).count(), { timeout: 10_000 }).toBe(1);
    await expect.poll(() => desktop.page.getByRole("log", { name: "Messages" }).locator("[data-seq]").count(), { timeout: 10_000 }).toBeGreaterThan(1);
    await screenshot(desktop.page, "group-desktop");

    // On a phone-sized screen the inbox and the conversation are two screens.
    const phone = await person({ viewport: { width: 375, height: 740 } });
    await phone.page.goto(`${suite.node.url}/dev/login`);
    await phone.page.getByRole("button", { name: /^Casey Morgan/ }).click();
    const phoneInbox = phone.page.getByRole("listbox", { name: "Conversations" });
    await expect.poll(() => phoneInbox.getByRole("option").filter({ hasText: "Booking #42" }).count(), { timeout: 10_000 }).toBe(1);
    await screenshot(phone.page, "inbox-phone");
    await phoneInbox.getByRole("option").filter({ hasText: "Booking #42" }).click();
    await expect.poll(() => phone.page.getByRole("textbox", { name: "Message" }).isVisible(), { timeout: 10_000 }).toBe(true);
    await expect.poll(() => phoneInbox.isVisible()).toBe(false);
    await screenshot(phone.page, "conversation-phone");
    await phone.page.getByRole("button", { name: "Back" }).click();
    await expect.poll(() => phoneInbox.isVisible()).toBe(true);
    // The app's Back is the browser's: the browser's Back now leaves the inbox, never returns to the conversation.
    expect(new URL(phone.page.url()).pathname).toBe("/");
    await phone.page.goBack();
    expect(new URL(phone.page.url()).pathname).not.toMatch(/^\/c\//);
    expect([...desktop.errors, ...phone.errors]).toEqual([]);
  });
});
