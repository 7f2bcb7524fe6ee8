import type { AckCallback } from "./ack.js";
import type {
  ConversationPage,
  DeliveryReceiptEvent,
  FoundMessages,
  HistoryPage,
  MemberEvent,
  Membership,
  OpenedConversation,
  Presence,
  ReadReceiptEvent,
  SessionInfo,
  SyncPage,
  TypingEvent,
} from "./server-payloads.js";
import type {
  AuthRefreshPayload,
  Conversation,
  ConversationCreatePayload,
  ConversationHistoryPayload,
  ConversationIdPayload,
  ConversationListPayload,
  ConversationOpenPayload,
  ConversationSeqPayload,
  ConversationSyncPayload,
  Message,
  MessageDeletePayload,
  MessageEditPayload,
  MessageGetPayload,
  MessageReactPayload,
  MessageSendPayload,
  PresenceGetPayload,
  TypingPayload,
} from "./schemas.js";

/**
 * Events a client sends. Every one takes an acknowledgement callback and
 * answers `{ ok: true, data }` or `{ ok: false, error }`.
 */
export interface ClientToServerEvents {
  "conversation:list": (payload: ConversationListPayload, ack: AckCallback<ConversationPage>) => void;
  "conversation:create": (payload: ConversationCreatePayload, ack: AckCallback<Conversation>) => void;
  "conversation:open": (payload: ConversationOpenPayload, ack: AckCallback<OpenedConversation>) => void;
  "conversation:close": (payload: ConversationIdPayload, ack: AckCallback<null>) => void;
  "conversation:join": (payload: ConversationIdPayload, ack: AckCallback<Membership>) => void;
  "conversation:leave": (payload: ConversationIdPayload, ack: AckCallback<null>) => void;
  "conversation:sync": (payload: ConversationSyncPayload, ack: AckCallback<SyncPage>) => void;
  "conversation:history": (payload: ConversationHistoryPayload, ack: AckCallback<HistoryPage>) => void;
  "conversation:read": (payload: ConversationSeqPayload, ack: AckCallback<{ lastReadSeq: number }>) => void;
  "conversation:delivered": (payload: ConversationSeqPayload, ack: AckCallback<null>) => void;
  "conversation:resolve": (payload: ConversationIdPayload, ack: AckCallback<Conversation>) => void;
  "message:send": (payload: MessageSendPayload, ack: AckCallback<Message>) => void;
  "message:edit": (payload: MessageEditPayload, ack: AckCallback<Message>) => void;
  "message:delete": (payload: MessageDeletePayload, ack: AckCallback<Message | null>) => void;
  "message:react": (payload: MessageReactPayload, ack: AckCallback<Message>) => void;
  "message:get": (payload: MessageGetPayload, ack: AckCallback<FoundMessages>) => void;
  typing: (payload: TypingPayload, ack: AckCallback<null>) => void;
  "presence:get": (payload: PresenceGetPayload, ack: AckCallback<Presence[]>) => void;
  "auth:refresh": (payload: AuthRefreshPayload, ack: AckCallback<{ expiresAt: string | null }>) => void;
}

/** Events the server sends. */
export interface ServerToClientEvents {
  session: (session: SessionInfo) => void;
  "message:new": (message: Message) => void;
  "message:updated": (message: Message) => void;
  "message:deleted": (message: Message) => void;
  "conversation:created": (conversation: Conversation) => void;
  "conversation:updated": (conversation: Conversation) => void;
  "member:joined": (event: MemberEvent) => void;
  "member:left": (event: MemberEvent) => void;
  "conversation:read": (event: ReadReceiptEvent) => void;
  "conversation:delivered": (event: DeliveryReceiptEvent) => void;
  typing: (event: TypingEvent) => void;
  presence: (event: Presence) => void;
  "session:expired": (event: Record<string, never>) => void;
}

/** Names of client→server events. */
export type ClientEventName = keyof ClientToServerEvents;

/** Names of server→client events. */
export type ServerEventName = keyof ServerToClientEvents;
