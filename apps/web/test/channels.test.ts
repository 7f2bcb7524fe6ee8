import { describe, expect, it } from "vitest";
import type { Page } from "playwright-core";
import { type BrowserSuite, browserSkipReason, browserSuite, screenshot, signIn, unique } from "./support/browser.js";

const skip = browserSkipReason();
if (skip) process.stdout.write(`${skip}: the web app browser suite\n`);

interface ChannelListing {
  conversation: { id: string; title: string | null };
  memberCount: number;
  joined: boolean;
}

describe.skipIf(skip !== null)("the web app in Chromium: browsing channels and support availability", () => {
  const suite = browserSuite();
  const person = (options: Parameters<BrowserSuite["person"]>[0] = {}) => suite.person(options);

  async function community(userId: string): Promise<ChannelListing> {
    const { channels } = await suite.node.api<{ channels: ChannelListing[] }>("GET", "/v1/channels?limit=50", undefined, userId);
    const listing = channels.find((c) => c.conversation.title === "Community");
    expect(listing).toBeDefined();
    return listing!;
  }

  it("a new user browses channels, joins Community, reads its history, posts, finds it in their inbox, and leaves it", async () => {
    const dana = { id: unique("dana"), name: "Dana Reyes" };
    const token = await suite.node.token(dana.id, dana.name);
    expect((await fetch(`${suite.node.url}/v1/me`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);
    const before = await community(dana.id);
    expect(before.joined).toBe(false);
    const channelId = before.conversation.id;

    const p = await person();
    await signIn(p, suite.node.url, token);
    const page = p.page;
    // In no conversation yet.
    await expect.poll(() => page.getByText("No conversations yet").count(), { timeout: 10_000 }).toBe(1);

    await page.getByRole("button", { name: "Browse channels", exact: true }).click();
    await expect.poll(() => new URL(page.url()).pathname).toBe("/channels");
    const list = page.getByRole("list", { name: "Channels" });
    const row = list.getByRole("listitem").filter({ hasText: "Community" });
    await expect.poll(() => row.count(), { timeout: 10_000 }).toBe(1);
    await expect.poll(() => row.getByText(`${before.memberCount} members`, { exact: true }).count()).toBe(1);
    expect(await row.getByRole("button", { name: "Open Community" }).count()).toBe(0);
    await screenshot(page, "channels");

    await row.getByRole("button", { name: "Join Community", exact: true }).click();
    await expect.poll(() => new URL(page.url()).pathname, { timeout: 10_000 }).toBe(`/c/${channelId}`);
    await expect.poll(() => page.getByRole("heading", { level: 2, name: "Community" }).count(), { timeout: 10_000 }).toBe(1);
    const log = page.getByRole("log", { name: "Messages" });
    // The channel's history, from before Dana joined.
    await expect
      .poll(() => log.getByText("Welcome to the community channel! Introduce yourself 👋").count(), { timeout: 10_000 })
      .toBe(1);

    const hello = `Hi everyone, ${dana.name} here ${unique("")}`;
    const box = page.getByRole("textbox", { name: "Message" });
    await box.fill(hello);
    await box.press("Enter");
    await expect.poll(() => log.getByText(hello, { exact: true }).count(), { timeout: 10_000 }).toBe(1);
    await expect.poll(() => log.getByRole("img", { name: /^(Sent|Delivered|Read)/ }).count(), { timeout: 10_000 }).toBeGreaterThan(0);

    // Community is in the inbox now, with Dana's message.
    const inbox = page.getByRole("listbox", { name: "Conversations" });
    const inboxRow = inbox.getByRole("option").filter({ hasText: "Community" });
    await expect.poll(() => inboxRow.count(), { timeout: 10_000 }).toBe(1);
    await expect.poll(() => inboxRow.getByText(`You: ${hello}`).count(), { timeout: 10_000 }).toBe(1);
    const after = await community(dana.id);
    expect(after.joined).toBe(true);
    expect(after.memberCount).toBe(before.memberCount + 1);

    // Back in the directory, the channel is one to open, with Dana counted.
    await page.getByRole("button", { name: "Browse channels", exact: true }).click();
    await expect.poll(() => row.getByText(`${after.memberCount} members`, { exact: true }).count(), { timeout: 10_000 }).toBe(1);
    const open = row.getByRole("button", { name: "Open Community", exact: true });
    await expect.poll(() => open.count()).toBe(1);
    // Keyboard: the arrow keys reach the row's button, Enter opens it.
    await page.getByRole("heading", { level: 2, name: "Browse channels" }).focus();
    await page.keyboard.press("Tab");
    await expect.poll(() => open.evaluate((el) => el === el.ownerDocument.activeElement)).toBe(true);
    await page.keyboard.press("Enter");
    await expect.poll(() => new URL(page.url()).pathname).toBe(`/c/${channelId}`);
    expect(p.errors).toEqual([]);

    // On a phone the directory is a screen of its own, with Back.
    const phone = await person({ viewport: { width: 375, height: 740 } });
    await signIn(phone, suite.node.url, token);
    const phoneInbox = phone.page.getByRole("listbox", { name: "Conversations" });
    const phoneRow = phoneInbox.getByRole("option").filter({ hasText: "Community" });
    await expect.poll(() => phoneRow.count(), { timeout: 10_000 }).toBe(1);
    // Someone posts while Community is open nowhere: both inbox rows have it at once, with a badge;
    // opening it on the desktop reads it there and clears the phone's badge.
    await page.getByRole("button", { name: "Browse channels", exact: true }).click();
    await expect.poll(() => new URL(page.url()).pathname).toBe("/channels");
    const news = `Meetup moved to Friday ${unique("")}`;
    await suite.node.api("POST", `/v1/conversations/${channelId}/messages`, { text: news }, unique("poster"));
    for (const row of [phoneRow, inboxRow]) {
      await expect.poll(() => row.getByText(news, { exact: false }).count(), { timeout: 10_000 }).toBe(1);
      await expect.poll(() => row.getByLabel("1 unread").count(), { timeout: 10_000 }).toBe(1);
    }
    await inboxRow.click();
    await expect.poll(() => log.getByText(news, { exact: true }).count(), { timeout: 10_000 }).toBe(1);
    await expect.poll(() => phoneRow.getByLabel("1 unread").count(), { timeout: 10_000 }).toBe(0);
    await phone.page.getByRole("button", { name: "Browse channels", exact: true }).click();
    const phoneList = phone.page.getByRole("list", { name: "Channels" });
    await expect.poll(() => phoneList.isVisible(), { timeout: 10_000 }).toBe(true);
    await expect.poll(() => phoneInbox.isVisible()).toBe(false);
    await screenshot(phone.page, "channels-phone");
    await phone.page.getByRole("button", { name: "Back" }).click();
    await expect.poll(() => phoneInbox.isVisible()).toBe(true);
    await expect.poll(() => new URL(phone.page.url()).pathname).toBe("/");
    expect(phone.errors).toEqual([]);

    // Dana leaves Community: it goes from her inbox, and she is a member no more (she may still read it).
    await page.getByRole("button", { name: "Leave channel" }).click();
    await expect.poll(() => inboxRow.count(), { timeout: 10_000 }).toBe(0);
    await expect.poll(async () => (await community(dana.id)).joined, { timeout: 10_000 }).toBe(false);
    expect(p.errors).toEqual([]);
  });

  it("tells a visitor whether an operator is online, and keeps it current", async () => {
    const visitor = await person();
    const page = visitor.page;
    await page.goto(`${suite.node.url}/support`);
    // Before they have a token, the form already says whether anyone is there.
    await expect
      .poll(() => page.getByRole("status").getByText("We'll reply as soon as we can", { exact: true }).count(), { timeout: 10_000 })
      .toBe(1);
    await page.getByRole("textbox", { name: "Your name" }).fill(`Visitor ${unique("")}`);
    await page.getByRole("button", { name: "Start chat" }).click();
    await expect.poll(() => page.getByRole("textbox", { name: "Message" }).isVisible(), { timeout: 10_000 }).toBe(true);
    const offline = page.getByRole("status").getByText("We'll reply as soon as we can", { exact: true });
    const online = page.getByRole("status").getByText("We are online", { exact: true });
    await expect.poll(() => offline.count(), { timeout: 10_000 }).toBe(1);
    expect(await online.count()).toBe(0);

    // Olivia, an operator, opens the desk.
    const olivia = await person();
    await olivia.page.goto(`${suite.node.url}/dev/login`);
    await olivia.page.getByRole("button", { name: /^Olivia Chen/ }).click();
    await olivia.page.getByRole("link", { name: /desk/i }).first().click();
    await expect.poll(() => olivia.page.url(), { timeout: 10_000 }).toContain("/desk");
    await expect.poll(() => olivia.page.getByRole("tab", { name: "All" }).count(), { timeout: 10_000 }).toBe(1);

    // The visitor's page asks again when it loads (and every 30 s, and on focus).
    await expect
      .poll(
        async () => {
          await page.reload();
          await statusShown(page);
          return online.count();
        },
        { timeout: 20_000, interval: 500 },
      )
      .toBe(1);
    expect(await offline.count()).toBe(0);
    await screenshot(page, "support-availability");

    // Olivia leaves; the visitor's page learns it when its window regains focus, without a reload.
    await olivia.page.close();
    await expect
      .poll(
        async () => {
          await page.evaluate("window.dispatchEvent(new Event('focus'))");
          return offline.count();
        },
        { timeout: 30_000, interval: 500 },
      )
      .toBe(1);
    expect([...visitor.errors, ...olivia.errors]).toEqual([]);
  });

  it("pages through many channels with Load more, and moves between them with the arrow keys", async () => {
    const reader = { id: unique("reader"), name: "Rui Costa" };
    const readerToken = await suite.node.token(reader.id, reader.name);
    const prefix = unique("Topic ");
    // The host's back end opens the channels (as the server, with the API key).
    for (let i = 1; i <= 31; i++) {
      await suite.node.api("POST", "/v1/conversations", { kind: "channel", title: `${prefix} ${i}` });
    }
    const p = await person();
    await signIn(p, suite.node.url, readerToken);
    await p.page.getByRole("button", { name: "Browse channels", exact: true }).click();
    const list = p.page.getByRole("list", { name: "Channels" });
    await expect.poll(() => list.getByRole("listitem").count(), { timeout: 10_000 }).toBe(30);
    // Newest activity first: the new channels come before Community.
    await expect.poll(() => list.getByRole("listitem").first().textContent()).toContain(prefix);
    await p.page.getByRole("button", { name: "Load more" }).click();
    const total = (await suite.node.api<{ channels: unknown[] }>("GET", "/v1/channels?limit=100", undefined, reader.id)).channels.length;
    expect(total).toBeGreaterThan(30);
    await expect.poll(() => list.getByRole("listitem").count(), { timeout: 10_000 }).toBe(total);
    await expect.poll(() => p.page.getByRole("button", { name: "Load more" }).count()).toBe(0);

    const first = list.getByRole("listitem").nth(0).getByRole("button");
    const second = list.getByRole("listitem").nth(1).getByRole("button");
    const firstTitle = ((await first.getAttribute("aria-label")) ?? "").replace(/^Join /, "");
    expect(firstTitle).toContain(prefix);
    await first.focus();
    await p.page.keyboard.press("ArrowDown");
    await expect.poll(() => second.evaluate((el) => el === el.ownerDocument.activeElement)).toBe(true);
    await p.page.keyboard.press("ArrowUp");
    await expect.poll(() => first.evaluate((el) => el === el.ownerDocument.activeElement)).toBe(true);
    await p.page.keyboard.press("Enter");
    await expect.poll(() => p.page.getByRole("heading", { level: 2, name: firstTitle, exact: true }).count(), { timeout: 10_000 }).toBe(1);
    expect(p.errors).toEqual([]);
  });
});

/** Waits until the visitor's page has its first availability answer. */
async function statusShown(page: Page): Promise<void> {
  await page
    .getByRole("status")
    .filter({ hasText: /We are online|We'll reply as soon as we can/ })
    .first()
    .waitFor({ timeout: 10_000 });
}
