/** Default and maximum page sizes for lists, history and sync. */
export const DEFAULT_PAGE_LIMIT = 50;
export const MAX_PAGE_LIMIT = 200;

/** Packets over this size are refused by the transport (`maxHttpBufferSize`). */
export const MAX_PACKET_BYTES = 64 * 1024;

/** Longest accepted id, emoji, ref or title in a payload. */
export const MAX_ID_LENGTH = 200;
export const MAX_TITLE_LENGTH = 200;

/** Serialized size and nesting depth allowed for a `metadata` object. */
export const MAX_METADATA_BYTES = 8 * 1024;
export const MAX_METADATA_DEPTH = 8;

/** Most members listed when creating a conversation or adding members. */
export const MAX_MEMBERS_PER_REQUEST = 500;

/** Typing indicators expire this long after the last `typing: true`. */
export const TYPING_TIMEOUT_MS = 6000;
