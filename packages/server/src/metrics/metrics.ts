import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";

/** Parley's Prometheus metrics, in a registry of their own. */
export class Metrics {
  readonly registry = new Registry();
  readonly connections: Gauge;
  readonly events: Counter<"event" | "outcome">;
  readonly eventSeconds: Histogram<"event">;
  readonly messagesStored: Counter;
  readonly httpSeconds: Histogram<"method" | "route" | "status">;
  readonly webhookPending: Gauge;
  readonly webhookAttempts: Counter<"outcome">;
  /** Reads the outbox size when metrics are scraped (set by the webhook dispatcher). */
  countPendingWebhooks: () => Promise<number> = async () => 0;

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: "parley_process_" });
    this.connections = new Gauge({ name: "parley_socket_connections", help: "Connected sockets on this node", registers: [this.registry] });
    this.events = new Counter({
      name: "parley_socket_events_total",
      help: "Client events handled, by event and outcome (ok or an error code)",
      labelNames: ["event", "outcome"],
      registers: [this.registry],
    });
    this.eventSeconds = new Histogram({
      name: "parley_socket_event_seconds",
      help: "Time from receiving a client event to acknowledging it",
      labelNames: ["event"],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [this.registry],
    });
    this.messagesStored = new Counter({ name: "parley_messages_stored_total", help: "Messages stored", registers: [this.registry] });
    this.httpSeconds = new Histogram({
      name: "parley_http_request_seconds",
      help: "HTTP request duration",
      labelNames: ["method", "route", "status"],
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [this.registry],
    });
    const countPending = () => this.countPendingWebhooks();
    this.webhookPending = new Gauge({
      name: "parley_webhooks_pending",
      help: "Webhooks waiting to be delivered",
      registers: [this.registry],
      async collect() {
        this.set(await countPending());
      },
    });
    this.webhookAttempts = new Counter({
      name: "parley_webhook_attempts_total",
      help: "Webhook delivery attempts by outcome",
      labelNames: ["outcome"],
      registers: [this.registry],
    });
  }
}
