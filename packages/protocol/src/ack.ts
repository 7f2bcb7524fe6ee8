import type { ErrorPayload } from "./errors.js";

/** A successful acknowledgement: `data` is `null` where nothing is returned. */
export interface AckOk<T> {
  ok: true;
  data: T;
}

/** A failed acknowledgement. */
export interface AckError {
  ok: false;
  error: ErrorPayload;
}

/** What every client→server event answers through its acknowledgement. */
export type Ack<T> = AckOk<T> | AckError;

/** The acknowledgement callback every client→server event takes last. */
export type AckCallback<T> = (response: Ack<T>) => void;
