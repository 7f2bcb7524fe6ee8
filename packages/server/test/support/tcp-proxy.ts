import net from "node:net";
import type { AddressInfo } from "node:net";

/**
 * A TCP proxy the test controls: forwards to the first target that accepts
 * (trying them in turn, as a load balancer fails over), can be cut (every
 * open connection destroyed, new ones refused) and restored on the same port.
 */
export class TcpProxy {
  #targets: Array<{ host: string; port: number }>;
  #server: net.Server | null = null;
  #port = 0;
  #next = 0;
  readonly #open = new Set<net.Socket>();
  /** Connections accepted since the start. */
  accepted = 0;

  constructor(targets: Array<{ host: string; port: number }>) {
    this.#targets = targets;
  }

  get port(): number {
    return this.#port;
  }

  setTargets(targets: Array<{ host: string; port: number }>): void {
    this.#targets = targets;
  }

  async start(port = this.#port): Promise<number> {
    const server = net.createServer((client) => this.#accept(client));
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, "127.0.0.1", () => resolve());
    });
    this.#server = server;
    this.#port = (server.address() as AddressInfo).port;
    return this.#port;
  }

  #accept(client: net.Socket): void {
    this.accepted++;
    this.#open.add(client);
    client.on("close", () => this.#open.delete(client));
    client.on("error", () => client.destroy());
    client.pause();
    const tryTarget = (attempt: number) => {
      if (attempt >= this.#targets.length) {
        client.destroy();
        return;
      }
      const target = this.#targets[this.#next++ % this.#targets.length]!;
      const upstream = net.connect(target.port, target.host);
      const onError = () => {
        upstream.destroy();
        tryTarget(attempt + 1);
      };
      upstream.once("error", onError);
      upstream.once("connect", () => {
        upstream.off("error", onError);
        this.#open.add(upstream);
        upstream.on("close", () => {
          this.#open.delete(upstream);
          client.destroy();
        });
        upstream.on("error", () => upstream.destroy());
        client.on("close", () => upstream.destroy());
        client.pipe(upstream);
        upstream.pipe(client);
        client.resume();
      });
    };
    tryTarget(0);
  }

  /** Drops every connection and refuses new ones until {@link restore}. */
  async cut(): Promise<void> {
    const server = this.#server;
    this.#server = null;
    for (const socket of this.#open) socket.destroy();
    this.#open.clear();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  async restore(): Promise<void> {
    await this.start(this.#port);
  }

  async close(): Promise<void> {
    await this.cut();
  }
}
