/** A server under test, inside its own process. */
export interface RunningTarget {
  /** `http://127.0.0.1:<port>`. */
  readonly url: string;
  /** Open engine.io connections. */
  connections(): number;
  close(): Promise<void>;
}
