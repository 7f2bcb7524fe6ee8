import type { HistogramData } from "../stats/histogram.js";
import type { TargetKind } from "../targets/target-spec.js";

/** Counts by error code (or message). */
export type Tally = Record<string, number>;

export interface WorkerInit {
  url: string;
  /** Every node's URL when the target runs several; a user connects to `urls[user.node]`. */
  urls?: string[];
  dialect: TargetKind;
  /** HS256 secret the worker signs its users' tokens with (Parley only). */
  jwtSecret: string;
  worker: number;
}

/** One simulated user: its id and the conversations it belongs to. */
export interface SimUser {
  userId: string;
  conversations: string[];
  /** Which node (index into `WorkerInit.urls`) the user connects to. @default 0 */
  node?: number;
}

export interface ConnectParams {
  users: SimUser[];
  /** Handshakes in flight at once in this worker. */
  concurrency: number;
  timeoutMs: number;
}

export interface ConnectResult {
  connected: number;
  failed: number;
  errors: Tally;
  /** From the first handshake to the last `session`, ms. */
  elapsedMs: number;
  /** Handshake to `session`, per client. */
  latency: HistogramData;
}

export interface FanoutStepParams {
  step: number;
  /** Messages per second this worker sends, spread over its clients. */
  rate: number;
  durationMs: number;
  /** How long to wait after the last send for deliveries and acks. */
  drainMs: number;
  textBytes: number;
}

export interface FanoutStepResult {
  sent: number;
  /** Messages per second actually sent (open loop, so it only falls short when the generator does). */
  sendRate: number;
  acked: number;
  ackErrors: Tally;
  /** Sends with no ack before the drain ended. */
  unacked: number;
  /** Deliveries owed for acknowledged messages: every member, the sender included. */
  expected: number;
  delivered: number;
  /** Deliveries owed for acknowledged messages that never came. */
  lost: number;
  duplicated: number;
  /** Deliveries of a message after its step had been counted. */
  late: number;
  sendWindowMs: number;
  latency: HistogramData;
  ackLatency: HistogramData;
  /** How late the generator sent against its schedule. */
  sendLag: HistogramData;
}

/** One request the worker makes through one of its clients, labelled for the report. */
export interface RequestItem {
  label: string;
  event: "conversation:history" | "conversation:sync";
  payload: Record<string, unknown>;
}

export interface RequestsParams {
  items: RequestItem[];
  /** Requests in flight at once. */
  concurrency: number;
  timeoutMs: number;
}

export interface RequestsResult {
  byLabel: Record<string, { latency: HistogramData; errors: Tally; messages: number }>;
}

export interface ReconnectParams {
  /** Message ids each conversation received while its members were away. */
  expected: Record<string, string[]>;
  timeoutMs: number;
  /** Page size of `conversation:sync` (the SDK asks for 200). */
  syncLimit: number;
}

export interface ReconnectResult {
  clients: number;
  caughtUp: number;
  /** From the reconnect order to this worker's last client caught up, ms. */
  elapsedMs: number;
  /** Per client: reconnect order to caught up. */
  catchUp: HistogramData;
  syncCalls: number;
  syncErrors: Tally;
  connectErrors: number;
  missed: number;
  duplicated: number;
  /** Messages received through sync (a caught-up client has every missed message). */
  synced: number;
}
