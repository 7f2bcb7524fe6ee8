/** How to create a client. Exactly one of `token` and `getToken` is required. */
export interface ParleyClientOptions {
  /** The Parley server's origin, e.g. `"https://chat.example.com"`. */
  url: string;
  /** A fixed user token. When it expires or is refused the client stops (status `disconnected`). */
  token?: string;
  /**
   * Returns a fresh user token (from your back end). Called to connect, when
   * the server says the token expired, and shortly before `exp` to refresh
   * the live connection with `auth:refresh`.
   */
  getToken?: () => string | Promise<string>;
  /** Socket.IO path on the server. @default "/socket.io" */
  path?: string;
  /** Socket.IO transports, in the order tried. @default ["websocket", "polling"] */
  transports?: Array<"websocket" | "polling">;
  /** Connect at once; otherwise call `connect()`. @default true */
  autoConnect?: boolean;
  /** How long to wait for an acknowledgement before treating a request as lost. @default 10000 */
  ackTimeoutMs?: number;
  /** First delay before reconnecting; doubles up to `reconnectDelayMaxMs`. @default 500 */
  reconnectDelayMs?: number;
  /** Longest delay between reconnection attempts. @default 5000 */
  reconnectDelayMaxMs?: number;
  /** Refresh the token this long before it expires. @default 60000 */
  refreshBeforeExpiryMs?: number;
  /** Messages fetched per page when opening and paging history (1..200). @default 50 */
  pageSize?: number;
  /** Delivery receipts are batched over this long. @default 250 */
  deliveredDelayMs?: number;
  /** While the user keeps typing, `typing: true` is repeated at most this often. @default 3000 */
  typingIntervalMs?: number;
  /** `typing: false` is sent after this long without a keystroke. @default 4000 */
  typingIdleMs?: number;
}

/** The options with every default filled in; frozen. */
export type ResolvedOptions = Readonly<Required<Omit<ParleyClientOptions, "token" | "getToken">>> & {
  readonly token: string | undefined;
  readonly getToken: (() => string | Promise<string>) | undefined;
};

/** Fills in defaults and checks the options once; never changes the caller's object. */
export function resolveOptions(options: ParleyClientOptions): ResolvedOptions {
  const {
    url,
    token,
    getToken,
    path = "/socket.io",
    transports = ["websocket", "polling"],
    autoConnect = true,
    ackTimeoutMs = 10_000,
    reconnectDelayMs = 500,
    reconnectDelayMaxMs = 5_000,
    refreshBeforeExpiryMs = 60_000,
    pageSize = 50,
    deliveredDelayMs = 250,
    typingIntervalMs = 3_000,
    typingIdleMs = 4_000,
  } = options;
  if (typeof url !== "string" || url.length === 0) throw new TypeError("createParleyClient: url is required");
  if (token === undefined && getToken === undefined) throw new TypeError("createParleyClient: token or getToken is required");
  if (token !== undefined && getToken !== undefined) throw new TypeError("createParleyClient: give token or getToken, not both");
  if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > 200) throw new TypeError("createParleyClient: pageSize must be 1..200");
  return Object.freeze({
    url,
    token,
    getToken,
    path,
    transports: [...transports],
    autoConnect,
    ackTimeoutMs,
    reconnectDelayMs,
    reconnectDelayMaxMs,
    refreshBeforeExpiryMs,
    pageSize,
    deliveredDelayMs,
    typingIntervalMs,
    typingIdleMs,
  });
}
