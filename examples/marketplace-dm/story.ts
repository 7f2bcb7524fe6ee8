import type { ChatMessage, MessageStatus, ParleyClient, TypingUser } from "@parley/client";
import type { Attachment, Conversation, Message, Presence } from "@parley/protocol";
import type { ParleyConnection } from "../lib/env.js";
import { renderMessage } from "../lib/render.js";
import { signIn } from "../lib/sign-in.js";
import { Transcript } from "../lib/transcript.js";
import { waitUntil } from "../lib/wait.js";
import { MarketplaceHost, uploadPhoto } from "./host.js";
import { VENUE_PHOTO } from "./photo.js";

export interface MarketplaceOptions {
  parley: ParleyConnection;
  transcript?: Transcript;
}

/** What each person (and each of Maya's tabs) ended up seeing. */
export interface MarketplaceResult {
  conversation: Conversation;
  /** Who Maya's laptop showed as typing while Leo typed. */
  typingOnLaptop: TypingUser[];
  /** Leo's first message, and the ticks Leo saw on it, in order (✓ sent, ✓✓ delivered, read). */
  leoFirst: Message;
  ticksLeoSaw: MessageStatus[];
  /** Who Leo's screen says read it. */
  readBy: string[];
  /** The unread badge on Maya's phone before and after she read on her laptop. */
  phoneUnread: { beforeRead: number; afterRead: number };
  /** The photo as uploaded, as Leo received it, and what downloading its URL gave Leo. */
  photo: { uploaded: Attachment; received: Attachment; download: { status: number; contentType: string | null; bytes: number } };
  /** The message the host posted by REST as Leo. */
  hostMessage: Message;
  /** Leo's presence as Maya's laptop showed it while he was online, then after he left. */
  presence: { online: Presence; offline: Presence };
  laptopScreen: ChatMessage[];
  phoneScreen: ChatMessage[];
  photographerScreen: ChatMessage[];
}

const MAYA = { id: "customer-41", name: "Maya" };
const LEO = { id: "photographer-9", name: "Leo" };

/**
 * Seed 001: a customer messages a photographer about a listing. Typing,
 * ✓/✓✓/read ticks, online and offline, a photo, "delete for me", a message
 * the host posts by REST showing up live, and the customer's laptop and
 * phone staying in step.
 */
export async function playMarketplaceDm(options: MarketplaceOptions): Promise<MarketplaceResult> {
  const say = options.transcript ?? new Transcript();
  const { url } = options.parley;
  const host = new MarketplaceHost(options.parley);
  const clients: ParleyClient[] = [];
  const open = async (user: { id: string; name: string }) => {
    const client = await signIn(url, () => host.chatToken(user));
    clients.push(client);
    return client;
  };

  try {
    say.step("Maya presses \"Message Leo\" on a listing: the host opens their direct conversation");
    const conversation = await host.openInquiry(MAYA.id, LEO.id, 311);
    say.host(`conversation ${conversation.id} (direct, listing 311)`);

    say.step("Maya has the site open on her laptop and her phone; Leo is online");
    const laptop = await open(MAYA);
    const phone = await open(MAYA);
    const leo = await open(LEO);
    const onLaptop = laptop.conversation(conversation.id);
    const onPhone = phone.conversation(conversation.id);
    const leoChat = leo.conversation(conversation.id);
    await Promise.all([onLaptop.open(), onPhone.open(), leoChat.open(), phone.inbox.load()]);
    // Zero on a fresh server; whatever an earlier run left unread otherwise.
    const unreadAtStart = Math.max(0, unreadIn(phone.inbox.getSnapshot().conversations, conversation.id));
    const stopWatching = laptop.presence.watch([LEO.id]);
    const online = (await waitUntil(laptop.presence, (p) => p.get(LEO.id)?.online === true, "Leo to show as online")).get(LEO.id)!;
    say.sees("Maya, laptop", "Leo ● online");

    say.step("Leo types, then answers");
    leoChat.sendTyping();
    const typingOnLaptop = (await waitUntil(onLaptop, (s) => s.typing.length > 0, "Leo's typing indicator")).typing;
    say.sees("Maya, laptop", `${typingOnLaptop.map((t) => t.name).join(", ")} is typing…`);
    const ticksLeoSaw: MessageStatus[] = [];
    const stopTicks = leoChat.subscribe(() => {
      const status = leoChat.getSnapshot().messages.find((m) => m.text === FIRST_ANSWER)?.status;
      if (status && ticksLeoSaw[ticksLeoSaw.length - 1] !== status) ticksLeoSaw.push(status);
    });
    const leoFirst = await leoChat.send({ text: FIRST_ANSWER });
    await waitUntil(onLaptop, (s) => s.typing.length === 0 && s.messages.some((m) => m.id === leoFirst.id), "Leo's answer on the laptop");
    await waitUntil(onPhone, (s) => s.messages.some((m) => m.id === leoFirst.id), "Leo's answer on the phone");
    say.sees("Maya, laptop", renderMessage(leoFirst));
    const beforeRead = (
      await waitUntil(phone.inbox, (s) => unreadIn(s.conversations, conversation.id) === unreadAtStart + 1, "the unread badge on the phone")
    ).conversations;
    say.sees("Maya, phone", `badge: ${unreadIn(beforeRead, conversation.id)} unread`);
    await waitUntil(leoChat, (s) => s.messages.some((m) => m.id === leoFirst.id && m.status === "delivered"), "✓✓ on Leo's message");
    say.sees("Leo", "✓✓ delivered");

    say.step("Maya reads it on her laptop: Leo sees it read, her phone's badge clears");
    await onLaptop.markRead();
    const leoView = await waitUntil(leoChat, (s) => s.messages.some((m) => m.id === leoFirst.id && m.status === "read"), "Leo's read receipt");
    const readBy = leoView.messages.find((m) => m.id === leoFirst.id)!.readBy.map((r) => r.name);
    say.sees("Leo", `read by ${readBy.join(", ")}`);
    const afterRead = (await waitUntil(phone.inbox, (s) => unreadIn(s.conversations, conversation.id) === 0, "the phone's badge to clear"))
      .conversations;
    say.sees("Maya, phone", `badge: ${unreadIn(afterRead, conversation.id)} unread`);
    stopTicks();

    say.step("Maya sends a photo of the venue from her phone (POST /v1/uploads, then a message with the attachment)");
    const uploaded = await uploadPhoto(url, await host.chatToken(MAYA), VENUE_PHOTO, "venue.png", "image/png");
    const photoMessage = await onPhone.send({ type: "image", text: "This is the venue", attachments: [{ id: uploaded.id }] });
    const received = (await waitUntil(leoChat, (s) => s.messages.some((m) => m.id === photoMessage.id), "the photo at Leo's")).messages.find(
      (m) => m.id === photoMessage.id,
    )!;
    await waitUntil(onLaptop, (s) => s.messages.some((m) => m.id === photoMessage.id), "the photo on Maya's laptop");
    say.sees("Leo", renderMessage(received));
    const image = received.attachments[0]!;
    const response = await fetch(new URL(image.url, url));
    const download = {
      status: response.status,
      contentType: response.headers.get("content-type"),
      bytes: (await response.arrayBuffer()).byteLength,
    };
    say.sees("Leo", `<img src="${image.url.split("?")[0]}…"> loads: ${download.status} ${download.contentType}, ${download.bytes} bytes`);

    say.step("Maya deletes Leo's first message for herself only");
    await onLaptop.delete(leoFirst.id, "me");
    await waitUntil(onPhone, (s) => !s.messages.some((m) => m.id === leoFirst.id), "the message to leave Maya's phone too");
    say.sees("Maya, laptop and phone", "Leo's first message is gone");
    say.sees("Leo", `still sees: ${renderMessage(leoFirst)}`);

    say.step("Leo fills in the quote form on the site: the host posts it as Leo by REST, and it shows up live");
    const hostMessage = await host.sendAs(LEO.id, conversation.id, "Quote: 3 hours of coverage, 120 edited photos, $450", { quoteId: 8812 });
    await waitUntil(onLaptop, (s) => s.messages.some((m) => m.id === hostMessage.id), "the quote on the laptop");
    await waitUntil(onPhone, (s) => s.messages.some((m) => m.id === hostMessage.id), "the quote on the phone");
    await waitUntil(leoChat, (s) => s.messages.some((m) => m.id === hostMessage.id), "the quote in Leo's own tab");
    say.sees("Maya, laptop and phone", renderMessage(hostMessage));

    say.step("Leo closes the site");
    const photographerScreen = leoChat.getSnapshot().messages;
    leo.close();
    const offline = (await waitUntil(laptop.presence, (p) => p.get(LEO.id)?.online === false, "Leo to show as offline")).get(LEO.id)!;
    say.sees("Maya, laptop", `Leo ○ offline, last seen ${offline.lastSeenAt ?? "?"}`);
    stopWatching();

    for (const m of onLaptop.getSnapshot().messages) say.sees("Maya, laptop", renderMessage(m));
    return {
      conversation,
      typingOnLaptop,
      leoFirst,
      ticksLeoSaw,
      readBy,
      phoneUnread: { beforeRead: unreadIn(beforeRead, conversation.id), afterRead: unreadIn(afterRead, conversation.id) },
      photo: { uploaded, received: image, download },
      hostMessage,
      presence: { online, offline },
      laptopScreen: onLaptop.getSnapshot().messages,
      phoneScreen: onPhone.getSnapshot().messages,
      photographerScreen,
    };
  } finally {
    for (const client of clients) client.close();
  }
}

const FIRST_ANSWER = "Hi Maya! Yes, I'm free on June 14th. Where is the wedding?";

function unreadIn(conversations: ReadonlyArray<{ id: string; unreadCount: number }>, id: string): number {
  return conversations.find((c) => c.id === id)?.unreadCount ?? -1;
}
