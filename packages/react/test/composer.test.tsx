import { cleanup, fireEvent, render, screen, waitFor, within } from "@testing-library/react";
import { afterEach, describe, expect, it } from "vitest";
import type { ParleyClient } from "@parley/client";
import { Composer, MessageList, ParleyProvider } from "@parley/react";
import { eventually, statusIs } from "../../client/test/support/wait.js";
import { Clients, directConversation, restSend } from "./support/live-server.js";

const clients = new Clients();
afterEach(async () => {
  cleanup();
  await clients.close();
});

function Chat({ client, id }: { client: ParleyClient; id: string }) {
  return (
    <ParleyProvider client={client}>
      <MessageList conversationId={id} />
      <Composer conversationId={id} />
    </ParleyProvider>
  );
}

const box = () => screen.getByRole("textbox", { name: "Message" }) as HTMLTextAreaElement;

function chooseFiles(container: HTMLElement, files: File[]) {
  const input = container.querySelector<HTMLInputElement>("input[type=file]")!;
  fireEvent.change(input, { target: { files } });
}

describe("Composer", () => {
  it("uploads attached files with a preview each, says clearly which are too large or of a refused type, and sends the rest", async () => {
    const al = clients.client("fa");
    const bo = clients.client("fb");
    await statusIs(bo, "connected");
    const id = await directConversation("fa", "fb");
    const boChat = bo.conversation(id);
    await boChat.open();
    const { container } = render(<Chat client={al} id={id} />);
    await screen.findByText("No messages yet — say hello");

    expect(screen.getByRole("button", { name: "Attach" })).toBeTruthy();
    chooseFiles(container, [
      new File(["hello parley"], "notes.txt", { type: "text/plain" }),
      new File([new Uint8Array(10 * 1024 * 1024 + 1024)], "huge.txt", { type: "text/plain" }),
      new File(["MZ"], "tool.exe", { type: "application/x-msdownload" }),
    ]);
    const attachments = screen.getByRole("list", { name: "Attachments" });
    expect(within(attachments).getAllByRole("listitem")).toHaveLength(3);
    expect(within(attachments).getByText("notes.txt")).toBeTruthy();

    await waitFor(
      () => expect(within(attachments).getByText(/^huge\.txt:/).closest("[role=alert]")?.textContent).toBe("huge.txt: Too large to send (at most 10 MB)"),
      { timeout: 10_000 },
    );
    await waitFor(() =>
      expect(within(attachments).getByText(/^tool\.exe:/).closest("[role=alert]")?.textContent).toBe("tool.exe: This type of file can't be sent"),
    );
    // Neither would pass on another try, so neither offers one.
    expect(within(attachments).queryByRole("button", { name: /again/ })).toBeNull();
    await waitFor(() => expect(within(attachments).queryByRole("progressbar")).toBeNull());

    fireEvent.click(screen.getByRole("button", { name: "Remove huge.txt" }));
    fireEvent.click(screen.getByRole("button", { name: "Remove tool.exe" }));
    fireEvent.change(box(), { target: { value: "the notes" } });
    fireEvent.keyDown(box(), { key: "Enter" });
    expect(screen.queryByRole("list", { name: "Attachments" })).toBeNull();

    await eventually(() => boChat.getSnapshot().messages.some((m) => m.text === "the notes" && m.attachments[0]?.name === "notes.txt"), 5_000, "Bo gets the file");
    expect(boChat.getSnapshot().messages.find((m) => m.text === "the notes")!.type).toBe("file");
    const link = await screen.findByRole("link", { name: /notes\.txt/ });
    expect(link.getAttribute("rel")).toBe("noopener noreferrer");
  });

  it("attaches a pasted image", async () => {
    const al = clients.client("ga");
    await statusIs(al, "connected");
    const id = await directConversation("ga", "gb");
    render(<Chat client={al} id={id} />);
    await screen.findByText("No messages yet — say hello");
    const png = new File([Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])], "pasted.png", { type: "image/png" });
    fireEvent.paste(box(), { clipboardData: { files: [png], types: ["Files"] } });
    const attachments = screen.getByRole("list", { name: "Attachments" });
    expect(within(attachments).getByText("pasted.png")).toBeTruthy();
  });

  it("answers a message chosen with Reply (Esc cancels), and the answer quotes it", async () => {
    const al = clients.client("ha");
    const bo = clients.client("hb");
    await statusIs(bo, "connected");
    const id = await directConversation("ha", "hb");
    const original = await restSend(id, "hb", "Is Saturday still on?");
    render(<Chat client={al} id={id} />);
    const message = (await screen.findByText("Is Saturday still on?")).closest(".parley-message") as HTMLElement;

    fireEvent.click(within(message).getByRole("button", { name: "Reply" }));
    expect(screen.getByText("Replying to Hb")).toBeTruthy();
    expect(document.activeElement).toBe(box());
    fireEvent.keyDown(box(), { key: "Escape" });
    expect(screen.queryByText("Replying to Hb")).toBeNull();

    fireEvent.click(within(message).getByRole("button", { name: "Reply" }));
    fireEvent.change(box(), { target: { value: "Yes it is" } });
    fireEvent.keyDown(box(), { key: "Enter" });
    expect(screen.queryByText("Replying to Hb")).toBeNull();

    const quote = await screen.findByRole("button", { name: "Reply to Hb: Is Saturday still on?" });
    expect(quote.closest(".parley-message")?.textContent).toContain("Yes it is");
    const boChat = bo.conversation(id);
    await boChat.open();
    await eventually(() => boChat.getSnapshot().messages.some((m) => m.text === "Yes it is" && m.replyTo === original.id), 5_000, "the reply names the original");
  });

  it("↑ in an empty composer edits the user's last message inline", async () => {
    const al = clients.client("ia");
    await statusIs(al, "connected");
    const id = await directConversation("ia", "ib");
    await restSend(id, "ia", "first");
    await restSend(id, "ia", "secnd");
    await restSend(id, "ib", "from the other side");
    render(<Chat client={al} id={id} />);
    await screen.findByText("from the other side");

    fireEvent.change(box(), { target: { value: "draft" } });
    fireEvent.keyDown(box(), { key: "ArrowUp" });
    expect(screen.queryByRole("textbox", { name: "Edit message" })).toBeNull();

    fireEvent.change(box(), { target: { value: "" } });
    fireEvent.keyDown(box(), { key: "ArrowUp" });
    const edit = screen.getByRole("textbox", { name: "Edit message" }) as HTMLTextAreaElement;
    await waitFor(() => expect(edit.value).toBe("secnd"));
    fireEvent.change(edit, { target: { value: "second" } });
    fireEvent.keyDown(edit, { key: "Enter" });
    expect(screen.queryByRole("textbox", { name: "Edit message" })).toBeNull();
    // The focus comes back to the composer, so typing goes on there.
    expect(document.activeElement).toBe(box());
    const edited = await screen.findByText("second");
    await waitFor(() => expect(edited.closest(".parley-message")?.textContent).toContain("(edited)"));
    expect(screen.getByText("first")).toBeTruthy();

    // Cancelled with Esc, too.
    fireEvent.keyDown(box(), { key: "ArrowUp" });
    const again = screen.getByRole("textbox", { name: "Edit message" });
    again.focus();
    fireEvent.keyDown(again, { key: "Escape" });
    expect(screen.queryByRole("textbox", { name: "Edit message" })).toBeNull();
    expect(document.activeElement).toBe(box());
  });

  it("keeps what the user was writing while they look at another conversation", async () => {
    const al = clients.client("ja");
    await statusIs(al, "connected");
    const first = await directConversation("ja", "jb");
    const second = await directConversation("ja", "jc");
    const { rerender } = render(<Chat key={first} client={al} id={first} />);
    fireEvent.change(box(), { target: { value: "half a thought" } });
    rerender(<Chat key={second} client={al} id={second} />);
    expect(box().value).toBe("");
    rerender(<Chat key={first} client={al} id={first} />);
    expect(box().value).toBe("half a thought");
  });

  it("says why an action was refused: deleting another's message for everyone without the right", async () => {
    const al = clients.client("ka");
    await statusIs(al, "connected");
    const id = await directConversation("ka", "kb");
    await restSend(id, "kb", "not yours to delete");
    render(
      <ParleyProvider client={al}>
        <MessageList conversationId={id} canDeleteForEveryone />
      </ParleyProvider>,
    );
    const message = (await screen.findByText("not yours to delete")).closest(".parley-message") as HTMLElement;
    fireEvent.click(within(message).getByRole("button", { name: "Delete" }));
    fireEvent.click(within(message).getByRole("button", { name: "Delete for everyone" }));
    const alert = await screen.findByRole("alert");
    expect(alert.textContent).toMatch(/^Not deleted: /);
    expect(screen.getByText("not yours to delete")).toBeTruthy();
  });
  it("gives back a message the server refuses for good (too long for it), with the reason, instead of a failed bubble whose Retry cannot work", async () => {
    const al = clients.client("ta");
    await statusIs(al, "connected");
    const id = await directConversation("ta", "tb");
    render(<Chat client={al} id={id} />);
    await screen.findByText("No messages yet — say hello");
    // Over the server's 5,000 characters, well under the 64 KiB a packet may carry.
    const long = `${"a long story ".repeat(470)}the end`;
    expect(long.length).toBeGreaterThan(5000);
    fireEvent.change(box(), { target: { value: long } });
    fireEvent.keyDown(box(), { key: "Enter" });
    const alert = await screen.findByRole("alert", {}, { timeout: 5_000 });
    expect(alert.textContent).toMatch(/^Not sent: .*5000/);
    expect(box().value).toBe(long);
    expect(box().getAttribute("dir")).toBe("auto");
    // No failed message is left behind, and nothing was stored.
    await waitFor(() => expect(screen.queryByRole("button", { name: "Retry" })).toBeNull());
    expect(al.conversation(id).getSnapshot().messages).toHaveLength(0);

    // Shortened, it goes; the reason goes as soon as the text changes.
    fireEvent.change(box(), { target: { value: "the short version" } });
    expect(screen.queryByRole("alert")).toBeNull();
    fireEvent.keyDown(box(), { key: "Enter" });
    await screen.findByText("the short version");
    expect(box().value).toBe("");
  });

  it("refuses a file over the server's limit at once, saying the limit, once the limit is known; says when an image cannot be read", async () => {
    const al = clients.client("ua");
    await statusIs(al, "connected");
    const id = await directConversation("ua", "ub");
    const { container } = render(
      <ParleyProvider client={al}>
        <MessageList conversationId={id} />
        <Composer conversationId={id} maxUploadBytes={1024 * 1024} />
      </ParleyProvider>,
    );
    await screen.findByText("No messages yet — say hello");
    chooseFiles(container, [
      new File([new Uint8Array(1024 * 1024 + 1)], "big.bin", { type: "application/octet-stream" }),
      new File(["not a png at all"], "broken.png", { type: "image/png" }),
    ]);
    const attachments = screen.getByRole("list", { name: "Attachments" });
    // Refused before any byte went out: no progress, the limit named.
    expect(within(attachments).getByText(/^big\.bin:/).closest("[role=alert]")?.textContent).toBe("big.bin: Too large to send (at most 1 MB)");
    await waitFor(() =>
      expect(within(attachments).getByText(/^broken\.png:/).closest("[role=alert]")?.textContent).toBe("broken.png: The file is not a readable image"),
    );
  });
});
