import net from "node:net";

/**
 * The little of Redis the bench needs itself: check that it answers, and
 * count or remove the keys under a run's prefix. Parley's nodes bring their
 * own client; this speaks RESP over one socket so the bench needs no
 * dependency of its own for it.
 */

type Reply = string | number | null | Reply[];

class RespError extends Error {}

/** Parses one reply starting at `at`; `null` when the buffer does not hold all of it yet. */
function parse(buf: Buffer, at: number): { value: Reply | RespError; next: number } | null {
  const eol = buf.indexOf("\r\n", at);
  if (eol < 0) return null;
  const kind = String.fromCharCode(buf[at]!);
  const line = buf.toString("utf8", at + 1, eol);
  const after = eol + 2;
  switch (kind) {
    case "+":
      return { value: line, next: after };
    case "-":
      return { value: new RespError(line), next: after };
    case ":":
      return { value: Number(line), next: after };
    case "$": {
      const len = Number(line);
      if (len < 0) return { value: null, next: after };
      if (buf.length < after + len + 2) return null;
      return { value: buf.toString("utf8", after, after + len), next: after + len + 2 };
    }
    case "*": {
      const count = Number(line);
      if (count < 0) return { value: null, next: after };
      const items: Reply[] = [];
      let next = after;
      for (let i = 0; i < count; i++) {
        const item = parse(buf, next);
        if (!item) return null;
        if (item.value instanceof RespError) return item;
        items.push(item.value);
        next = item.next;
      }
      return { value: items, next };
    }
    default:
      throw new Error(`unexpected Redis reply type "${kind}"`);
  }
}

function encode(args: string[]): string {
  return `*${args.length}\r\n` + args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join("");
}

/** One connection that sends a command at a time. */
class MiniRedis {
  private buffer = Buffer.alloc(0);
  private waiting: { resolve: (r: Reply) => void; reject: (e: Error) => void } | null = null;
  private failure: Error | null = null;

  private constructor(private readonly socket: net.Socket) {
    socket.on("data", (chunk: Buffer) => {
      this.buffer = Buffer.concat([this.buffer, chunk]);
      this.drain();
    });
    const fail = (err: Error) => {
      this.failure = err;
      this.waiting?.reject(err);
      this.waiting = null;
    };
    socket.on("error", fail);
    socket.on("close", () => fail(new Error("Redis closed the connection")));
  }

  static async open(url: string, timeoutMs = 3000): Promise<MiniRedis> {
    const u = new URL(url);
    if (u.protocol !== "redis:") throw new Error(`only redis:// URLs are supported, not ${u.protocol}`);
    const socket = net.connect({ host: u.hostname || "127.0.0.1", port: Number(u.port || 6379) });
    socket.setTimeout(timeoutMs, () => socket.destroy(new Error(`no answer from ${u.host} within ${timeoutMs} ms`)));
    await new Promise<void>((resolve, reject) => {
      socket.once("connect", resolve);
      socket.once("error", reject);
    });
    const client = new MiniRedis(socket);
    if (u.password) {
      const user = decodeURIComponent(u.username);
      const password = decodeURIComponent(u.password);
      await client.command(user ? ["AUTH", user, password] : ["AUTH", password]);
    }
    const db = u.pathname.replace(/^\//, "");
    if (db) await client.command(["SELECT", db]);
    return client;
  }

  private drain(): void {
    if (!this.waiting) return;
    const reply = parse(this.buffer, 0);
    if (!reply) return;
    this.buffer = this.buffer.subarray(reply.next);
    const { resolve, reject } = this.waiting;
    this.waiting = null;
    if (reply.value instanceof RespError) reject(reply.value);
    else resolve(reply.value);
  }

  command(args: string[]): Promise<Reply> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.waiting) return Promise.reject(new Error("one command at a time"));
    return new Promise((resolve, reject) => {
      this.waiting = { resolve, reject };
      this.socket.write(encode(args));
    });
  }

  close(): void {
    this.socket.destroy();
  }
}

/** Checks that Redis answers at `url`; resolves to the reason when it does not. */
export async function redisProblem(url: string): Promise<string | null> {
  let client: MiniRedis | null = null;
  try {
    client = await MiniRedis.open(url);
    const pong = await client.command(["PING"]);
    return pong === "PONG" ? null : `PING answered ${JSON.stringify(pong)}`;
  } catch (err) {
    return (err as Error).message;
  } finally {
    client?.close();
  }
}

/** Visits every key that starts with `prefix` (SCAN, so Redis is never blocked for long). */
async function eachKeyBatch(url: string, prefix: string, visit: (client: MiniRedis, keys: string[]) => Promise<void>): Promise<void> {
  if (!prefix) throw new Error("refusing an empty key prefix");
  const pattern = prefix.replace(/[*?[\]\\]/g, (c) => `\\${c}`) + "*";
  const client = await MiniRedis.open(url);
  try {
    let cursor = "0";
    do {
      const reply = (await client.command(["SCAN", cursor, "MATCH", pattern, "COUNT", "500"])) as [string, string[]];
      cursor = reply[0];
      if (reply[1].length > 0) await visit(client, reply[1]);
    } while (cursor !== "0");
  } finally {
    client.close();
  }
}

/** How many keys start with `prefix`. */
export async function countRedisKeys(url: string, prefix: string): Promise<number> {
  const seen = new Set<string>();
  await eachKeyBatch(url, prefix, async (_client, keys) => {
    for (const k of keys) seen.add(k);
  });
  return seen.size;
}

/** Removes every key that starts with `prefix`; resolves to how many there were. */
export async function deleteRedisKeys(url: string, prefix: string): Promise<number> {
  let deleted = 0;
  await eachKeyBatch(url, prefix, async (client, keys) => {
    deleted += (await client.command(["DEL", ...keys])) as number;
  });
  return deleted;
}
