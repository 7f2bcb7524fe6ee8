import type { Config } from "../config/config.js";
import type { PresenceStore } from "../presence/presence-store.js";
import type { RateLimiter } from "../rate-limit/rate-limiter.js";
import type { Storage } from "../storage/database.js";
import { ConversationService } from "./conversations.js";
import { DomainEvents } from "./domain-events.js";
import { MessageService } from "./messages.js";
import { UnitOfWork, type EventRecorder } from "./unit-of-work.js";
import { UserDirectory } from "./users.js";

/** The domain as the edges use it: one instance per node. */
export interface ParleyDomain {
  readonly events: DomainEvents;
  readonly users: UserDirectory;
  readonly conversations: ConversationService;
  readonly messages: MessageService;
}

/** Services the domain uses that live outside the database. */
export interface DomainServices {
  presence: PresenceStore;
  limiter: RateLimiter;
  /** Writes rows for events inside their transaction (the webhook outbox). */
  recorder: EventRecorder;
}

export function createDomain(storage: Storage, config: Config, services: DomainServices): ParleyDomain {
  const events = new DomainEvents();
  const uow = new UnitOfWork(storage, events, services.recorder);
  const users = new UserDirectory(storage);
  const conversations = new ConversationService(storage, config, uow, users);
  const messages = new MessageService(storage, config, uow, conversations, services.limiter);
  return { events, users, conversations, messages };
}
