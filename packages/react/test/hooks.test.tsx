import { act, cleanup, fireEvent, render, screen, waitFor, within } from "@testing-library/react";
import { useState } from "react";
import { afterEach, describe, expect, it } from "vitest";
import type { ParleyClient } from "@parley/client";
import {
  Composer,
  ConnectionBanner,
  ConversationList,
  MessageList,
  ParleyProvider,
  PresenceDot,
  TypingIndicator,
  useConnectionStatus,
  useConversation,
  useInbox,
  usePresence,
  useTyping,
} from "@parley/react";
import { eventually, shown, statusIs } from "../../client/test/support/wait.js";
import { api, Clients, directConversation, restSend, setStatus } from "./support/live-server.js";

const clients = new Clients();
afterEach(async () => {
  cleanup();
  await clients.close();
});

function withClient(client: ParleyClient, ui: React.ReactNode) {
  return render(<ParleyProvider client={client}>{ui}</ParleyProvider>);
}

function Status() {
  return <p aria-label="status">{useConnectionStatus()}</p>;
}

describe("hooks", () => {
  it("useConnectionStatus and ConnectionBanner follow the connection through a drop", async () => {
    const proxy = await clients.proxy();
    const alice = clients.client("alice", { url: proxy.url });
    withClient(
      alice,
      <>
        <Status />
        <ConnectionBanner />
      </>,
    );
    expect(screen.getByRole("status").textContent).toBe("Connecting…");
    await waitFor(() => expect(screen.getByLabelText("status").textContent).toBe("connected"));
    expect(screen.queryByRole("status")).toBeNull();

    await act(() => proxy.cut());
    await waitFor(() => expect(screen.getByRole("status").textContent).toBe("Reconnecting…"));
    expect(screen.getByLabelText("status").textContent).toBe("reconnecting");
    await act(() => proxy.restore());
    await waitFor(() => expect(screen.queryByRole("status")).toBeNull(), { timeout: 5_000 });
  });

  it("ConnectionBanner explains a refused token", async () => {
    const client = clients.withToken("not-a-token");
    withClient(client, <ConnectionBanner />);
    await waitFor(() => expect(screen.getByRole("status").textContent).toBe("You are signed out."));
  });

  it("useConversation gives messages and actions; useTyping and usePresence follow the other user", async () => {
    const alice = clients.client("ann");
    const bob = clients.client("ben");
    await statusIs(bob, "connected");
    const id = await directConversation("ann", "ben");
    const bobChat = bob.conversation(id);
    await bobChat.open();

    function Probe() {
      const { messages, send, status } = useConversation(id);
      const typing = useTyping(id);
      const presence = usePresence(["ben"]);
      return (
        <div>
          <p aria-label="state">{status}</p>
          <ul aria-label="texts">
            {messages.map((m) => (
              <li key={m.key}>{`${m.text}|${m.status}`}</li>
            ))}
          </ul>
          <p aria-label="typing">{typing.map((t) => t.name).join(",")}</p>
          <p aria-label="ben">{presence.ben?.online ? "online" : "offline"}</p>
          <button onClick={() => void send("from a hook")}>send</button>
        </div>
      );
    }
    withClient(alice, <Probe />);
    await waitFor(() => expect(screen.getByLabelText("state").textContent).toBe("ready"));
    await act(() => bobChat.send({ text: "hi ann" }));
    await waitFor(() => expect(within(screen.getByLabelText("texts")).getAllByRole("listitem").map((li) => li.textContent)).toEqual(["hi ann|sent"]));

    fireEvent.click(screen.getByRole("button", { name: "send" }));
    expect(within(screen.getByLabelText("texts")).getAllByRole("listitem")[1]!.textContent).toBe("from a hook|pending");
    await eventually(() => shown(bobChat).texts.includes("from a hook"), 3_000, "bob receives it");
    await waitFor(() => expect(screen.getByText(/^from a hook\|(delivered|read)$/)).toBeTruthy());

    act(() => bobChat.sendTyping());
    await waitFor(() => expect(screen.getByLabelText("typing").textContent).toBe("Ben"));
    act(() => bobChat.stopTyping());
    await waitFor(() => expect(screen.getByLabelText("typing").textContent).toBe(""));

    await waitFor(() => expect(screen.getByLabelText("ben").textContent).toBe("online"));
    act(() => bob.close());
    await waitFor(() => expect(screen.getByLabelText("ben").textContent).toBe("offline"), { timeout: 3_000 });
  });

  it("useInbox lists conversations with live unread counts", async () => {
    const alice = clients.client("ada");
    await statusIs(alice, "connected");
    const id = await directConversation("ada", "bea");
    function Inbox() {
      const { conversations, totalUnread } = useInbox();
      return (
        <p aria-label="inbox">
          {conversations.map((c) => `${c.id === id ? "bea" : c.id}:${c.unreadCount}`).join(",")} total {totalUnread}
        </p>
      );
    }
    withClient(alice, <Inbox />);
    await waitFor(() => expect(screen.getByLabelText("inbox").textContent).toBe("bea:0 total 0"));
    await restSend(id, "bea", "one");
    await restSend(id, "bea", "two");
    await waitFor(() => expect(screen.getByLabelText("inbox").textContent).toBe("bea:2 total 2"));
  });
});

describe("components against a live server", () => {
  function ChatPage() {
    const [selected, setSelected] = useState<string | null>(null);
    return (
      <div>
        <ConnectionBanner />
        <ConversationList selectedId={selected} onSelect={setSelected} />
        {selected ? (
          <section aria-label="conversation">
            <PresenceDot userId="bo" showLabel />
            <MessageList conversationId={selected} />
            <TypingIndicator conversationId={selected} />
            <Composer conversationId={selected} />
          </section>
        ) : (
          <p>Pick a conversation</p>
        )}
      </div>
    );
  }

  it("a user picks a conversation, reads it (badge clears), replies with Enter, and sees the other typing", async () => {
    const al = clients.client("al");
    const bo = clients.client("bo");
    await statusIs(bo, "connected");
    const id = await directConversation("al", "bo");
    const boChat = bo.conversation(id);
    await boChat.open();
    await boChat.send({ text: "are you free <b>tonight</b>?" });

    withClient(al, <ChatPage />);
    const row = await screen.findByRole("option", { name: /Bo/ });
    expect(within(row).getByLabelText("1 unread").textContent).toBe("1");
    expect(within(row).getByText("are you free <b>tonight</b>?")).toBeTruthy();
    fireEvent.click(row);

    const conversation = screen.getByRole("region", { name: "conversation" });
    await within(conversation).findByText("are you free <b>tonight</b>?");
    // The bottom is visible and the tab is visible: it is marked read, and the badge goes.
    await waitFor(() => expect(within(screen.getByRole("option", { name: /Bo/ })).queryByLabelText(/unread/)).toBeNull());
    await eventually(() => boChat.getSnapshot().messages[0]?.status === "read", 3_000, "read receipt at Bo");
    await waitFor(() => expect(within(conversation).getByRole("img", { name: "Online" })).toBeTruthy());

    const box = within(conversation).getByRole("textbox", { name: "Message" });
    fireEvent.change(box, { target: { value: "yes" } });
    await eventually(() => boChat.getSnapshot().typing.some((t) => t.userId === "al"), 3_000, "Bo sees Al typing");
    // Shift+Enter is a new line, and Enter while an input method composes never sends.
    fireEvent.keyDown(box, { key: "Enter", shiftKey: true });
    fireEvent.compositionStart(box);
    fireEvent.keyDown(box, { key: "Enter", isComposing: true });
    fireEvent.keyDown(box, { key: "Enter", keyCode: 229 });
    fireEvent.compositionEnd(box);
    expect((box as HTMLTextAreaElement).value).toBe("yes");
    fireEvent.keyDown(box, { key: "Enter" });
    expect((box as HTMLTextAreaElement).value).toBe("");
    await eventually(() => shown(boChat).texts.filter((t) => t === "yes").length === 1, 3_000, "Bo gets the reply");
    await eventually(() => !boChat.getSnapshot().typing.some((t) => t.userId === "al"), 3_000, "typing stops on send");
    await waitFor(() => expect(within(conversation).getByText("yes")).toBeTruthy());
    expect(within(conversation).getAllByText("yes")).toHaveLength(1);

    act(() => boChat.sendTyping());
    await within(conversation).findByText("Bo is typing…");
    await act(() => boChat.send({ text: "great" }));
    await within(conversation).findByText("great");
    await waitFor(() => expect(within(conversation).queryByText("Bo is typing…")).toBeNull());
  });

  it("a refused send shows as failed with Retry, and Retry sends it once", async () => {
    const al = clients.client("cy");
    await statusIs(al, "connected");
    const id = await directConversation("cy", "di");
    await setStatus(id, "closed");
    withClient(al, <><MessageList conversationId={id} /><Composer conversationId={id} /></>);
    const box = await screen.findByRole("textbox", { name: "Message" });
    fireEvent.change(box, { target: { value: "anyone?" } });
    fireEvent.click(screen.getByRole("button", { name: "Send" }));
    const alert = await screen.findByRole("alert");
    expect(alert.textContent).toMatch(/Not sent/);
    await setStatus(id, "open");
    fireEvent.click(within(alert).getByRole("button", { name: "Retry" }));
    await waitFor(() => expect(screen.queryByRole("alert")).toBeNull());
    await waitFor(() => expect(screen.getByRole("img", { name: /Sent|Delivered/ })).toBeTruthy());
    expect(screen.getAllByText("anyone?")).toHaveLength(1);
  });

  it("the composer refuses a message too large to send and keeps the text", async () => {
    const al = clients.client("ed");
    await statusIs(al, "connected");
    const id = await directConversation("ed", "fa");
    withClient(al, <Composer conversationId={id} />);
    const box = screen.getByRole("textbox", { name: "Message" });
    const huge = "x".repeat(70_000);
    fireEvent.change(box, { target: { value: huge } });
    fireEvent.keyDown(box, { key: "Enter" });
    expect(screen.getByRole("alert").textContent).toBe("This message is too long to send.");
    expect((box as HTMLTextAreaElement).value).toBe(huge);
    expect(al.connection.getSnapshot().status).toBe("connected");
  });

  it("MessageList loads older history and ConversationList is navigable with the arrow keys", async () => {
    const al = clients.client("gus", { pageSize: 20 });
    await statusIs(al, "connected");
    const first = await directConversation("gus", "hal");
    const second = await directConversation("gus", "ivy");
    for (let i = 1; i <= 30; i++) await restSend(first, "hal", `h${i}`);
    // Read already: opening it lands at the newest page (with unread messages it would load back to the first of them).
    await api("POST", `/v1/conversations/${first}/read`, { seq: 30 }, "gus");
    await restSend(second, "ivy", "hello");
    let selected: string | null = null;
    withClient(
      al,
      <>
        <ConversationList onSelect={(id) => (selected = id)} />
        <MessageList conversationId={first} />
      </>,
    );
    const options = await screen.findAllByRole("option");
    expect(options.map((o) => o.querySelector(".parley-conversation-title")?.textContent)).toEqual(["ivy", "hal"]);
    options[0]!.focus();
    fireEvent.keyDown(options[0]!, { key: "ArrowDown" });
    expect(document.activeElement).toBe(options[1]);
    fireEvent.keyDown(options[1]!, { key: "Enter" });
    expect(selected).toBe(first);

    const messages = within(screen.getByRole("log", { name: "Messages" }));
    await messages.findByText("h30");
    expect(messages.queryByText("h10")).toBeNull();
    fireEvent.click(screen.getByRole("button", { name: "Load older messages" }));
    await messages.findByText("h1");
    expect(screen.queryByRole("button", { name: "Load older messages" })).toBeNull();
    expect([...document.querySelectorAll(".parley-text")].map((e) => e.textContent)).toEqual(
      Array.from({ length: 30 }, (_, i) => `h${i + 1}`),
    );
  });

  it("shows the user's unsent last message in its inbox row: a clock while it waits, ! once refused", async () => {
    const al = clients.client("kat");
    await statusIs(al, "connected");
    const id = await directConversation("kat", "lou");
    await restSend(id, "lou", "ping");
    withClient(al, <ConversationList />);
    const preview = async () => (await screen.findByRole("option")).querySelector(".parley-conversation-preview")!;
    await waitFor(async () => expect((await preview()).textContent).toBe("ping"));

    // Offline, a send waits: the row says so.
    al.disconnect();
    await statusIs(al, "disconnected");
    void al.conversation(id).send({ text: "on the train" }).catch(() => undefined);
    await waitFor(async () => expect((await preview()).textContent).toBe("You: on the train"));
    expect((await preview()).querySelector("[data-status]")?.getAttribute("data-status")).toBe("pending");

    // Refused (the conversation was closed meanwhile): the row shows it failed.
    await setStatus(id, "closed");
    al.connect();
    await waitFor(async () => expect((await preview()).querySelector("[data-status]")?.getAttribute("data-status")).toBe("failed"), { timeout: 5_000 });
    expect((await preview()).textContent).toBe("!You: on the train");
  });

  it("marks a closed conversation's row as closed", async () => {
    const al = clients.client("mia");
    await statusIs(al, "connected");
    const id = await directConversation("mia", "ned");
    await restSend(id, "ned", "all done here");
    await setStatus(id, "closed");
    withClient(al, <ConversationList />);
    const row = await screen.findByRole("option");
    await waitFor(() => expect(row.querySelector(".parley-conversation-title")?.textContent).toBe("nedClosed"));
    expect(within(row).getByText("Closed").className).toBe("parley-conversation-closed");
  });
});
