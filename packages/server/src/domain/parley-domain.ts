import type { Config } from "../config/config.js";
import type { PresenceStore } from "../presence/presence-store.js";
import type { RateLimiter } from "../rate-limit/rate-limiter.js";
import type { Storage } from "../storage/database.js";
import { ConversationService } from "./conversations.js";
import { DomainEvents } from "./domain-events.js";
import { MessageService } from "./messages.js";
import { UnitOfWork, type EventRecorder } from "./unit-of-work.js";
import { UserDirectory } from "./users.js";
import { AdminService } from "./admin.js";
import { DirectoryService } from "./directory.js";
import { SearchService } from "./search.js";
import { UploadService } from "./uploads.js";
import { CommitGroup } from "../storage/commit-group.js";
import { FileStore } from "../storage/file-store.js";

/** The domain as the edges use it: one instance per node. */
export interface ParleyDomain {
  readonly events: DomainEvents;
  readonly users: UserDirectory;
  readonly conversations: ConversationService;
  readonly messages: MessageService;
  readonly uploads: UploadService;
  readonly search: SearchService;
  readonly admin: AdminService;
  readonly directory: DirectoryService;
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
  const group = new CommitGroup(storage.batchDb, storage.dialect, { wal: storage.sqliteWal });
  const uow = new UnitOfWork(storage, events, services.recorder, group);
  const users = new UserDirectory(storage, group);
  const uploads = new UploadService(storage, new FileStore(config.uploadsDir), config);
  const conversations = new ConversationService(storage, config, uow, users, uploads);
  const messages = new MessageService(storage, config, uow, conversations, services.limiter, uploads);
  const search = new SearchService(storage, uploads);
  const admin = new AdminService(storage, uow, uploads, users, events);
  const directory = new DirectoryService(storage, services.presence);
  return { events, users, conversations, messages, uploads, search, admin, directory };
}
