import { Readable } from "node:stream";
import type { ConversationKind, Message } from "@parley/protocol";
import type { ParleyDomain } from "../domain/parley-domain.js";
import { SYSTEM_USER_ID, type Principal } from "../domain/principal.js";
import { demoPhotoPng } from "./demo-image.js";
import { DEMO_USERS, demoPrincipal, findDemoUser } from "./demo-users.js";

/** Where seeding reports what it did. */
export interface DemoLog {
  info(message: string): void;
  warn(message: string): void;
}

const SYSTEM: Principal = { id: SYSTEM_USER_ID, name: "Parley", avatar: null, roles: ["admin"], kind: "system", expiresAt: null };

/** A second visitor, not offered on the login page, so the support desk has an unassigned conversation. */
const SECOND_VISITOR: Principal = { id: "guest-noah", name: "Noah (visitor)", avatar: null, roles: ["guest"], kind: "guest", expiresAt: null };

function user(id: string): Principal {
  const found = findDemoUser(id);
  if (!found) throw new Error(`no demo user ${id}`);
  return demoPrincipal(found);
}

/** One seed scenario: a conversation found by `ref`, and what happens in it the first time. */
interface Scenario {
  ref: string;
  kind: ConversationKind;
  title?: string;
  members: string[];
  /** Who opens it: the host back end (the API key), or for support the visitor. @default the back end */
  openedBy?: Principal;
  metadata?: Record<string, unknown>;
  play(chat: Chat): Promise<void>;
}

/** Acts in one conversation as the demo users. */
class Chat {
  readonly #domain: ParleyDomain;
  readonly #id: string;
  readonly #ref: string;
  #n = 0;

  constructor(domain: ParleyDomain, id: string, ref: string) {
    this.#domain = domain;
    this.#id = id;
    this.#ref = ref;
  }

  async say(from: Principal, text: string, extra: { attachments?: Array<{ id: string }> } = {}): Promise<Message> {
    this.#n += 1;
    const { message } = await this.#domain.messages.send(from, this.#id, {
      clientId: `demo:${this.#ref}:${this.#n}`,
      text,
      ...extra,
    });
    return message;
  }

  async read(who: Principal, seq: number): Promise<void> {
    await this.#domain.messages.markRead(who, this.#id, seq);
  }

  async join(who: Principal): Promise<void> {
    await this.#domain.conversations.join(who, this.#id);
  }

  async react(who: Principal, message: Message, emoji: string): Promise<void> {
    await this.#domain.messages.react(who, this.#id, message.id, emoji, true);
  }

  async edit(who: Principal, message: Message, text: string): Promise<void> {
    await this.#domain.messages.edit(who, this.#id, message.id, text);
  }

  async photo(from: Principal, name: string): Promise<{ id: string }> {
    const png = demoPhotoPng();
    const attachment = await this.#domain.uploads.store(from, {
      filename: name,
      mimeType: "image/png",
      stream: Readable.from([png]),
      truncated: () => false,
    });
    return { id: attachment.id };
  }
}

function scenarios(): Scenario[] {
  const casey = user("casey");
  const pat = user("pat");
  const sam = user("sam");
  const priya = user("priya");
  const morgan = user("morgan");
  const olivia = user("olivia");
  const val = user("guest-demo");
  const alex = user("alex");
  const jamie = user("jamie");
  const robin = user("robin");
  return [
    {
      // Seed 000: a chat per booking between a customer and a bartender, created by the host back end.
      ref: "demo:booking:42",
      kind: "group",
      title: "Booking #42 · Rooftop party",
      members: ["casey", "sam"],
      metadata: { bookingId: 42 },
      async play(chat) {
        await chat.say(casey, "Hi Sam! Really looking forward to Saturday 🎉");
        await chat.say(sam, "Me too! Around 60 guests, right? I'll bring fresh mint for a mojito station.");
        const third = await chat.say(casey, "Yes, about 60. Could you arrive at 6:30 to set up on the rooftop?");
        await chat.read(sam, third.seq);
        await chat.say(sam, "6:30 works. Is there a lift for the ice boxes?");
      },
    },
    {
      // Seed 001: a direct conversation between a customer and a photographer, with a photo.
      ref: "demo:marketplace:casey-pat",
      kind: "direct",
      members: ["casey", "pat"],
      async play(chat) {
        await chat.say(casey, "Hi Pat, are you free on 14 June for a small engagement shoot?");
        await chat.say(pat, "Hi Casey! Yes, I have the afternoon free. Golden hour is around 8 pm.");
        const photo = await chat.photo(pat, "golden-hour-sample.png");
        const shot = await chat.say(pat, "Here's one from last week's shoot at the lake.", { attachments: [photo] });
        await chat.react(casey, shot, "❤️");
        await chat.say(casey, "That light is gorgeous 😍 Let's book it — see https://example.com/booking/14-june");
      },
    },
    {
      // Seed 002: a dispute between a customer and a provider; a moderator joins later and reads everything.
      ref: "demo:dispute:7",
      kind: "group",
      title: "Dispute · Order #7 (deep clean)",
      members: ["casey", "priya"],
      metadata: { orderId: 7 },
      async play(chat) {
        await chat.say(casey, "The oven wasn't cleaned, and it was on the checklist.");
        await chat.say(priya, "I did clean it, but some stains were baked in and won't come off.");
        await chat.say(casey, "I'd like a partial refund for that part of the job.");
        await chat.join(morgan);
        await chat.say(morgan, "Hi both, I've read the whole thread. Priya, could you share the photos you took after the job?");
      },
    },
    {
      // Seed 003: the community channel.
      ref: "demo:community:general",
      kind: "channel",
      title: "Community",
      members: ["alex", "jamie", "robin", "morgan", "casey"],
      async play(chat) {
        await chat.say(alex, "Welcome to the community channel! Introduce yourself 👋");
        await chat.say(jamie, "Hi all, Jamie here — I run a small catering business in Leeds.");
        await chat.say(robin, "Robin, wedding photographer. Has anyone tried the new booking calendar?");
        const tip = await chat.say(alex, "Yes! Syncing it with my calendar saves me hours.");
        await chat.edit(alex, tip, "Yes! Syncing it with my calendar saves me hours every week.");
        await chat.say(casey, "Hello! Planning my first rooftop party, any tips welcome.");
        await chat.say(robin, "Book the bartender early — Saturdays in June go fast.");
        await chat.say(morgan, "Friendly reminder: be kind, and keep prices and contact details out of public posts 🙏");
      },
    },
    {
      // Seed 004: a guest visitor's support conversation that an operator answered.
      ref: "demo:support:val",
      kind: "support",
      members: [],
      openedBy: val,
      metadata: { email: "val@example.com", page: "/pricing" },
      async play(chat) {
        await chat.say(val, "Hi! I was charged twice for my booking yesterday.");
        await chat.say(olivia, "Hi Val, I'm Olivia. Sorry about that — let me check your payment.");
        const refunded = await chat.say(olivia, "I can see two charges of £45. I've refunded the duplicate; it takes 3–5 days to show.");
        await chat.read(val, refunded.seq);
        await chat.say(val, "Thank you! Will I get an email confirming it?");
      },
    },
    {
      // Seed 004: a visitor nobody has answered yet.
      ref: "demo:support:noah",
      kind: "support",
      members: [],
      openedBy: SECOND_VISITOR,
      metadata: { email: "noah@example.com", page: "/delivery" },
      async play(chat) {
        await chat.say(SECOND_VISITOR, "Hello, do you deliver to Manchester?");
      },
    },
  ];
}

/**
 * Creates the dev-mode demo: the demo users, and one conversation per seed
 * scenario with a few messages. Conversations are found by `ref`, so a
 * restart finds them and adds nothing; a scenario that fails is reported and
 * skipped, never stopping the server.
 */
export async function seedDemoData(domain: ParleyDomain, log: DemoLog): Promise<{ created: string[] }> {
  for (const demo of DEMO_USERS) await domain.users.remember(demoPrincipal(demo));
  await domain.users.remember(SECOND_VISITOR);
  const created: string[] = [];
  for (const scenario of scenarios()) {
    try {
      const result = await domain.conversations.create(scenario.openedBy ?? SYSTEM, {
        kind: scenario.kind,
        ref: scenario.ref,
        members: scenario.members,
        ...(scenario.title ? { title: scenario.title } : {}),
        ...(scenario.metadata ? { metadata: scenario.metadata } : {}),
      });
      if (!result.created) continue;
      await scenario.play(new Chat(domain, result.conversation.id, scenario.ref));
      created.push(scenario.ref);
    } catch (err) {
      log.warn(`demo conversation ${scenario.ref} was not created: ${(err as Error).message}`);
    }
  }
  if (created.length > 0) log.info(`created demo conversations: ${created.join(", ")}`);
  return { created };
}
