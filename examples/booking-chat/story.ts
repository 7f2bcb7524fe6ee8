import { randomUUID } from "node:crypto";
import type { ChatMessage, ParleyClient } from "@parley/client";
import type { Conversation, Member, Message } from "@parley/protocol";
import { ParleyApi } from "../lib/parley-api.js";
import { refusal, renderMessage } from "../lib/render.js";
import { signIn } from "../lib/sign-in.js";
import { Transcript } from "../lib/transcript.js";
import { waitUntil } from "../lib/wait.js";
import { bookingBackends, bookingHistory, bookingRef, openBookingChat, type Booking } from "./host.js";

export interface BookingChatOptions {
  /** Parley's URL and the API key (the booking chat is created with it). */
  parley: { url: string; apiKey: string };
  /** The secrets the two back ends sign with (the same ones Parley's `PARLEY_JWT_ISSUERS` holds). */
  secrets: { user: string; bartender: string };
  transcript?: Transcript;
}

/** What each person ended up seeing. */
export interface BookingChatResult {
  conversation: Conversation;
  /** The members as the host created them. */
  members: Member[];
  /** Alex's (`user:7`) screen and Sam's (`bartender:7`) screen at the end. */
  customerScreen: ChatMessage[];
  bartenderScreen: ChatMessage[];
  /** What the host reads back through REST. */
  history: Message[];
  /** How Parley answered `user:8`, who is not in this booking (error codes). */
  outsider: {
    findByRef: string;
    join: string;
    open: string;
    send: string;
    restRead: string;
    restSend: string;
  };
}

/** The booking platform's data: booking 42 of user 7 with bartender 7. */
export const BOOKING: Booking = { id: 42, userId: 7, bartenderId: 7 };
const ALEX = { id: 7, name: "Alex" };
const SAM = { id: 7, name: "Sam" };
const JORDAN = { id: 8, name: "Jordan" };

/**
 * Seed 000: two back ends with their own user tables (and overlapping ids)
 * share one chat per booking. The user back end creates the booking's chat
 * by API; user 7 and bartender 7 chat in it; the host reads its history by
 * REST; user 8 can neither find, join, read nor post in it.
 */
export async function playBookingChat(options: BookingChatOptions): Promise<BookingChatResult> {
  const say = options.transcript ?? new Transcript();
  const { url, apiKey } = options.parley;
  const backends = bookingBackends(options.secrets);
  const api = new ParleyApi({ url, credential: apiKey });
  const clients: ParleyClient[] = [];

  try {
    say.step("Booking 42 is confirmed: the user back end creates its chat (POST /v1/conversations, ref booking:42)");
    const { conversation, members, created } = await openBookingChat(api, backends, BOOKING);
    say.host(`${created ? "created" : "found"} conversation ${conversation.id} "${conversation.title}" with ${members.map((m) => m.userId).join(" and ")}`);

    say.step("Alex (user 7) and Sam (bartender 7) open the chat, each signed in by their own back end");
    const alex = await signIn(url, () => backends.users.chatToken(ALEX));
    clients.push(alex);
    const sam = await signIn(url, () => backends.bartenders.chatToken(SAM));
    clients.push(sam);
    say.sees("Alex", `signed in as ${alex.user?.id}`);
    say.sees("Sam", `signed in as ${sam.user?.id}`);
    const alexChat = alex.conversation(conversation.id);
    const samChat = sam.conversation(conversation.id);
    await Promise.all([alexChat.open(), samChat.open()]);

    say.step("They chat");
    const question = await alexChat.send({ text: "Hi Sam! Could you bring fresh mint for the mojitos?" });
    await waitUntil(samChat, (s) => s.messages.some((m) => m.id === question.id), "Sam to receive Alex's question");
    say.sees("Sam", renderMessage(question));
    const answer = await samChat.send({ text: "Sure, mint and limes are on my list. See you at 7!" });
    await waitUntil(alexChat, (s) => s.messages.some((m) => m.id === answer.id), "Alex to receive Sam's answer");
    say.sees("Alex", renderMessage(answer));

    say.step("The host shows the booking's messages on its own page (GET /v1/conversations/by-ref/booking%3A42, then …/messages)");
    const history = await bookingHistory(api, BOOKING.id);
    for (const m of history) say.host(`${m.senderId.padEnd(12)} ${renderMessage(m)}`);

    say.step("Jordan (user 8) is not in this booking and tries to get in");
    const jordan = await signIn(url, () => backends.users.chatToken(JORDAN));
    clients.push(jordan);
    const jordanToken = await backends.users.chatToken(JORDAN);
    const jordanApi = new ParleyApi({ url, credential: jordanToken });
    const outsider = {
      findByRef: await refusal(jordanApi.conversationByRef(bookingRef(BOOKING.id))),
      join: await refusal(jordan.request("conversation:join", { conversationId: conversation.id })),
      open: await refusal(jordan.conversation(conversation.id).open()),
      send: await refusal(jordan.request("message:send", { conversationId: conversation.id, clientId: randomUUID(), text: "let me in" })),
      restRead: await refusal(jordanApi.messages(conversation.id)),
      restSend: await refusal(jordanApi.sendMessage(conversation.id, { text: "let me in" })),
    };
    for (const [attempt, answerCode] of Object.entries(outsider)) say.sees("Jordan", `${attempt}: ${answerCode}`);

    return {
      conversation,
      members,
      customerScreen: alexChat.getSnapshot().messages,
      bartenderScreen: samChat.getSnapshot().messages,
      history,
      outsider,
    };
  } finally {
    for (const client of clients) client.close();
  }
}
