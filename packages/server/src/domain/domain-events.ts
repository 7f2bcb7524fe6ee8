import { EventEmitter } from "node:events";
import type { Conversation, Member, Message } from "@parley/protocol";

/**
 * Who should hear of a change: these users' sockets, plus the sockets
 * watching the conversation, plus (channels) its members' sockets, plus
 * (support) every operator.
 */
export interface Audience {
  readonly userIds: readonly string[];
  readonly watchers: boolean;
  readonly operators: boolean;
  /** A channel's event: it goes to the sockets of every member of the channel (their channel room). */
  readonly channelMembers: boolean;
  /** Users who have just become members of the channel: their sockets join its room before the event goes out. */
  readonly joining?: readonly string[];
}

/** What the domain tells the edges after a change is committed. */
export type DomainEvent =
  | { type: "message.created"; conversation: Conversation; message: Message; audience: Audience }
  | {
      type: "message.updated";
      conversation: Conversation;
      message: Message;
      audience: Audience;
      /** Users who deleted this message "for me": they must not receive its content again. */
      hiddenFor?: readonly string[];
    }
  | { type: "message.deleted"; conversation: Conversation; message: Message; audience: Audience }
  | { type: "conversation.created"; conversation: Conversation; audience: Audience }
  | { type: "conversation.updated"; conversation: Conversation; audience: Audience }
  | { type: "member.joined"; conversation: Conversation; member: Member; audience: Audience }
  | { type: "member.left"; conversation: Conversation; member: Member; audience: Audience }
  | { type: "conversation.read"; conversation: Conversation; userId: string; seq: number; at: string; audience: Audience }
  | { type: "conversation.delivered"; conversation: Conversation; userId: string; seq: number; audience: Audience };

export type DomainEventType = DomainEvent["type"];

/** A typed, synchronous publisher of {@link DomainEvent}s. */
export class DomainEvents {
  readonly #emitter = new EventEmitter({ captureRejections: false });

  constructor() {
    this.#emitter.setMaxListeners(100);
  }

  publish(event: DomainEvent): void {
    this.#emitter.emit("event", event);
  }

  subscribe(listener: (event: DomainEvent) => void): () => void {
    this.#emitter.on("event", listener);
    return () => this.#emitter.off("event", listener);
  }

  /** Tells the edges that a user was erased (their sockets must go). */
  publishUserErased(userId: string): void {
    this.#emitter.emit("user-erased", userId);
  }

  onUserErased(listener: (userId: string) => void): () => void {
    this.#emitter.on("user-erased", listener);
    return () => this.#emitter.off("user-erased", listener);
  }
}
