import { MAX_PACKET_BYTES } from "@parley/protocol";
import { ParleyClientError } from "../parley-client-error.js";

/** Room for the Socket.IO packet header and ack id around the JSON body. */
const PACKET_OVERHEAD_BYTES = 32;

const encoder = new TextEncoder();

/** The size in bytes of the packet Socket.IO would send for `event` with `payload`. */
export function packetSize(event: string, payload: unknown): number {
  return encoder.encode(JSON.stringify([event, payload])).length + PACKET_OVERHEAD_BYTES;
}

/**
 * Refuses a payload the transport would refuse. The server drops a socket
 * that sends a packet over 64 KiB, and a client that retried it would be
 * dropped again forever, so it never leaves the SDK.
 */
export function assertPacketFits(event: string, payload: unknown): void {
  const size = packetSize(event, payload);
  if (size > MAX_PACKET_BYTES) {
    throw new ParleyClientError("payload_too_large", `This ${event} is ${size} bytes; the limit is ${MAX_PACKET_BYTES}`, {
      size,
      limit: MAX_PACKET_BYTES,
    });
  }
}
