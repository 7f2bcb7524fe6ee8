export { createParleyClient, ParleyClient, type Inbox, type PresenceWatch } from "./parley-client.js";
export { ConversationHandle, type SendInput } from "./conversation-handle.js";
export type { ConnectionState, ConnectionStatus, SessionUser, EventPayload, EventResult } from "./connection/connection.js";
export type { ParleyClientOptions } from "./options.js";
export { ParleyClientError, isRetryable } from "./parley-client-error.js";
export { createClientId } from "./sending/client-id.js";
export type { ReadableStore } from "./store/readable-store.js";
export type {
  ChatMessage,
  ConversationSnapshot,
  LoadState,
  MessageStatus,
  ReadReceipt,
  TypingUser,
} from "./store/conversation-store.js";
export type { InboxSnapshot } from "./store/inbox-store.js";
export type { PresenceSnapshot } from "./store/presence-store.js";
export { packetSize } from "./sending/packet-size.js";
export { tokenExpiry } from "./connection/token-source.js";
export type { UploadOptions } from "./http/rest.js";
