import type { ChatMessage, ParleyClient } from "@parley/client";
import type { Conversation, ConversationSummary, Message } from "@parley/protocol";
import type { ParleyConnection } from "../lib/env.js";
import { ParleyApi } from "../lib/parley-api.js";
import { refusal, renderMessage } from "../lib/render.js";
import { signIn } from "../lib/sign-in.js";
import { Transcript } from "../lib/transcript.js";
import { waitUntil } from "../lib/wait.js";
import { startGuestSession, SupportHost, type GuestSession } from "./host.js";

export interface SupportDeskOptions {
  /** Parley must run with `PARLEY_GUESTS=on`. */
  parley: ParleyConnection;
  transcript?: Transcript;
}

/** What the visitor and the two operators saw. */
export interface SupportDeskResult {
  guest: GuestSession;
  conversation: Conversation;
  /** The visitor's first two messages. */
  asked: Message[];
  /** The conversation's row in each operator's live inbox when it appeared, and on the host's dashboard. */
  arrived: { olivia: ConversationSummary; omar: ConversationSummary; dashboard: ConversationSummary };
  answer: Message;
  /** The answer as the visitor's widget shows it, and who the widget lists in the conversation. */
  visitorSawAnswer: ChatMessage;
  visitorSawMembers: Array<{ userId: string; name: string }>;
  /** The answer as the other operator's open conversation shows it. */
  omarSawAnswer: ChatMessage;
  /** Unread counts once Olivia answered: hers, and Omar's (who has not read it), live and on the dashboard. */
  unreadAfterAnswer: { olivia: number; omar: number; omarDashboard: number };
  resolved: Conversation;
  /** The conversation's status as the visitor's widget shows it after resolving. */
  visitorSawStatus: string | undefined;
  /** How Parley answers the visitor writing into the resolved conversation. */
  sendAfterResolve: string;
  /** The whole conversation, read back by the visitor (REST, guest token) after it was resolved. */
  historyAfterResolve: Message[];
  /** The resolved conversation in the dashboard's list of closed chats. */
  closedOnDashboard: ConversationSummary | undefined;
}

const OLIVIA = { id: "op-olivia", name: "Olivia" };
const OMAR = { id: "op-omar", name: "Omar" };

/**
 * Seed 004: a visitor without an account opens the support widget; two
 * operators see the new conversation appear with its unread count; one
 * answers and the other sees the answer; the visitor sees who answered;
 * the operator resolves it and the history stays.
 */
export async function playSupportDesk(options: SupportDeskOptions): Promise<SupportDeskResult> {
  const say = options.transcript ?? new Transcript();
  const { url } = options.parley;
  const host = new SupportHost(options.parley);
  const clients: ParleyClient[] = [];
  const track = (client: ParleyClient) => (clients.push(client), client);
  const find = (list: readonly ConversationSummary[], id: string) => list.find((c) => c.id === id);

  try {
    say.step("Olivia and Omar start their shift: the support inbox is open on both screens");
    const olivia = track(await signIn(url, () => host.operatorToken(OLIVIA)));
    const omar = track(await signIn(url, () => host.operatorToken(OMAR)));
    await Promise.all([olivia.inbox.load(), omar.inbox.load()]);

    say.step("Dana, a visitor without an account, opens the support widget (POST /v1/guests) and asks");
    const guest = await startGuestSession(url, "Dana");
    say.sees("Dana", `chatting as guest ${guest.userId} until ${guest.expiresAt ?? "—"}`);
    const dana = track(await signIn(url, async () => guest.token));
    const conversation = await dana.createConversation({ kind: "support", title: "Order #1182 has not arrived" });
    const danaChat = dana.conversation(conversation.id);
    await danaChat.open();
    const asked = [
      await danaChat.send({ text: "Hi, my order #1182 was due on Monday and has not arrived." }),
      await danaChat.send({ text: "The tracking page has not changed since Friday." }),
    ];

    const hasTwoUnread = (s: { conversations: ConversationSummary[] }) => find(s.conversations, conversation.id)?.unreadCount === 2;
    const oliviaRow = find((await waitUntil(olivia.inbox, hasTwoUnread, "the conversation in Olivia's inbox")).conversations, conversation.id)!;
    const omarRow = find((await waitUntil(omar.inbox, hasTwoUnread, "the conversation in Omar's inbox")).conversations, conversation.id)!;
    for (const [who, row] of [["Olivia", oliviaRow], ["Omar", omarRow]] as const) {
      say.sees(who, `inbox: "${row.title}" (${row.unreadCount} unread): ${row.lastMessage ? renderMessage(row.lastMessage) : ""}`);
    }
    const dashboardRow = find(await host.recentChats(OLIVIA.id), conversation.id)!;
    say.host(`dashboard, recent chats: "${dashboardRow.title}" ${dashboardRow.unreadCount} unread`);

    say.step("Both open it; Olivia reads and answers");
    const oliviaChat = olivia.conversation(conversation.id);
    const omarChat = omar.conversation(conversation.id);
    await Promise.all([oliviaChat.open(), omarChat.open()]);
    await oliviaChat.markRead();
    const answer = await oliviaChat.send({ text: "Hi Dana, I'm Olivia. Your parcel is held at the depot; it goes out again tomorrow morning." });

    const visitorSawAnswer = (await waitUntil(danaChat, (s) => s.messages.some((m) => m.id === answer.id), "the answer in Dana's widget")).messages.find(
      (m) => m.id === answer.id,
    )!;
    say.sees("Dana", renderMessage(visitorSawAnswer));
    const omarSawAnswer = (await waitUntil(omarChat, (s) => s.messages.some((m) => m.id === answer.id), "the answer on Omar's screen")).messages.find(
      (m) => m.id === answer.id,
    )!;
    say.sees("Omar", renderMessage(omarSawAnswer));
    const visitorSawMembers = (
      await waitUntil(danaChat, (s) => s.members.some((m) => m.userId === OLIVIA.id), "Olivia among the conversation's members")
    ).members.map((m) => ({ userId: m.userId, name: m.name }));
    say.sees("Dana", `in this chat: ${visitorSawMembers.map((m) => m.name).join(", ")}`);

    const oliviaInbox = await waitUntil(olivia.inbox, (s) => find(s.conversations, conversation.id)?.unreadCount === 0, "Olivia's count to clear");
    const omarInbox = await waitUntil(
      omar.inbox,
      (s) => find(s.conversations, conversation.id)?.lastMessage?.id === answer.id,
      "Olivia's answer as the last message in Omar's inbox",
    );
    const unreadAfterAnswer = {
      olivia: find(oliviaInbox.conversations, conversation.id)!.unreadCount,
      omar: find(omarInbox.conversations, conversation.id)!.unreadCount,
      omarDashboard: find(await host.recentChats(OMAR.id), conversation.id)!.unreadCount,
    };
    say.sees("Olivia", `inbox: ${unreadAfterAnswer.olivia} unread`);
    say.sees("Omar", `inbox: ${unreadAfterAnswer.omar} unread (he has not read Dana's messages himself)`);
    say.host(`dashboard for Omar: ${unreadAfterAnswer.omarDashboard} unread`);

    say.step("Dana is happy; Olivia resolves the conversation (conversation:resolve)");
    const thanks = await danaChat.send({ text: "Great, thank you!" });
    await waitUntil(oliviaChat, (s) => s.messages.some((m) => m.id === thanks.id), "Dana's thanks at Olivia's");
    const resolved = await olivia.request("conversation:resolve", { conversationId: conversation.id });
    const visitorSawStatus = (await waitUntil(danaChat, (s) => s.conversation?.status === "closed", "the widget to show the chat ended")).conversation
      ?.status;
    say.sees("Dana", `chat ${visitorSawStatus === "closed" ? "ended" : "still open"}`);
    const sendAfterResolve = await refusal(dana.request("message:send", { conversationId: conversation.id, clientId: crypto.randomUUID(), text: "One more thing" }));
    say.sees("Dana", `writing again: ${sendAfterResolve}`);

    say.step("The history stays: Dana can still read it, and the dashboard lists it among closed chats");
    const historyAfterResolve = await new ParleyApi({ url, credential: guest.token }).allMessages(conversation.id);
    for (const m of historyAfterResolve) say.sees("Dana", renderMessage(m));
    const closedOnDashboard = find(await host.recentChats(OLIVIA.id, "closed"), conversation.id);
    say.host(`dashboard, closed chats: ${closedOnDashboard ? `"${closedOnDashboard.title}"` : "(missing)"}`);

    return {
      guest,
      conversation,
      asked,
      arrived: { olivia: oliviaRow, omar: omarRow, dashboard: dashboardRow },
      answer,
      visitorSawAnswer,
      visitorSawMembers,
      omarSawAnswer,
      unreadAfterAnswer,
      resolved,
      visitorSawStatus,
      sendAfterResolve,
      historyAfterResolve,
      closedOnDashboard,
    };
  } finally {
    for (const client of clients) client.close();
  }
}
