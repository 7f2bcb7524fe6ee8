import type { ChatMessage, ParleyClient } from "@parley/client";
import type { Conversation, Message } from "@parley/protocol";
import type { ParleyConnection } from "../lib/env.js";
import type { Stats } from "../lib/parley-api.js";
import { refusal, renderMessage } from "../lib/render.js";
import { signIn } from "../lib/sign-in.js";
import { Transcript } from "../lib/transcript.js";
import { waitUntil } from "../lib/wait.js";
import { CommunityHost } from "./host.js";

export interface CommunityOptions {
  parley: ParleyConnection;
  transcript?: Transcript;
}

/** What the members saw. */
export interface CommunityResult {
  channel: Conversation;
  /** Every message posted, in the order posted. */
  posted: Message[];
  /** Members who joined with `conversation:join`. */
  joined: string[];
  /** How many messages the newcomer held after opening the channel and after each "load older". */
  newcomerPages: number[];
  /** The newcomer's screen once the whole history is loaded, then at the end. */
  newcomerHistory: ChatMessage[];
  newcomerScreen: ChatMessage[];
  /** The host's archive pages, walked back from the newest with `beforeSeq`. */
  archivePages: Message[][];
  /** Ben's message as he edited it, and Chloe's and Eli's as Fay saw them after their deletion. */
  edited: Message;
  deletedByOwner: ChatMessage;
  deletedByModerator: ChatMessage;
  /** What Parley answered Dev when he tried to change Ana's message. */
  refused: { edit: string; delete: string };
  stats: Stats;
}

const MEMBERS = [
  { id: "ana", name: "Ana" },
  { id: "ben", name: "Ben" },
  { id: "chloe", name: "Chloe" },
  { id: "dev", name: "Dev" },
  { id: "eli", name: "Eli" },
];
const FAY = { id: "fay", name: "Fay" };
const MO = { id: "mo", name: "Mo", roles: ["moderator"] };
const ROUNDS = 4;
const PAGE = 8;

/**
 * Seed 003: the community channel. The server creates it; members join and
 * talk; a newcomer pages back through the history; members edit and delete
 * their own messages (and cannot touch others'); a moderator removes
 * someone else's; the host reads the statistics.
 */
export async function playCommunity(options: CommunityOptions): Promise<CommunityResult> {
  const say = options.transcript ?? new Transcript();
  const { url } = options.parley;
  const host = new CommunityHost(options.parley);
  const clients: ParleyClient[] = [];
  const open = async (user: { id: string; name: string; roles?: string[] }, pageSize?: number) => {
    const client = await signIn(url, () => host.chatToken(user), pageSize === undefined ? {} : { pageSize });
    clients.push(client);
    return client;
  };

  try {
    say.step("The host creates the community channel (POST /v1/conversations, kind channel)");
    const channel = await host.ensureChannel("community:general", "General");
    say.host(`channel ${channel.id} "${channel.title}"`);

    say.step(`${MEMBERS.length} members join and talk`);
    const chats = [];
    for (const user of MEMBERS) {
      const client = await open(user);
      const chat = client.conversation(channel.id);
      await chat.join();
      await chat.open();
      chats.push(chat);
    }
    say.sees("everyone", `${MEMBERS.map((m) => m.name).join(", ")} joined`);
    const posted: Message[] = [];
    for (let round = 1; round <= ROUNDS; round++) {
      for (const [i, chat] of chats.entries()) {
        posted.push(await chat.send({ text: `${MEMBERS[i]!.name}, message ${round}: ${TOPICS[(round + i) % TOPICS.length]}` }));
      }
    }
    const last = posted[posted.length - 1]!;
    await waitUntil(chats[0]!, (s) => s.messages.some((m) => m.id === last.id), "Ana to see the last message");
    say.sees("Ana", `${chats[0]!.getSnapshot().messages.length} messages, the last: ${renderMessage(last)}`);

    say.step(`Fay arrives and scrolls back through the history, ${PAGE} messages at a time`);
    const fay = await open(FAY, PAGE);
    const fayChat = fay.conversation(channel.id);
    await fayChat.open();
    const newcomerPages = [fayChat.getSnapshot().messages.length];
    while (fayChat.getSnapshot().hasOlder) {
      await fayChat.loadOlder();
      newcomerPages.push(fayChat.getSnapshot().messages.length);
    }
    const newcomerHistory = fayChat.getSnapshot().messages;
    say.sees("Fay", `pages held ${newcomerPages.join(" → ")} messages; the first: ${renderMessage(newcomerHistory[0]!)}`);

    say.step("The host's archive page walks the same history by REST (GET …/messages?beforeSeq=)");
    const archivePages: Message[][] = [];
    let beforeSeq: number | undefined;
    for (;;) {
      const page = await host.archivePage(channel.id, beforeSeq, 10);
      archivePages.push(page.messages);
      if (!page.hasMore || page.messages.length === 0) break;
      beforeSeq = page.messages[0]!.seq;
    }
    say.host(`archive pages of ${archivePages.map((p) => p.length).join(", ")} messages`);

    say.step("Ben fixes a typo in his message; Chloe deletes hers");
    const bens = posted.find((m) => m.senderId === "ben")!;
    const edited = await chats[1]!.edit(bens.id, `${bens.text} Two-person, for Saturday.`);
    const chloes = posted.find((m) => m.senderId === "chloe")!;
    await chats[2]!.delete(chloes.id, "everyone");
    await waitUntil(
      fayChat,
      (s) => s.messages.some((m) => m.id === bens.id && m.editedAt !== null) && s.messages.some((m) => m.id === chloes.id && m.deletedAt !== null),
      "Fay to see the edit and the deletion",
    );
    const fayNow = fayChat.getSnapshot().messages;
    say.sees("Fay", renderMessage(fayNow.find((m) => m.id === bens.id)!));
    say.sees("Fay", renderMessage(fayNow.find((m) => m.id === chloes.id)!));

    say.step("Dev tries to change Ana's message");
    const anas = posted.find((m) => m.senderId === "ana")!;
    const refused = {
      edit: await refusal(chats[3]!.edit(anas.id, "Ana agrees with Dev")),
      delete: await refusal(chats[3]!.delete(anas.id, "everyone")),
    };
    say.sees("Dev", `edit: ${refused.edit}, delete: ${refused.delete}`);

    say.step("Eli posts spam; Mo, a moderator, deletes it");
    const spam = await chats[4]!.send({ text: "Cheap followers at spam.example!!!" });
    const mo = await open(MO);
    const moChat = mo.conversation(channel.id);
    await moChat.open();
    await moChat.delete(spam.id, "everyone");
    await waitUntil(fayChat, (s) => s.messages.some((m) => m.id === spam.id && m.deletedAt !== null), "Fay to see the spam removed");
    const spamGone = fayChat.getSnapshot().messages.find((m) => m.id === spam.id)!;
    say.sees("Fay", renderMessage(spamGone));

    say.step("The host shows community statistics (GET /v1/stats)");
    const stats = await host.stats();
    say.host(`${stats.totals.messages} messages, ${stats.totals.users} users, ${stats.totals.conversations.channel} channel(s)`);
    for (const day of stats.messagesPerDay.slice(-3)) say.host(`${day.day}: ${day.count} messages`);

    return {
      channel,
      posted,
      joined: MEMBERS.map((m) => m.id),
      newcomerPages,
      newcomerHistory,
      newcomerScreen: fayChat.getSnapshot().messages,
      archivePages,
      edited,
      deletedByOwner: fayNow.find((m) => m.id === chloes.id)!,
      deletedByModerator: spamGone,
      refused,
      stats,
    };
  } finally {
    for (const client of clients) client.close();
  }
}

const TOPICS = [
  "anyone going to the meetup on Friday?",
  "the new trail map is up",
  "who has a spare tent?",
  "see you at 8 at the trailhead",
  "photos from last weekend are in the album",
];
