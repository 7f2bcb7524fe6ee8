import net from "node:net";

/**
 * A TCP proxy between a client and a server that a test can cut, like a
 * network that goes away: `cut()` destroys every connection and stops
 * accepting (new connections are refused), `restore()` listens again on the
 * same port. `dropDownstream(true)` keeps connections open but throws away
 * what the server sends, so a request reaches the server and its answer is
 * lost.
 */
export interface TcpProxy {
  readonly port: number;
  /** `http://localhost:<port>` */
  readonly url: string;
  /** Connections accepted since the proxy started. */
  readonly accepted: number;
  cut(): Promise<void>;
  restore(): Promise<void>;
  dropDownstream(drop: boolean): void;
  close(): Promise<void>;
}

export async function startTcpProxy(targetPort: number): Promise<TcpProxy> {
  const sockets = new Set<net.Socket>();
  let server: net.Server | null = null;
  let port = 0;
  let accepted = 0;
  let dropping = false;

  function listen(): Promise<void> {
    const s = net.createServer((client) => {
      accepted += 1;
      const upstream = net.connect(targetPort, "127.0.0.1");
      sockets.add(client);
      sockets.add(upstream);
      client.on("data", (chunk) => upstream.write(chunk));
      upstream.on("data", (chunk) => {
        if (!dropping) client.write(chunk);
      });
      const end = () => {
        client.destroy();
        upstream.destroy();
        sockets.delete(client);
        sockets.delete(upstream);
      };
      client.on("close", end);
      upstream.on("close", end);
      client.on("error", end);
      upstream.on("error", end);
    });
    server = s;
    return new Promise((resolve, reject) => {
      s.once("error", reject);
      s.listen(port, "127.0.0.1", () => {
        port = (s.address() as net.AddressInfo).port;
        resolve();
      });
    });
  }

  async function cut(): Promise<void> {
    const s = server;
    server = null;
    for (const socket of sockets) socket.destroy();
    sockets.clear();
    if (s) await new Promise<void>((resolve) => s.close(() => resolve()));
  }

  await listen();
  return {
    get port() {
      return port;
    },
    get url() {
      return `http://localhost:${port}`;
    },
    get accepted() {
      return accepted;
    },
    cut,
    async restore() {
      dropping = false;
      if (!server) await listen();
    },
    dropDownstream(drop) {
      dropping = drop;
    },
    close: cut,
  };
}
