import type { ChildProcess } from "node:child_process";

/** A call from the bench to one of its child processes. */
export interface RpcRequest {
  kind: "call";
  id: number;
  method: string;
  params: unknown;
}

/** The child's answer to an {@link RpcRequest}. */
export interface RpcResponse {
  kind: "reply";
  id: number;
  ok: boolean;
  result?: unknown;
  error?: string;
}

/** Something a child says on its own, such as "ready". */
export interface RpcNotice {
  kind: "notice";
  name: string;
  data: unknown;
}

type ChildMessage = RpcResponse | RpcNotice;

interface Pending {
  resolve: (value: unknown) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
}

/**
 * The parent's end of a child process: calls with a time limit each, and
 * notices. Every pending call fails when the child exits.
 */
export class RpcClient {
  readonly child: ChildProcess;
  readonly name: string;
  #next = 1;
  readonly #pending = new Map<number, Pending>();
  readonly #noticeWaiters = new Map<string, Array<(data: unknown) => void>>();
  #exited: string | null = null;

  constructor(child: ChildProcess, name: string) {
    this.child = child;
    this.name = name;
    child.on("message", (raw: unknown) => this.#onMessage(raw as ChildMessage));
    child.on("exit", (code, signal) => {
      this.#exited = `${name} exited (${signal ?? `code ${String(code)}`})`;
      for (const [id, p] of this.#pending) {
        clearTimeout(p.timer);
        p.reject(new Error(this.#exited));
        this.#pending.delete(id);
      }
    });
  }

  #onMessage(message: ChildMessage): void {
    if (message.kind === "reply") {
      const p = this.#pending.get(message.id);
      if (!p) return;
      this.#pending.delete(message.id);
      clearTimeout(p.timer);
      if (message.ok) p.resolve(message.result);
      else p.reject(new Error(`${this.name}: ${message.error ?? "failed"}`));
    } else if (message.kind === "notice") {
      const waiters = this.#noticeWaiters.get(message.name) ?? [];
      this.#noticeWaiters.delete(message.name);
      for (const w of waiters) w(message.data);
    }
  }

  /** Calls `method` in the child; rejects after `timeoutMs` or when the child exits. */
  call<T>(method: string, params: unknown, timeoutMs: number): Promise<T> {
    if (this.#exited) return Promise.reject(new Error(this.#exited));
    const id = this.#next++;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new Error(`${this.name}: ${method} took longer than ${timeoutMs} ms`));
      }, timeoutMs);
      this.#pending.set(id, { resolve: resolve as (value: unknown) => void, reject, timer });
      const request: RpcRequest = { kind: "call", id, method, params };
      this.child.send(request);
    });
  }

  /** Resolves with the data of the child's next notice called `name`. */
  notice<T>(name: string, timeoutMs: number): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${this.name}: no "${name}" within ${timeoutMs} ms`)), timeoutMs);
      timer.unref();
      const onExit = () => {
        clearTimeout(timer);
        reject(new Error(this.#exited ?? `${this.name} exited`));
      };
      this.child.once("exit", onExit);
      const list = this.#noticeWaiters.get(name) ?? [];
      list.push((data) => {
        clearTimeout(timer);
        this.child.off("exit", onExit);
        resolve(data as T);
      });
      this.#noticeWaiters.set(name, list);
    });
  }
}

/** A method a child process answers. */
export type RpcHandler = (params: never) => Promise<unknown>;

/**
 * The child's end: answers calls from the parent with `handlers`, and exits
 * when the parent goes away, so no child outlives a bench run.
 */
export function serveRpc(handlers: Record<string, RpcHandler>): void {
  if (!process.send) throw new Error("this process must be started by the bench (no IPC channel)");
  process.on("disconnect", () => process.exit(0));
  process.on("message", (raw: unknown) => {
    const request = raw as RpcRequest;
    if (request.kind !== "call") return;
    const handler = handlers[request.method];
    const reply = (response: Omit<RpcResponse, "kind" | "id">) => {
      if (process.connected) process.send?.({ kind: "reply", id: request.id, ...response } satisfies RpcResponse);
    };
    if (!handler) {
      reply({ ok: false, error: `unknown method ${request.method}` });
      return;
    }
    (handler as (params: unknown) => Promise<unknown>)(request.params).then(
      (result) => reply({ ok: true, result }),
      (err: unknown) => reply({ ok: false, error: err instanceof Error ? (err.stack ?? err.message) : String(err) }),
    );
  });
}

/** Tells the parent something without being asked. */
export function sendNotice(name: string, data: unknown): void {
  process.send?.({ kind: "notice", name, data } satisfies RpcNotice);
}
