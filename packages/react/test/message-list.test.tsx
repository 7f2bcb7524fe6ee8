import { act, cleanup, fireEvent, render, screen, waitFor, within } from "@testing-library/react";
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import type { ChatMessage } from "@parley/client";
import type { ConversationSummary, Member } from "@parley/protocol";
import { Composer, MessageList, MessageListView, ParleyProvider, conversationTitle, initials, typingSentence } from "@parley/react";
import { sleep, statusIs } from "../../client/test/support/wait.js";
import { Clients, api, directConversation, restSend } from "./support/live-server.js";

const NOW = new Date("2026-11-21T15:00:00.000Z");
const TODAY = "2026-11-21T14:00:00.000Z";
const YESTERDAY = "2026-11-20T14:00:00.000Z";

let seq = 0;
function msg(patch: Partial<ChatMessage> = {}): ChatMessage {
  seq += 1;
  return {
    key: `k${seq}`,
    id: `m${seq}`,
    conversationId: "c",
    seq,
    revSeq: seq,
    senderId: "bob",
    senderName: "Bob",
    type: "text",
    text: `message ${seq}`,
    attachments: [],
    replyTo: null,
    metadata: {},
    clientId: null,
    createdAt: TODAY,
    editedAt: null,
    deletedAt: null,
    reactions: {},
    own: false,
    status: "sent",
    error: null,
    readBy: [],
    ...patch,
  };
}
const mine = (patch: Partial<ChatMessage> = {}) => msg({ senderId: "alice", senderName: "Alice", own: true, ...patch });

// jsdom does no layout: give the scroll container 50 px per message and a 200 px viewport.
const scrollTops = new WeakMap<Element, number>();
beforeAll(() => {
  const isList = (el: Element) => el.classList.contains("parley-scroll");
  Object.defineProperty(HTMLElement.prototype, "scrollHeight", {
    configurable: true,
    get(this: HTMLElement) {
      return isList(this) ? this.querySelectorAll(".parley-message").length * 50 : 0;
    },
  });
  Object.defineProperty(HTMLElement.prototype, "clientHeight", {
    configurable: true,
    get(this: HTMLElement) {
      return isList(this) ? 200 : 0;
    },
  });
  Object.defineProperty(HTMLElement.prototype, "scrollTop", {
    configurable: true,
    get(this: HTMLElement) {
      return scrollTops.get(this) ?? 0;
    },
    set(this: HTMLElement, value: number) {
      scrollTops.set(this, Math.max(0, Math.min(value, this.scrollHeight - this.clientHeight)));
    },
  });
});
const clients = new Clients();
afterEach(async () => {
  cleanup();
  await clients.close();
});

const list = () => document.querySelector(".parley-scroll") as HTMLElement;

describe("MessageListView", () => {
  it("groups consecutive messages by sender and day, with day separators and one name per group", () => {
    const messages = [
      msg({ createdAt: YESTERDAY }),
      msg({ createdAt: YESTERDAY }),
      msg({ createdAt: TODAY }),
      mine(),
      mine(),
      msg({ senderId: "carol", senderName: "Carol" }),
    ];
    render(<MessageListView messages={messages} currentUserId="alice" now={NOW} />);
    expect(screen.getAllByRole("separator").map((s) => s.textContent)).toEqual(["Yesterday", "Today"]);
    expect([...document.querySelectorAll(".parley-sender")].map((s) => s.textContent)).toEqual(["Bob", "Bob", "Carol"]);
    cleanup();
    render(<MessageListView messages={messages} currentUserId="alice" now={NOW} showSenderNames={false} />);
    expect(document.querySelectorAll(".parley-sender")).toHaveLength(0);
  });

  it("marks the user's messages pending, ✓ sent, ✓✓ delivered and read (by whom), and offers Retry on a failed one", () => {
    const onRetry = vi.fn();
    const onDiscard = vi.fn();
    const messages = [
      mine({ status: "read", readBy: [{ userId: "bob", name: "Bob", at: TODAY }] }),
      mine({ status: "delivered" }),
      mine({ status: "sent" }),
      mine({ id: null, seq: null, clientId: "c-pending", key: "c-pending", status: "pending" }),
      mine({ id: null, seq: null, clientId: "c-failed", key: "c-failed", status: "failed", text: "did not go" }),
    ];
    render(<MessageListView messages={messages} currentUserId="alice" onRetry={onRetry} onDiscard={onDiscard} now={NOW} />);
    expect(screen.getAllByRole("img").map((i) => [i.getAttribute("aria-label"), i.textContent])).toEqual([
      ["Read by Bob", "✓✓"],
      ["Delivered", "✓✓"],
      ["Sent", "✓"],
      ["Sending", ""],
      ["Not sent", "!"],
    ]);
    const failed = screen.getByRole("alert");
    fireEvent.click(within(failed).getByRole("button", { name: "Retry" }));
    expect(onRetry).toHaveBeenCalledWith("c-failed");
    fireEvent.click(within(failed).getByRole("button", { name: "Discard" }));
    expect(onDiscard).toHaveBeenCalledWith("c-failed");
  });

  it("shows no read marks on the user's own deleted message, only on those still there", () => {
    const messages = [mine({ text: null, deletedAt: TODAY, status: "read" }), mine({ text: "still here", status: "read" })];
    render(<MessageListView messages={messages} currentUserId="alice" now={NOW} />);
    const marks = document.querySelectorAll(".parley-status");
    expect(marks).toHaveLength(1);
    expect(marks[0]!.closest(".parley-message")?.textContent).toContain("still here");
  });

  it("shows (edited), a placeholder for a deleted message, reactions with counts and who, and attachments", () => {
    const onReact = vi.fn();
    const messages = [
      msg({ text: "fixed typo", editedAt: TODAY }),
      msg({ text: null, deletedAt: TODAY }),
      msg({ text: "nice", reactions: { "👍": ["alice", "carol"], "🎉": ["carol"] } }),
      msg({
        type: "image",
        text: null,
        attachments: [
          { id: "a1", url: "https://files.example/a1.png", name: "beach.png", mimeType: "image/png", size: 10, width: 40, height: 30 },
          { id: "a2", url: "https://files.example/a2.pdf", name: "invoice.pdf", mimeType: "application/pdf", size: 10 },
        ],
      }),
    ];
    render(<MessageListView messages={messages} currentUserId="alice" onReact={onReact} now={NOW} />);
    expect(screen.getByText("(edited)")).toBeTruthy();
    expect(screen.getByText("Message deleted")).toBeTruthy();
    const thumbs = screen.getByRole("button", { name: "👍 2, by you, carol" });
    expect(thumbs.getAttribute("aria-pressed")).toBe("true");
    fireEvent.click(thumbs);
    expect(onReact).toHaveBeenCalledWith(messages[2]!.id, "👍", false);
    fireEvent.click(screen.getByRole("button", { name: "🎉 1, by carol" }));
    expect(onReact).toHaveBeenCalledWith(messages[2]!.id, "🎉", true);
    expect(screen.getByRole("img", { name: "beach.png" }).getAttribute("src")).toBe("https://files.example/a1.png");
    expect(screen.getByRole("link", { name: "invoice.pdf" }).getAttribute("href")).toBe("https://files.example/a2.pdf");
  });

  it("renders text as text: markup stays visible characters, only http(s) links become links, and they open safely", () => {
    const messages = [
      msg({ text: '<img src=x onerror="alert(1)"><b>bold</b>' }),
      msg({ text: "see https://example.com/a?b=1. and javascript:alert(1)" }),
    ];
    render(<MessageListView messages={messages} currentUserId="alice" now={NOW} />);
    expect(screen.getByText('<img src=x onerror="alert(1)"><b>bold</b>')).toBeTruthy();
    expect(document.querySelector(".parley-text img, .parley-text b")).toBeNull();
    const links = screen.getAllByRole("link");
    expect(links.map((a) => a.getAttribute("href"))).toEqual(["https://example.com/a?b=1"]);
    expect(links[0]!.getAttribute("rel")).toBe("noopener noreferrer");
    expect(links[0]!.getAttribute("target")).toBe("_blank");
  });

  it("ends a link where its sentence goes on: balanced brackets stay in it, a closing one of the sentence does not; www. addresses link too", () => {
    const messages = [
      msg({ text: "see https://en.wikipedia.org/wiki/Bracket_(disambiguation), it explains" }),
      msg({ text: "(details at https://example.com/a)." }),
      msg({ text: "or www.example.org/path?x=1!" }),
    ];
    render(<MessageListView messages={messages} currentUserId="alice" now={NOW} />);
    const links = screen.getAllByRole("link");
    expect(links.map((a) => a.getAttribute("href"))).toEqual([
      "https://en.wikipedia.org/wiki/Bracket_(disambiguation)",
      "https://example.com/a",
      "https://www.example.org/path?x=1",
    ]);
    expect(links.map((a) => a.textContent)).toEqual([
      "https://en.wikipedia.org/wiki/Bracket_(disambiguation)",
      "https://example.com/a",
      "www.example.org/path?x=1",
    ]);
    expect(screen.getByText(/it explains/).textContent).toBe("see https://en.wikipedia.org/wiki/Bracket_(disambiguation), it explains");
  });

  it("puts an Unread messages divider before the first message from others after the read position", () => {
    const messages = [msg(), mine(), msg(), msg()];
    render(<MessageListView messages={messages} currentUserId="alice" unreadAfterSeq={messages[1]!.seq} now={NOW} />);
    const divider = screen.getByRole("separator", { name: "Unread messages" });
    expect(divider.nextElementSibling?.querySelector(".parley-message")?.getAttribute("data-seq")).toBe(String(messages[2]!.seq));
  });

  it("opens at the first unread message rather than at the bottom, and does not mark it read from there", async () => {
    const messages = Array.from({ length: 10 }, () => msg());
    const onBottomVisible = vi.fn();
    render(
      <MessageListView messages={messages} unreadAfterSeq={messages[2]!.seq} onBottomVisible={onBottomVisible} currentUserId="alice" now={NOW} />,
    );
    await act(async () => undefined);
    // jsdom puts every element at offset 0; a real layout puts the divider where it is drawn.
    expect(list().scrollTop).toBe(0);
    expect(onBottomVisible).not.toHaveBeenCalled();
    list().scrollTop = 10 * 50 - 200;
    fireEvent.scroll(list());
    await act(async () => undefined);
    expect(onBottomVisible).toHaveBeenCalled();
  });

  it("never jumps to the Unread messages divider for messages that arrive while the conversation is open", async () => {
    const start = Array.from({ length: 10 }, () => msg());
    const { rerender } = render(<MessageListView messages={start} unreadAfterSeq={start[9]!.seq} currentUserId="alice" now={NOW} />);
    await act(async () => undefined);
    list().scrollTop = 100;
    fireEvent.scroll(list());
    const arrived = [...start, msg(), msg()];
    rerender(<MessageListView messages={arrived} unreadAfterSeq={start[9]!.seq} currentUserId="alice" now={NOW} />);
    await act(async () => undefined);
    expect(screen.getByRole("separator", { name: "Unread messages" })).toBeTruthy();
    expect(list().scrollTop).toBe(100);
    expect(screen.getByRole("button", { name: "2 new messages" })).toBeTruthy();
  });

  it("edits inline (Esc cancels, Save saves) and asks before deleting", () => {
    const onEdit = vi.fn();
    const onDelete = vi.fn();
    const own = mine({ text: "original" });
    render(<MessageListView messages={[own]} currentUserId="alice" onEdit={onEdit} onDelete={onDelete} now={NOW} />);
    fireEvent.click(screen.getByRole("button", { name: "Edit" }));
    const box = screen.getByRole("textbox", { name: "Edit message" });
    fireEvent.keyDown(box, { key: "Escape" });
    expect(screen.queryByRole("textbox", { name: "Edit message" })).toBeNull();
    fireEvent.click(screen.getByRole("button", { name: "Edit" }));
    fireEvent.change(screen.getByRole("textbox", { name: "Edit message" }), { target: { value: "better" } });
    fireEvent.click(screen.getByRole("button", { name: "Save" }));
    expect(onEdit).toHaveBeenCalledWith(own.id, "better");

    fireEvent.click(screen.getByRole("button", { name: "Delete" }));
    expect(onDelete).not.toHaveBeenCalled();
    const confirm = screen.getByRole("group", { name: "Delete this message?" });
    fireEvent.keyDown(within(confirm).getByRole("button", { name: "Cancel" }), { key: "Escape" });
    expect(screen.queryByRole("group", { name: "Delete this message?" })).toBeNull();
    fireEvent.click(screen.getByRole("button", { name: "Delete" }));
    fireEvent.click(screen.getByRole("button", { name: "Delete for me" }));
    expect(onDelete).toHaveBeenCalledWith(own.id, "me");
    fireEvent.click(screen.getByRole("button", { name: "Delete" }));
    fireEvent.click(screen.getByRole("button", { name: "Delete for everyone" }));
    expect(onDelete).toHaveBeenLastCalledWith(own.id, "everyone");
  });

  it("offers others' messages Reply, React and Copy in a menu, but Delete only for the user", () => {
    const onReply = vi.fn();
    const onReact = vi.fn();
    const onDelete = vi.fn();
    const theirs = msg({ text: "from bob" });
    render(<MessageListView messages={[theirs]} currentUserId="alice" onReply={onReply} onReact={onReact} onDelete={onDelete} now={NOW} />);
    expect(screen.queryByRole("button", { name: "Edit" })).toBeNull();
    // One Tab stop per message: the menu holds every action; the toolbar's shortcuts are for the mouse.
    expect(screen.getByRole("button", { name: "Reply" }).tabIndex).toBe(-1);
    expect(screen.getByRole("button", { name: "React" }).tabIndex).toBe(-1);
    expect(screen.getByRole("button", { name: "More actions" }).tabIndex).toBe(0);
    fireEvent.click(screen.getByRole("button", { name: "More actions" }));
    const menu = screen.getByRole("menu", { name: "More actions" });
    expect(within(menu).getAllByRole("menuitem").map((i) => i.getAttribute("aria-label") ?? i.textContent)).toEqual([
      "React with 👍",
      "React with ❤️",
      "React with 😂",
      "React with 😮",
      "Reply",
      "Copy",
      "Delete",
    ]);
    fireEvent.keyDown(menu, { key: "Escape" });
    expect(screen.queryByRole("menu")).toBeNull();
    expect(document.activeElement).toBe(screen.getByRole("button", { name: "More actions" }));

    fireEvent.click(screen.getByRole("button", { name: "React" }));
    fireEvent.click(screen.getByRole("menuitem", { name: "React with 😂" }));
    expect(onReact).toHaveBeenCalledWith(theirs.id, "😂", true);
    fireEvent.click(screen.getByRole("button", { name: "Reply" }));
    expect(onReply).toHaveBeenCalledWith(theirs.id);

    fireEvent.click(screen.getByRole("button", { name: "Delete" }));
    expect(screen.queryByRole("button", { name: "Delete for everyone" })).toBeNull();
    fireEvent.click(screen.getByRole("button", { name: "Delete for me" }));
    expect(onDelete).toHaveBeenCalledWith(theirs.id, "me");
  });

  it("quotes the message a reply answers, and a click on the quote jumps to it", () => {
    const original = msg({ text: "Is Saturday still on?" });
    const between = Array.from({ length: 5 }, () => msg());
    const reply = mine({ text: "Yes it is", replyTo: original.id });
    const scrolled = vi.fn();
    Element.prototype.scrollIntoView = scrolled;
    render(<MessageListView messages={[original, ...between, reply]} currentUserId="alice" now={NOW} />);
    const quote = screen.getByRole("button", { name: "Reply to Bob: Is Saturday still on?" });
    fireEvent.click(quote);
    const target = document.querySelector(`[data-id="${original.id}"]`)!;
    expect(scrolled.mock.contexts[0]).toBe(target);
    expect(target.classList.contains("parley-highlight")).toBe(true);
  });

  it("loads older messages when the reader scrolls up to the top", () => {
    const onLoadOlder = vi.fn();
    render(<MessageListView messages={Array.from({ length: 10 }, () => msg())} hasOlder onLoadOlder={onLoadOlder} now={NOW} />);
    list().scrollTop = 250;
    fireEvent.scroll(list());
    list().scrollTop = 200;
    fireEvent.scroll(list());
    expect(onLoadOlder).not.toHaveBeenCalled();
    list().scrollTop = 60;
    fireEvent.scroll(list());
    expect(onLoadOlder).toHaveBeenCalledTimes(1);
  });

  it("loads older pages when the quoted message is not loaded yet, then jumps to it", () => {
    const original = msg({ text: "Way back" });
    const reply = mine({ text: "About that", replyTo: original.id });
    const scrolled = vi.fn();
    Element.prototype.scrollIntoView = scrolled;
    const onLoadOlder = vi.fn();
    const { rerender } = render(<MessageListView messages={[reply]} hasOlder onLoadOlder={onLoadOlder} currentUserId="alice" now={NOW} />);
    fireEvent.click(screen.getByRole("button", { name: "Reply to an earlier message" }));
    expect(onLoadOlder).toHaveBeenCalledTimes(1);
    expect(scrolled).not.toHaveBeenCalled();
    rerender(<MessageListView messages={[original, reply]} onLoadOlder={onLoadOlder} currentUserId="alice" now={NOW} />);
    expect(scrolled.mock.contexts[0]).toBe(document.querySelector(`[data-id="${original.id}"]`));
    expect(screen.getByRole("button", { name: "Reply to Bob: Way back" })).toBeTruthy();
  });

  it("opens an image in a viewer that Esc closes", () => {
    const photo = msg({
      type: "image",
      text: null,
      attachments: [{ id: "a9", url: "https://files.example/lake.png", name: "lake.png", mimeType: "image/png", size: 10 }],
    });
    render(<MessageListView messages={[photo]} currentUserId="alice" now={NOW} />);
    fireEvent.click(screen.getByRole("button", { name: "lake.png" }));
    const viewer = screen.getByRole("dialog", { name: "lake.png" });
    expect(within(viewer).getByRole("img", { name: "lake.png" }).getAttribute("src")).toBe("https://files.example/lake.png");
    expect(document.activeElement).toBe(within(viewer).getByRole("button", { name: "Close image" }));
    fireEvent.keyDown(document, { key: "Escape" });
    expect(screen.queryByRole("dialog")).toBeNull();
  });

  it("follows new messages at the bottom, stays put with a 'new messages' count when scrolled up, and scrolls down when the user sends", () => {
    const start = Array.from({ length: 10 }, () => msg());
    const { rerender } = render(<MessageListView messages={start} currentUserId="alice" now={NOW} />);
    expect(list().scrollTop).toBe(10 * 50 - 200);

    const more = [...start, msg()];
    rerender(<MessageListView messages={more} currentUserId="alice" now={NOW} />);
    expect(list().scrollTop).toBe(11 * 50 - 200);

    // The reader scrolls up into history.
    list().scrollTop = 100;
    fireEvent.scroll(list());
    const evenMore = [...more, msg(), msg(), mine()];
    rerender(<MessageListView messages={evenMore} currentUserId="alice" now={NOW} />);
    expect(list().scrollTop).toBe(100);
    expect(screen.getByRole("button", { name: "2 new messages" })).toBeTruthy();

    // Sending always scrolls to the bottom.
    const sent = [...evenMore, mine({ id: null, seq: null, clientId: "c9", key: "c9", status: "pending" })];
    rerender(<MessageListView messages={sent} currentUserId="alice" now={NOW} />);
    expect(list().scrollTop).toBe(15 * 50 - 200);
    expect(screen.queryByRole("button", { name: /new message/ })).toBeNull();
  });

  it("keeps the reader's place when older messages load above", () => {
    const older = Array.from({ length: 5 }, () => msg());
    const newer = Array.from({ length: 10 }, () => msg());
    const onLoadOlder = vi.fn();
    const { rerender } = render(<MessageListView messages={newer} hasOlder onLoadOlder={onLoadOlder} currentUserId="alice" now={NOW} />);
    list().scrollTop = 0;
    fireEvent.scroll(list());
    fireEvent.click(screen.getByRole("button", { name: "Load older messages" }));
    expect(onLoadOlder).toHaveBeenCalled();
    rerender(<MessageListView messages={[...older, ...newer]} currentUserId="alice" now={NOW} />);
    // The message that was at the top is still at the top: 5 messages × 50 px were added above it.
    expect(list().scrollTop).toBe(250);
  });

  it("loads older pages on opening until the first unread message is loaded, then shows it, never marking read meanwhile", async () => {
    const older = Array.from({ length: 10 }, () => msg());
    const newer = Array.from({ length: 10 }, () => msg());
    const onLoadOlder = vi.fn();
    const onBottomVisible = vi.fn();
    const props = { currentUserId: "alice", now: NOW, onLoadOlder, onBottomVisible, unreadAfterSeq: older[4]!.seq };
    const { rerender } = render(<MessageListView messages={newer} hasOlder {...props} />);
    await act(async () => undefined);
    // The first unread message is on the page before: no divider at the wrong message, and no reading from the bottom.
    expect(onLoadOlder).toHaveBeenCalledTimes(1);
    expect(screen.queryByRole("separator", { name: "Unread messages" })).toBeNull();
    expect(onBottomVisible).not.toHaveBeenCalled();
    rerender(<MessageListView messages={[...older, ...newer]} hasOlder={false} {...props} />);
    await act(async () => undefined);
    const divider = screen.getByRole("separator", { name: "Unread messages" });
    expect(divider.nextElementSibling?.querySelector(".parley-message")?.getAttribute("data-seq")).toBe(String(older[5]!.seq));
    expect(list().scrollTop).toBe(0);
    expect(onBottomVisible).not.toHaveBeenCalled();
    // The jump to the divider is not the reader scrolling up: no older page is fetched for it.
    fireEvent.scroll(list());
    expect(onLoadOlder).toHaveBeenCalledTimes(1);
    list().scrollTop = 20 * 50 - 200;
    fireEvent.scroll(list());
    await act(async () => undefined);
    expect(onBottomVisible).toHaveBeenCalled();
  });

  it("opens a first unread message far back in one step, and is not left waiting when that fails", async () => {
    const newer = Array.from({ length: 10 }, () => msg());
    const onOpenAt = vi.fn(() => Promise.reject(new Error("offline")));
    const onLoadOlder = vi.fn();
    const onBottomVisible = vi.fn();
    const unreadAfterSeq = newer[0]!.seq! - 400;
    render(
      <MessageListView messages={newer} hasOlder unreadAfterSeq={unreadAfterSeq} currentUserId="alice" now={NOW} {...{ onOpenAt, onLoadOlder, onBottomVisible }} />,
    );
    await act(async () => undefined);
    // Hundreds of messages back: no page-by-page walk, one jump to the message after the read position.
    expect(onOpenAt).toHaveBeenCalledTimes(1);
    expect(onOpenAt).toHaveBeenCalledWith(unreadAfterSeq + 1);
    expect(onLoadOlder).not.toHaveBeenCalled();
    // It failed: the list opens at the oldest message loaded, reading nothing by itself; reaching the bottom reads.
    await act(async () => undefined);
    expect(list().scrollTop).toBe(0);
    expect(onBottomVisible).not.toHaveBeenCalled();
    list().scrollTop = 10 * 50 - 200;
    fireEvent.scroll(list());
    await act(async () => undefined);
    expect(onBottomVisible).toHaveBeenCalled();
  });

  it("loads the page below a window when its bottom is reached, and after a failure only when asked", async () => {
    const window = Array.from({ length: 3 }, () => msg());
    const onLoadNewer = vi.fn(() => Promise.reject(new Error("forbidden")));
    render(<MessageListView messages={window} hasNewer currentUserId="alice" now={NOW} onLoadNewer={onLoadNewer} />);
    await act(async () => undefined);
    // Three messages fill no screen: the bottom is in view, so the next page is asked for, once.
    expect(onLoadNewer).toHaveBeenCalledTimes(1);
    fireEvent.scroll(list());
    await act(async () => undefined);
    expect(onLoadNewer).toHaveBeenCalledTimes(1);
    fireEvent.click(screen.getByRole("button", { name: "Load newer messages" }));
    await act(async () => undefined);
    expect(onLoadNewer).toHaveBeenCalledTimes(2);
  });

  it("names who has read a message in a group, and who it reached, before everyone has read it", () => {
    const member = (userId: string, name: string, lastReadSeq: number, lastDeliveredSeq: number) => ({ userId, name, lastReadSeq, lastDeliveredSeq });
    const readBy = [
      { userId: "bob", name: "Bob", at: TODAY },
      { userId: "dave", name: "Dave", at: TODAY },
    ];
    const first = mine({ status: "sent", readBy });
    const second = mine({ status: "delivered", readBy });
    const third = mine({ status: "sent" });
    const s1 = first.seq!;
    const s3 = third.seq!;
    const members = [
      member("alice", "Alice", s3, s3),
      member("bob", "Bob", s1 + 1, s3),
      member("dave", "Dave", s1 + 1, s3),
      // Carol's device got the second message, not yet the third; she has read none.
      member("carol", "Carol", 0, s1 + 1),
    ];
    render(<MessageListView messages={[first, second, third]} members={members} currentUserId="alice" now={NOW} />);
    expect(screen.getAllByRole("img").map((i) => [i.getAttribute("title"), i.textContent])).toEqual([
      ["Read by Bob, Dave; delivered to Carol", "✓"],
      ["Read by Bob, Dave; delivered to Carol", "✓✓"],
      ["Sent; delivered to Bob, Dave", "✓"],
    ]);
  });

  it("lets each message's text take its own direction (right-to-left for Arabic)", () => {
    render(<MessageListView messages={[msg({ text: "مرحبا، كيف حالك؟" }), msg({ text: "Hello" })]} currentUserId="alice" now={NOW} />);
    expect(screen.getByText("مرحبا، كيف حالك؟").closest(".parley-text")?.getAttribute("dir")).toBe("auto");
    expect(screen.getByText("Hello").closest(".parley-text")?.getAttribute("dir")).toBe("auto");
  });

  it("tells when the bottom is visible, so the conversation can be marked read", async () => {
    const onBottomVisible = vi.fn();
    render(<MessageListView messages={[msg(), msg()]} currentUserId="alice" onBottomVisible={onBottomVisible} now={NOW} />);
    await act(async () => undefined);
    expect(onBottomVisible).toHaveBeenCalled();
  });
});

describe("typing sentence", () => {
  it("names one or two typists and counts more", () => {
    const u = (name: string) => ({ userId: name.toLowerCase(), name });
    expect(typingSentence([])).toBe("");
    expect(typingSentence([u("Alice")])).toBe("Alice is typing…");
    expect(typingSentence([u("Alice"), u("Bob")])).toBe("Alice and Bob are typing…");
    expect(typingSentence([u("Alice"), u("Bob"), u("Carol")])).toBe("3 people are typing…");
  });
});

describe("names", () => {
  const summary = (patch: Partial<ConversationSummary>): ConversationSummary => ({
    id: "c1",
    kind: "direct",
    ref: null,
    title: null,
    metadata: {},
    status: "open",
    createdAt: TODAY,
    lastMessageAt: null,
    lastSeq: 0,
    lastMessage: null,
    unreadCount: 0,
    lastReadSeq: 0,
    members: [],
    lastMessageStatus: null,
    ...patch,
  });

  it("names a support conversation after its visitor for operators, and 'Support' for the visitor", () => {
    const members = [
      { userId: "guest-1", name: "Dana (visitor)", role: "owner" as const },
      { userId: "olivia", name: "Olivia Chen", role: "member" as const },
    ];
    expect(conversationTitle(summary({ kind: "support", members }), "olivia")).toBe("Dana (visitor)");
    expect(conversationTitle(summary({ kind: "support", members }), "omar")).toBe("Dana (visitor)");
    expect(conversationTitle(summary({ kind: "support", members }), "guest-1")).toBe("Support");
    expect(conversationTitle(summary({ kind: "direct", members }), "olivia")).toBe("Dana (visitor)");
    expect(conversationTitle(summary({ kind: "group", title: "Booking #42", members }), "olivia")).toBe("Booking #42");
  });

  it("draws avatars with up to two initials", () => {
    expect(initials("Casey Morgan")).toBe("CM");
    expect(initials("Val (visitor)")).toBe("V");
    expect(initials("émile zola de paris")).toBe("ÉZ");
    expect(initials("  ")).toBe("?");
  });
});

describe("MessageList with a Parley server", () => {
  const readPosition = async (conversationId: string, user: string) => {
    const { members } = await api<{ members: Member[] }>("GET", `/v1/conversations/${conversationId}`, undefined, user);
    return members.find((m) => m.userId === user)!.lastReadSeq;
  };
  const dividers = () => screen.queryAllByRole("separator", { name: "Unread messages" });
  /** The polite live region where screen readers hear of new messages. */
  const region = () => document.querySelector(".parley-sr-only[aria-live='polite']")!;

  /** A direct conversation where `sender` wrote `read` messages ("seen n") the reader has read, then `unread` more ("unread n"). */
  const backlog = async (reader: string, sender: string, read: number, unread: number) => {
    const id = await directConversation(reader, sender);
    for (let i = 1; i <= read; i++) await restSend(id, sender, `seen ${i}`);
    await api("POST", `/v1/conversations/${id}/read`, { seq: read }, reader);
    for (let i = 1; i <= unread; i++) await restSend(id, sender, `unread ${i}`);
    return id;
  };

  /** `user`'s MessageList of the conversation, connected; returns queries within its log. */
  const openList = async (user: string, conversationId: string, options: { pageSize?: number } = {}) => {
    const client = clients.client(user, options);
    await statusIs(client, "connected");
    render(
      <ParleyProvider client={client}>
        <MessageList conversationId={conversationId} />
      </ParleyProvider>,
    );
    return within(screen.getByRole("log", { name: "Messages" }));
  };

  it("opens at the first unread message (older pages loaded for it) and marks it read only once the reader reaches the bottom", async () => {
    const id = await backlog("uma", "vic", 30, 30);
    const log = await openList("uma", id, { pageSize: 20 });
    await log.findByText("unread 1", undefined, { timeout: 5_000 });
    expect(dividers()).toHaveLength(1);
    expect(dividers()[0]!.nextElementSibling?.querySelector(".parley-text")?.textContent).toBe("unread 1");
    // jsdom draws the divider at offset 0: the list jumped there, away from the bottom.
    expect(list().scrollTop).toBe(0);
    await sleep(500);
    expect(await readPosition(id, "uma")).toBe(30);

    list().scrollTop = list().scrollHeight;
    fireEvent.scroll(list());
    await waitFor(async () => expect(await readPosition(id, "uma")).toBe(60), { timeout: 5_000 });
    // The divider stays where the reader left off.
    expect(dividers()).toHaveLength(1);
  });

  it("opens a long backlog at its first unread message in one step, reads on a page at a time, and jumps to the latest", async () => {
    const id = await backlog("una", "val", 10, 200);
    const log = await openList("una", id, { pageSize: 20 });
    // The window starts a few messages before the first unread one, with the divider there; the newest wait.
    await log.findByText("unread 1", undefined, { timeout: 5_000 });
    expect(log.getByText("seen 6")).toBeTruthy();
    expect(log.queryByText("unread 200")).toBeNull();
    expect(dividers()).toHaveLength(1);
    expect(dividers()[0]!.nextElementSibling?.querySelector(".parley-text")?.textContent).toBe("unread 1");
    expect(list().scrollTop).toBe(0);
    expect(screen.getByRole("button", { name: "Load newer messages" })).toBeTruthy();
    expect(screen.getByRole("button", { name: /Jump to latest/ })).toBeTruthy();
    await sleep(300);
    expect(await readPosition(id, "una")).toBe(10);

    // Reaching the bottom of the window reads what it shows and loads the next page below, the view staying put.
    list().scrollTop = list().scrollHeight;
    fireEvent.scroll(list());
    await log.findByText("unread 35", undefined, { timeout: 5_000 });
    await waitFor(async () => expect(await readPosition(id, "una")).toBe(25), { timeout: 5_000 });
    expect(list().scrollTop).toBe(20 * 50 - 200);
    expect(log.queryByText("unread 200")).toBeNull();

    // What arrives meanwhile waits out of sight, counted on the button that goes there.
    await restSend(id, "val", "fresh news");
    fireEvent.click(await screen.findByRole("button", { name: "1 new message" }, { timeout: 5_000 }));
    await log.findByText("fresh news");
    expect(log.getByText("unread 200")).toBeTruthy();
    expect(log.queryByText("unread 1")).toBeNull();
    expect(screen.queryByRole("button", { name: "Load newer messages" })).toBeNull();
    expect(list().scrollTop).toBe(list().scrollHeight - 200);
    await waitFor(async () => expect(await readPosition(id, "una")).toBe(211), { timeout: 5_000 });
  });

  it("quotes the sender and text of a replied-to message older than the loaded page, and opens the list there on a click", async () => {
    const id = await directConversation("wyn", "xan");
    const original = await restSend(id, "xan", "Which room is the meeting in?");
    for (let i = 1; i <= 60; i++) await restSend(id, "xan", `chatter ${i}`);
    await api("POST", `/v1/conversations/${id}/messages`, { text: "Room 4, second floor", replyTo: original.id }, "xan");
    await api("POST", `/v1/conversations/${id}/read`, { seq: 62 }, "wyn");
    const log = await openList("wyn", id, { pageSize: 20 });
    await log.findByText("Room 4, second floor", undefined, { timeout: 5_000 });
    const quote = await screen.findByRole("button", { name: "Reply to xan: Which room is the meeting in?" }, { timeout: 5_000 });
    expect(log.queryByText("Which room is the meeting in?", { selector: ".parley-text" })).toBeNull();

    fireEvent.click(quote);
    await log.findByText("Which room is the meeting in?", { selector: ".parley-text" }, { timeout: 5_000 });
    expect(log.queryByText("Room 4, second floor")).toBeNull();
    fireEvent.click(screen.getByRole("button", { name: /Jump to latest/ }));
    await log.findByText("Room 4, second floor");
  });

  it("edits the user's newest message on ↑ in the composer while older messages are on show, going to the newest first", async () => {
    const id = await directConversation("yul", "zed");
    const question = await restSend(id, "yul", "my first question");
    for (let i = 1; i <= 60; i++) await restSend(id, "zed", `chatter ${i}`);
    await restSend(id, "yul", "my latest note");
    await api("POST", `/v1/conversations/${id}/messages`, { text: "About your question", replyTo: question.id }, "zed");
    await api("POST", `/v1/conversations/${id}/read`, { seq: 63 }, "yul");
    const client = clients.client("yul", { pageSize: 20 });
    await statusIs(client, "connected");
    render(
      <ParleyProvider client={client}>
        <MessageList conversationId={id} />
        <Composer conversationId={id} />
      </ParleyProvider>,
    );
    const log = within(screen.getByRole("log", { name: "Messages" }));
    fireEvent.click(await screen.findByRole("button", { name: "Reply to yul: my first question" }, { timeout: 5_000 }));
    await log.findByText("my first question", { selector: ".parley-text" }, { timeout: 5_000 });
    expect(log.queryByText("my latest note")).toBeNull();

    fireEvent.keyDown(screen.getByRole("textbox", { name: "Message" }), { key: "ArrowUp" });
    const edit = (await screen.findByRole("textbox", { name: "Edit message" }, { timeout: 5_000 })) as HTMLTextAreaElement;
    expect(edit.value).toBe("my latest note");
    expect(log.getByText("About your question")).toBeTruthy();
    expect(screen.queryByRole("button", { name: /Jump to latest/ })).toBeNull();
  });

  it("announces to screen readers the messages from others that arrive while it is open, not those it opened with, nor the user's own", async () => {
    const id = await directConversation("ora", "pim");
    await restSend(id, "pim", "old news");
    await api("POST", `/v1/conversations/${id}/read`, { seq: 1 }, "ora");
    const log = await openList("ora", id);
    await log.findByText("old news", undefined, { timeout: 5_000 });
    await sleep(300);
    expect(region().textContent).toBe("");

    await restSend(id, "pim", "fresh news");
    await waitFor(() => expect(region().textContent).toBe("pim: fresh news"), { timeout: 5_000 });
    await restSend(id, "ora", "my own answer");
    await log.findByText("my own answer", undefined, { timeout: 5_000 });
    await sleep(2_300);
    expect(region().textContent).toBe("pim: fresh news");
  });

  it("does not announce the messages a conversation catches up with when it is opened again", async () => {
    const { conversation } = await api<{ conversation: { id: string } }>("POST", "/v1/conversations", { kind: "channel", title: "Notices" });
    const id = conversation.id;
    await restSend(id, "rho", "first notice");
    // Quinn reads the channel without joining it: while it is closed, nothing of it reaches her.
    const client = clients.client("qin");
    await statusIs(client, "connected");
    const list = (
      <ParleyProvider client={client}>
        <MessageList conversationId={id} />
      </ParleyProvider>
    );
    const first = render(list);
    await within(screen.getByRole("log", { name: "Messages" })).findByText("first notice", undefined, { timeout: 5_000 });
    first.unmount();
    await sleep(200);
    await restSend(id, "rho", "second notice");
    await restSend(id, "rho", "third notice");

    render(list);
    const log = within(screen.getByRole("log", { name: "Messages" }));
    await log.findByText("third notice", undefined, { timeout: 5_000 });
    await sleep(2_300);
    expect(region().textContent).toBe("");
    await restSend(id, "rho", "live notice");
    await waitFor(() => expect(region().textContent).toBe("rho: live notice"), { timeout: 5_000 });
  });

  it("puts no divider above messages read as they arrive at the bottom, but does for those that arrive while scrolled up", async () => {
    const id = await directConversation("wes", "xia");
    for (let i = 1; i <= 10; i++) await restSend(id, "xia", `old ${i}`);
    await api("POST", `/v1/conversations/${id}/read`, { seq: 10 }, "wes");
    const log = await openList("wes", id);
    await log.findByText("old 10");
    expect(list().scrollTop).toBe(10 * 50 - 200);

    await restSend(id, "xia", "live 1");
    await log.findByText("live 1");
    await waitFor(async () => expect(await readPosition(id, "wes")).toBe(11));
    await act(async () => undefined);
    expect(dividers()).toHaveLength(0);

    // Scrolled up into history: what arrives now is unread, below a divider.
    list().scrollTop = 0;
    fireEvent.scroll(list());
    await restSend(id, "xia", "live 2");
    await log.findByText("live 2");
    await act(async () => undefined);
    expect(dividers()).toHaveLength(1);
    expect(dividers()[0]!.nextElementSibling?.querySelector(".parley-text")?.textContent).toBe("live 2");
    await sleep(300);
    expect(await readPosition(id, "wes")).toBe(11);
  });

  it("marks read a conversation whose only unread message is a system notice (someone joined), as the server counts it", async () => {
    const created = await api<{ conversation: { id: string } }>("POST", "/v1/conversations", { kind: "group", members: ["yan", "zoe"] });
    const id = created.conversation.id;
    await restSend(id, "zoe", "hello group");
    await api("POST", `/v1/conversations/${id}/read`, { seq: 1 }, "yan");
    await api("POST", `/v1/conversations/${id}/members`, { userId: "quinn" });
    const log = await openList("yan", id);
    await log.findByText(/quinn joined/);
    // No divider for a notice, and the list stays at the bottom, where reading it is told.
    expect(dividers()).toHaveLength(0);
    await waitFor(async () => expect(await readPosition(id, "yan")).toBe(2), { timeout: 5_000 });
  });

  it("opens a channel for a reader who has not joined at its newest messages, with nothing unread", async () => {
    const created = await api<{ conversation: { id: string } }>("POST", "/v1/conversations", { kind: "channel", title: "Lobby" });
    const id = created.conversation.id;
    for (let i = 1; i <= 30; i++) await restSend(id, "regular", `chatter ${i}`);
    const log = await openList("nell", id, { pageSize: 20 });
    await log.findByText("chatter 30");
    await sleep(500);
    expect(dividers()).toHaveLength(0);
    // It did not page back through the history looking for an unread message.
    expect(log.queryByText("chatter 10")).toBeNull();
    expect(screen.getByRole("button", { name: "Load older messages" })).toBeTruthy();
  });
});
