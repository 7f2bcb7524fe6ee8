import { performance } from "node:perf_hooks";
import type { Ack, ClientToServerEvents, Message, ServerToClientEvents, SessionInfo, SyncPage } from "@parley/protocol";
import { SignJWT } from "jose";
import { io, type Socket } from "socket.io-client";
import { serveRpc, sendNotice } from "../process/rpc.js";
import { chatTexts, seededRandom } from "./chat-text.js";
import { Histogram } from "../stats/histogram.js";
import { readProcessStats } from "../targets/target-spec.js";
import type {
  ConnectParams,
  ConnectResult,
  FanoutStepParams,
  FanoutStepResult,
  ReconnectParams,
  ReconnectResult,
  RequestsParams,
  RequestsResult,
  SimUser,
  Tally,
  WorkerInit,
} from "./worker-protocol.js";

/**
 * A load-generator process. It holds its share of the simulated users, each
 * with a real socket.io-client over a WebSocket, and runs what the bench
 * asks of them. All members of a conversation live in one worker, so send
 * and receive times come from one clock, even when they are connected to
 * different Parley nodes.
 */

type ClientSocket = Socket<ServerToClientEvents, ClientToServerEvents>;
type LooseEmitter = {
  emit(event: string, payload: unknown, ack: (err: Error | null, response: Ack<unknown>) => void): void;
};

interface SimClient {
  readonly user: SimUser;
  readonly socket: ClientSocket;
  /** Position among its conversation's members (fanout gives each client one conversation). */
  position: number;
  /** Highest `seq` seen per conversation. */
  readonly lastSeq: Map<string, number>;
  /** Message ids received (kept only while tracking a reconnect). */
  readonly seen: Set<string>;
  /** Called with each `session` after the first. */
  onSession: ((session: SessionInfo) => void) | null;
}

/** A fanout message awaiting its deliveries. */
interface InFlight {
  sentAt: number;
  members: number;
  received: number;
  flags: Uint8Array;
  ack: "pending" | "ok" | "error";
}

let init: WorkerInit | null = null;
const clients: SimClient[] = [];
const conversationSize = new Map<string, number>();

const TICK_MS = 2;

function tally(t: Tally, key: string): void {
  t[key] = (t[key] ?? 0) + 1;
}

function settings(): WorkerInit {
  if (!init) throw new Error("worker not initialised");
  return init;
}

async function mint(userId: string, secret: Uint8Array): Promise<string> {
  return new SignJWT({ name: `Bench ${userId}` })
    .setProtectedHeader({ alg: "HS256" })
    .setSubject(userId)
    .setIssuedAt()
    .setExpirationTime("4h")
    .sign(secret);
}

// ---- message routing -------------------------------------------------------

type MessageSink = (client: SimClient, message: Message, at: number) => void;
let sink: MessageSink | null = null;

function noteSeq(client: SimClient, message: Message): void {
  const known = client.lastSeq.get(message.conversationId) ?? 0;
  if (message.seq > known) client.lastSeq.set(message.conversationId, message.seq);
}

// ---- connecting --------------------------------------------------------------

function openSocket(user: SimUser, token: string | null, timeoutMs: number): ClientSocket {
  const { url, urls, dialect } = settings();
  const node = urls?.[user.node ?? 0];
  return io(node ?? url, {
    transports: ["websocket"],
    forceNew: true,
    reconnection: false,
    timeout: timeoutMs,
    auth: dialect === "parley" ? { token } : { user: user.userId, rooms: user.conversations },
  });
}

function connectOne(user: SimUser, token: string | null, timeoutMs: number): Promise<SimClient> {
  const socket = openSocket(user, token, timeoutMs);
  const client: SimClient = { user, socket, position: 0, lastSeq: new Map(), seen: new Set(), onSession: null };
  socket.on("message:new", (message) => {
    const at = performance.now();
    noteSeq(client, message);
    sink?.(client, message, at);
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      socket.close();
      reject(new Error("no session in time"));
    }, timeoutMs);
    const onError = (err: Error & { data?: { code?: string } }) => {
      clearTimeout(timer);
      socket.close();
      reject(new Error(err.data?.code ?? err.message));
    };
    socket.once("connect_error", onError);
    let first = true;
    socket.on("session", (session) => {
      for (const c of session.conversations) {
        if (first) client.lastSeq.set(c.id, c.lastSeq);
      }
      if (first) {
        first = false;
        socket.off("connect_error", onError);
        clearTimeout(timer);
        resolve(client);
      } else {
        client.onSession?.(session);
      }
    });
  });
}

async function connect(params: ConnectParams): Promise<ConnectResult> {
  const { dialect, jwtSecret } = settings();
  const secret = new TextEncoder().encode(jwtSecret);
  // Tokens are minted before the clock starts: the host back end mints them, not the client.
  const tokens = dialect === "parley" ? await Promise.all(params.users.map((u) => mint(u.userId, secret))) : [];
  const latency = new Histogram();
  const errors: Tally = {};
  let failed = 0;
  let next = 0;
  const started = performance.now();
  const lane = async () => {
    while (next < params.users.length) {
      const i = next++;
      const user = params.users[i]!;
      const t0 = performance.now();
      try {
        clients.push(await connectOne(user, tokens[i] ?? null, params.timeoutMs));
        latency.record(performance.now() - t0);
      } catch (err) {
        failed++;
        tally(errors, (err as Error).message);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, params.concurrency) }, lane));
  const elapsedMs = performance.now() - started;

  // Members' positions within their conversation, for duplicate detection.
  conversationSize.clear();
  for (const client of clients) {
    const id = client.user.conversations[0];
    if (id === undefined) continue;
    const n = conversationSize.get(id) ?? 0;
    client.position = n;
    conversationSize.set(id, n + 1);
  }
  return { connected: clients.length, failed, errors, elapsedMs, latency: latency.toData() };
}

// ---- fanout --------------------------------------------------------------------

/** Deliveries of fanout messages whose step had already been counted. */
let lateDeliveries = 0;
let reportedLate = 0;
const countLate: MessageSink = () => {
  lateDeliveries++;
};

/** Distinct texts a worker sends in a step, in turn. */
const TEXTS_PER_STEP = 512;

async function fanoutStep(params: FanoutStepParams): Promise<FanoutStepResult> {
  const { worker } = settings();
  const senders = clients.filter((c) => c.socket.connected && c.user.conversations.length > 0);
  if (senders.length === 0) throw new Error("no connected clients to send from");
  // Senders take turns in an order unrelated to their conversations, as the
  // users of a busy service do. In the order users were made, the members of
  // a conversation sat next to each other and sent within a few milliseconds
  // of one another, every turn: one commit group then held several sends of
  // each conversation, which costs a storing server less than sends from as
  // many conversations (measured at 3,000 msg/s: Parley's server at 61 and
  // 64 % of a core in that order, 71 and 74 % in this one; the relay 35 to
  // 41 % either way).
  const next = seededRandom(params.step * 7919 + worker + 1);
  for (let i = senders.length - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    [senders[i], senders[j]] = [senders[j]!, senders[i]!];
  }
  const prefix = `${worker}.${params.step}.`;
  const texts = chatTexts(Math.max(1, params.textBytes), TEXTS_PER_STEP, params.step * 1009 + worker);
  const inFlight = new Map<string, InFlight>();
  const latency = new Histogram();
  const ackLatency = new Histogram();
  const sendLag = new Histogram();
  const ackErrors: Tally = {};
  let delivered = 0;
  let duplicated = 0;
  let outstanding = 0;
  let acked = 0;
  let finish: (() => void) | null = null;

  const settle = (m: InFlight) => {
    if (m.ack !== "pending" && m.received >= m.members) {
      outstanding--;
      if (outstanding === 0 && finish) finish();
    }
  };

  sink = (client, message, at) => {
    const key = message.clientId;
    const m = key === null ? undefined : inFlight.get(key);
    if (!m) {
      lateDeliveries++;
      return;
    }
    const flag = client.position;
    if (m.flags[flag]) {
      duplicated++;
      return;
    }
    m.flags[flag] = 1;
    m.received++;
    delivered++;
    latency.record(at - m.sentAt);
    settle(m);
  };

  const total = Math.floor((params.rate * params.durationMs) / 1000);
  let sent = 0;
  let rr = 0;
  const started = performance.now();
  const sendOne = (now: number) => {
    const client = senders[rr++ % senders.length]!;
    const conversationId = client.user.conversations[0]!;
    const clientId = prefix + sent;
    const members = conversationSize.get(conversationId) ?? 1;
    const m: InFlight = { sentAt: now, members, received: 0, flags: new Uint8Array(members), ack: "pending" };
    inFlight.set(clientId, m);
    outstanding++;
    sendLag.record(now - (started + (sent / params.rate) * 1000));
    (client.socket.timeout(params.durationMs + params.drainMs) as unknown as LooseEmitter).emit(
      "message:send",
      { conversationId, clientId, text: texts[sent % TEXTS_PER_STEP] },
      (err, response) => {
        if (!err && response.ok) {
          m.ack = "ok";
          acked++;
          ackLatency.record(performance.now() - m.sentAt);
        } else {
          m.ack = "error";
          tally(ackErrors, err ? "timeout" : response.ok ? "?" : response.error.code);
          // A refused message owes no deliveries.
          m.members = m.received;
        }
        settle(m);
      },
    );
  };

  await new Promise<void>((resolve) => {
    const tick = () => {
      const now = performance.now();
      const elapsed = now - started;
      const due = Math.min(total, Math.floor((Math.min(elapsed, params.durationMs) / 1000) * params.rate));
      while (sent < due) {
        sendOne(performance.now());
        sent++;
      }
      if (elapsed >= params.durationMs) resolve();
      else setTimeout(tick, TICK_MS);
    };
    tick();
  });
  const sendWindowMs = performance.now() - started;

  if (outstanding > 0) {
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, params.drainMs);
      finish = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }
  sink = countLate;

  const late = lateDeliveries - reportedLate;
  reportedLate = lateDeliveries;
  let expected = 0;
  let lost = 0;
  let unacked = 0;
  for (const m of inFlight.values()) {
    if (m.ack === "pending") unacked++;
    if (m.ack !== "ok") continue;
    expected += m.members;
    lost += m.members - m.received;
  }
  return {
    sent,
    sendRate: (sent / sendWindowMs) * 1000,
    acked,
    ackErrors,
    unacked,
    expected,
    delivered,
    lost,
    duplicated,
    late,
    sendWindowMs,
    latency: latency.toData(),
    ackLatency: ackLatency.toData(),
    sendLag: sendLag.toData(),
  };
}

// ---- request/response (history, sync, one page per client) ---------------------

async function requests(params: RequestsParams): Promise<RequestsResult> {
  const usable = clients.filter((c) => c.socket.connected);
  if (usable.length === 0) throw new Error("no connected clients");
  const byLabel: Record<string, { latency: Histogram; errors: Tally; messages: number }> = {};
  let next = 0;
  const lane = async () => {
    while (next < params.items.length) {
      // Clients take turns, so requests spread evenly over users.
      const index = next++;
      const item = params.items[index]!;
      const client = usable[index % usable.length]!;
      const entry = (byLabel[item.label] ??= { latency: new Histogram(), errors: {}, messages: 0 });
      const t0 = performance.now();
      const outcome = await new Promise<{ err: Error | null; response?: Ack<{ messages?: unknown[] }> }>((resolve) => {
        (client.socket.timeout(params.timeoutMs) as unknown as LooseEmitter).emit(item.event, item.payload, (err, response) =>
          resolve({ err, response: response as Ack<{ messages?: unknown[] }> }),
        );
      });
      if (outcome.err) tally(entry.errors, "timeout");
      else if (!outcome.response?.ok) tally(entry.errors, outcome.response?.error.code ?? "?");
      else {
        entry.latency.record(performance.now() - t0);
        entry.messages += outcome.response.data.messages?.length ?? 0;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, params.concurrency) }, lane));
  const result: RequestsResult = { byLabel: {} };
  for (const [label, e] of Object.entries(byLabel)) {
    result.byLabel[label] = { latency: e.latency.toData(), errors: e.errors, messages: e.messages };
  }
  return result;
}

// ---- drop and reconnect ----------------------------------------------------------

function startTracking(): void {
  sink = (client, message) => {
    if (client.seen.has(message.id)) reconnectDuplicates++;
    else client.seen.add(message.id);
  };
}

let reconnectDuplicates = 0;

async function drop(): Promise<{ dropped: number }> {
  startTracking();
  let dropped = 0;
  for (const client of clients) {
    if (client.socket.connected) dropped++;
    client.socket.disconnect();
  }
  return { dropped };
}

function emitWithAck<T>(socket: ClientSocket, event: string, payload: unknown, timeoutMs: number): Promise<Ack<T>> {
  return new Promise((resolve, reject) => {
    (socket.timeout(timeoutMs) as unknown as LooseEmitter).emit(event, payload, (err, response) => {
      if (err) reject(err);
      else resolve(response as Ack<T>);
    });
  });
}

async function reconnect(params: ReconnectParams): Promise<ReconnectResult> {
  const { dialect } = settings();
  const catchUp = new Histogram();
  const syncErrors: Tally = {};
  let syncCalls = 0;
  let synced = 0;
  let connectErrors = 0;
  let caughtUp = 0;
  let lastDoneAt = 0;
  const started = performance.now();
  reconnectDuplicates = 0;

  const syncConversation = async (client: SimClient, conversationId: string, serverLastSeq: number) => {
    let afterSeq = client.lastSeq.get(conversationId) ?? 0;
    if (serverLastSeq <= afterSeq) return;
    for (let page = 0; page < 10_000; page++) {
      syncCalls++;
      const ack = await emitWithAck<SyncPage>(
        client.socket,
        "conversation:sync",
        { conversationId, afterSeq, limit: params.syncLimit },
        params.timeoutMs,
      );
      if (!ack.ok) throw new Error(ack.error.code);
      for (const message of ack.data.messages) {
        synced++;
        if (client.seen.has(message.id)) reconnectDuplicates++;
        else client.seen.add(message.id);
      }
      const last = ack.data.messages[ack.data.messages.length - 1];
      if (ack.data.hasMore && last) {
        afterSeq = last.revSeq;
        continue;
      }
      client.lastSeq.set(conversationId, Math.max(ack.data.lastSeq, client.lastSeq.get(conversationId) ?? 0));
      return;
    }
  };

  const done = new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, params.timeoutMs);
    const complete = () => {
      caughtUp++;
      lastDoneAt = performance.now();
      catchUp.record(lastDoneAt - started);
      if (caughtUp === clients.length) {
        clearTimeout(timer);
        resolve();
      }
    };
    for (const client of clients) {
      let finished = false;
      client.onSession = (session) => {
        if (finished) return;
        if (dialect === "relay") {
          finished = true;
          complete();
          return;
        }
        Promise.all(session.conversations.map((c) => syncConversation(client, c.id, c.lastSeq))).then(
          () => {
            if (finished) return;
            finished = true;
            complete();
          },
          (err: unknown) => tally(syncErrors, (err as Error).message),
        );
      };
      client.socket.on("connect_error", () => {
        connectErrors++;
      });
      // A client whose reconnect fails retries the way the SDK does: backoff with jitter.
      client.socket.io.reconnection(true);
      client.socket.io.reconnectionDelay(500);
      client.socket.io.reconnectionDelayMax(5000);
    }
    if (clients.length === 0) resolve();
  });
  for (const client of clients) client.socket.connect();
  await done;

  let missed = 0;
  for (const client of clients) {
    for (const conversationId of client.user.conversations) {
      for (const id of params.expected[conversationId] ?? []) if (!client.seen.has(id)) missed++;
    }
    client.onSession = null;
  }
  sink = null;
  return {
    clients: clients.length,
    caughtUp,
    elapsedMs: (caughtUp === clients.length ? lastDoneAt : performance.now()) - started,
    catchUp: catchUp.toData(),
    syncCalls,
    syncErrors,
    connectErrors,
    missed,
    duplicated: reconnectDuplicates,
    synced,
  };
}

// ---- lifecycle ----------------------------------------------------------------------

async function closeAll(): Promise<{ closed: number }> {
  const closed = clients.length;
  for (const client of clients) {
    client.socket.io.reconnection(false);
    client.socket.disconnect();
  }
  clients.length = 0;
  conversationSize.clear();
  sink = null;
  return { closed };
}

serveRpc({
  init: async (params: WorkerInit) => {
    init = params;
    return null;
  },
  connect,
  fanoutStep,
  requests,
  drop,
  reconnect,
  closeAll,
  stats: async () => readProcessStats(clients.filter((c) => c.socket.connected).length),
  stop: async () => {
    await closeAll();
    setTimeout(() => process.exit(0), 10);
    return null;
  },
});
sendNotice("ready", { pid: process.pid });
