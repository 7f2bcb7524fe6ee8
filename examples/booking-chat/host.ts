import type { Conversation, Member, Message } from "@parley/protocol";
import type { ParleyApi } from "../lib/parley-api.js";
import { mintChatToken } from "../lib/tokens.js";

/**
 * One of the platform's two back ends. Each has its own user table (user 7
 * and bartender 7 are different people) and signs its users' chat tokens
 * with its own issuer and secret. Parley trusts both through
 * `PARLEY_JWT_ISSUERS` and gives each user the id `prefix + sub`.
 */
export class HostBackend {
  /** The `iss` claim this back end signs with. */
  readonly issuer: string;
  /** What Parley puts in front of this back end's user ids. */
  readonly prefix: string;
  readonly #secret: string;

  constructor(options: { issuer: string; prefix: string; secret: string }) {
    this.issuer = options.issuer;
    this.prefix = options.prefix;
    this.#secret = options.secret;
  }

  /** The Parley user id of one of this back end's users, e.g. `user:7`. */
  parleyId(localId: number): string {
    return this.prefix + String(localId);
  }

  /** What this back end's `GET /chat-token` answers its signed-in user: a token for Parley. */
  chatToken(user: { id: number; name: string }): Promise<string> {
    return mintChatToken(this.#secret, { id: String(user.id), name: user.name }, { issuer: this.issuer });
  }

  /** This back end's entry in Parley's `PARLEY_JWT_ISSUERS`. */
  issuerEntry(): { iss: string; secret: string; prefix: string } {
    return { iss: this.issuer, secret: this.#secret, prefix: this.prefix };
  }
}

/** The two back ends of the booking platform, with the secrets they share with Parley. */
export function bookingBackends(secrets: { user: string; bartender: string }): { users: HostBackend; bartenders: HostBackend } {
  return {
    users: new HostBackend({ issuer: "user-backend", prefix: "user:", secret: secrets.user }),
    bartenders: new HostBackend({ issuer: "bartender-backend", prefix: "bartender:", secret: secrets.bartender }),
  };
}

/** The value of `PARLEY_JWT_ISSUERS` that makes Parley trust both back ends. */
export function issuersConfig(backends: { users: HostBackend; bartenders: HostBackend }): string {
  return JSON.stringify([backends.users.issuerEntry(), backends.bartenders.issuerEntry()]);
}

/** A confirmed booking, as the platform's database holds it. */
export interface Booking {
  id: number;
  userId: number;
  bartenderId: number;
}

/** Parley's `ref` for a booking's chat: the host finds the conversation by it, never stores Parley's id. */
export const bookingRef = (bookingId: number): string => `booking:${bookingId}`;

/**
 * Called when a booking is confirmed: creates the booking's chat with the
 * customer and the bartender as its only members. Creating it again (a
 * retry, the other back end doing the same) returns the same conversation.
 */
export async function openBookingChat(
  api: ParleyApi,
  backends: { users: HostBackend; bartenders: HostBackend },
  booking: Booking,
): Promise<{ conversation: Conversation; members: Member[]; created: boolean }> {
  const customer = backends.users.parleyId(booking.userId);
  const bartender = backends.bartenders.parleyId(booking.bartenderId);
  const result = await api.createConversation({
    kind: "group",
    ref: bookingRef(booking.id),
    title: `Booking #${booking.id}`,
    metadata: { bookingId: booking.id },
    members: [customer, bartender],
  });
  // A conversation that already existed keeps its members; make sure both are in it.
  for (const userId of [customer, bartender]) {
    if (!result.members.some((m) => m.userId === userId)) result.members.push(await api.addMember(result.conversation.id, userId));
  }
  return result;
}

/** The booking's messages for the host's own pages (seed 000's `GET /messages/:bookingId`), oldest first. */
export async function bookingHistory(api: ParleyApi, bookingId: number): Promise<Message[]> {
  const { conversation } = await api.conversationByRef(bookingRef(bookingId));
  return api.allMessages(conversation.id);
}
