import type { ChatMessage, ParleyClient } from "@parley/client";
import type { Conversation } from "@parley/protocol";
import type { ParleyConnection } from "../lib/env.js";
import { renderMessage } from "../lib/render.js";
import { signIn } from "../lib/sign-in.js";
import { Transcript } from "../lib/transcript.js";
import { waitFor, waitUntil } from "../lib/wait.js";
import type { DisputeHost, PushNotification } from "./host.js";
import type { MessageCreated, ParleyWebhook, WebhookReceiver } from "./webhooks.js";

export interface DisputeOptions {
  parley: ParleyConnection;
  /** The host back end. */
  host: DisputeHost;
  /** Its webhook endpoint, already listening at the URL Parley posts to. */
  webhooks: WebhookReceiver;
  transcript?: Transcript;
  /** How long to wait for a webhook. @default 10000 */
  webhookTimeoutMs?: number;
}

/** What each person, and the host, ended up seeing. */
export interface DisputeResult {
  conversation: Conversation;
  /** What the customer and provider said before the moderator was there. */
  saidBeforeModerator: string[];
  /** The moderator's screen right after joining, then at the end. */
  moderatorOnJoin: ChatMessage[];
  moderatorScreen: ChatMessage[];
  customerScreen: ChatMessage[];
  /** The provider's screen before they went offline. */
  providerScreen: ChatMessage[];
  /** The `message.created` webhook of the message sent while the provider was offline. */
  offlineWebhook: ParleyWebhook & { data: MessageCreated };
  /** The pushes the host sent for that message. */
  pushes: PushNotification[];
}

const NORA = { id: "customer-501", name: "Nora" };
const KOFI = { id: "provider-77", name: "Kofi" };
const RITA = { id: "lsm-3", name: "Rita", roles: ["moderator"] };

/**
 * Seed 002: a customer and a service provider chat about a job; the
 * customer opens a dispute and a moderator (the local service manager)
 * joins, reads everything said so far and posts. When the provider is
 * offline, the host learns it from the `message.created` webhook and
 * pushes a notification to them.
 */
export async function playDispute(options: DisputeOptions): Promise<DisputeResult> {
  const say = options.transcript ?? new Transcript();
  const { url } = options.parley;
  const { host, webhooks } = options;
  const webhookTimeoutMs = options.webhookTimeoutMs ?? 10_000;
  let conversationId: string | null = null;
  webhooks.on((w, attempt) => {
    if (conversationId !== null && conversationOf(w) === conversationId) {
      say.host(`webhook ${w.type}${attempt > 1 ? ` (attempt ${attempt})` : ""}, signature verified`);
    }
  });
  const clients: ParleyClient[] = [];
  const open = async (user: { id: string; name: string; roles?: string[] }) => {
    const client = await signIn(url, () => host.chatToken(user));
    clients.push(client);
    return client;
  };

  try {
    say.step("Nora books Kofi for job 1207: the host opens the job's chat");
    let conversation = await host.openJobChat(1207, NORA.id, KOFI.id);
    conversationId = conversation.id;
    const nora = await open(NORA);
    const kofi = await open(KOFI);
    const noraChat = nora.conversation(conversation.id);
    const kofiChat = kofi.conversation(conversation.id);
    await Promise.all([noraChat.open(), kofiChat.open()]);

    say.step("They talk about the job");
    const lines: Array<[typeof noraChat, string]> = [
      [noraChat, "The sink is still leaking after yesterday's repair."],
      [kofiChat, "I replaced the trap; the leak must come from the tap. That is a separate job."],
      [noraChat, "You said the price covered everything. I'm not paying twice."],
    ];
    for (const [chat, text] of lines) {
      const sent = await chat.send({ text });
      const other = chat === noraChat ? kofiChat : noraChat;
      await waitUntil(other, (s) => s.messages.some((m) => m.id === sent.id), "the other side to receive it");
      say.sees(chat === noraChat ? "Kofi" : "Nora", renderMessage(sent));
    }

    say.step("Nora opens a dispute; a moderator joins the chat (conversation:join) and reads it all");
    conversation = await host.markDisputed(conversation, "work not finished");
    say.host(`job chat marked disputed: ${JSON.stringify(conversation.metadata)}`);
    const rita = await open(RITA);
    const ritaChat = rita.conversation(conversation.id);
    await ritaChat.join();
    await ritaChat.open();
    const moderatorOnJoin = ritaChat.getSnapshot().messages;
    for (const m of moderatorOnJoin) say.sees("Rita", renderMessage(m));

    say.step("The moderator posts; both sides see it");
    const ruling = await ritaChat.send({ text: "Hi both, I'm Rita from the service team. Kofi, can you come back tomorrow to check the tap at no charge?" });
    await waitUntil(noraChat, (s) => s.messages.some((m) => m.id === ruling.id), "Nora to see the moderator's message");
    await waitUntil(kofiChat, (s) => s.messages.some((m) => m.id === ruling.id), "Kofi to see the moderator's message");
    say.sees("Nora and Kofi", renderMessage(ruling));

    say.step("Kofi closes the app; Nora writes to him anyway");
    const providerScreen = kofiChat.getSnapshot().messages;
    const stopWatching = nora.presence.watch([KOFI.id]);
    await waitUntil(nora.presence, (p) => p.get(KOFI.id)?.online === true, "Kofi online");
    kofi.close();
    await waitUntil(nora.presence, (p) => p.get(KOFI.id)?.online === false, "Kofi offline");
    stopWatching();
    say.sees("Nora", "Kofi ○ offline");
    const whileOffline = await noraChat.send({ text: "Kofi, can you confirm tomorrow at 10?" });
    const offlineWebhook = await waitFor(
      () =>
        webhooks.received.find(
          (w): w is ParleyWebhook & { data: MessageCreated } =>
            w.type === "message.created" && (w.data as unknown as MessageCreated).message.id === whileOffline.id,
        ),
      "the message.created webhook (is PARLEY_WEBHOOK_URL set to the host's endpoint?)",
      webhookTimeoutMs,
    );
    for (const r of offlineWebhook.data.recipients) say.host(`recipient ${r.userId}: ${r.online ? "online" : "offline"}`);
    const pushes = host.pushes.filter((p) => p.conversationId === conversation.id);
    for (const p of pushes) say.host(`push notification to ${p.userId}: "${p.title}: ${p.body}"`);

    return {
      conversation,
      saidBeforeModerator: lines.map(([, text]) => text),
      moderatorOnJoin,
      moderatorScreen: ritaChat.getSnapshot().messages,
      customerScreen: noraChat.getSnapshot().messages,
      providerScreen,
      offlineWebhook,
      pushes,
    };
  } finally {
    for (const client of clients) client.close();
  }
}

/** The conversation a webhook is about. */
function conversationOf(webhook: ParleyWebhook): string | undefined {
  const data = webhook.data as { conversationId?: string; message?: { conversationId: string }; conversation?: { id: string } };
  return data.conversationId ?? data.message?.conversationId ?? data.conversation?.id;
}
