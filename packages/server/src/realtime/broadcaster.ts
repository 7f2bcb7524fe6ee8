import type { Audience, DomainEvent } from "../domain/domain-events.js";
import type { ParleyDomain } from "../domain/parley-domain.js";
import { OPERATORS_ROOM, channelRoom, userRoom, watchRoom } from "./rooms.js";
import type { ParleyIo } from "./socket-types.js";
import type { TypingTracker } from "../typing/typing-tracker.js";

function roomsFor(conversationId: string, audience: Audience): string[] {
  const rooms = audience.userIds.map(userRoom);
  if (audience.watchers) rooms.push(watchRoom(conversationId));
  if (audience.channelMembers) rooms.push(channelRoom(conversationId));
  if (audience.operators) rooms.push(OPERATORS_ROOM);
  return rooms;
}

/**
 * Turns committed domain events into socket emits. One `to(rooms)` call per
 * event, so a socket in several of the rooms still receives it once.
 */
export function startBroadcaster(io: ParleyIo, domain: ParleyDomain, typing: TypingTracker): () => void {
  return domain.events.subscribe((event: DomainEvent) => {
    const conversationId = event.conversation.id;
    // New members of a channel: their sockets (on every node) take its events from this one on.
    if (event.audience.channelMembers && event.audience.joining?.length) {
      io.in(event.audience.joining.map(userRoom)).socketsJoin(channelRoom(conversationId));
    }
    const rooms = roomsFor(conversationId, event.audience);
    if (rooms.length === 0) return;
    const to = io.to(rooms);
    switch (event.type) {
      case "message.created":
        to.emit("message:new", event.message);
        // Sending ends the sender's typing indicator.
        typing.clear(conversationId, event.message.senderId);
        break;
      case "message.updated":
        // Those who hid the message get nothing: their copy stays hidden.
        (event.hiddenFor?.length ? to.except(event.hiddenFor.map(userRoom)) : to).emit("message:updated", event.message);
        break;
      case "message.deleted":
        to.emit("message:deleted", event.message);
        break;
      case "conversation.created":
        to.emit("conversation:created", event.conversation);
        break;
      case "conversation.updated":
        to.emit("conversation:updated", event.conversation);
        break;
      case "member.joined":
        to.emit("member:joined", { conversationId, member: event.member });
        break;
      case "member.left":
        to.emit("member:left", { conversationId, member: event.member });
        // A former member's sockets stop watching what they can no longer read; a channel's stay readable, but its events no longer reach their inbox.
        io.in(userRoom(event.member.userId)).socketsLeave(event.conversation.kind === "channel" ? channelRoom(conversationId) : watchRoom(conversationId));
        break;
      case "conversation.read":
        to.emit("conversation:read", { conversationId, userId: event.userId, seq: event.seq, at: event.at });
        break;
      case "conversation.delivered":
        to.emit("conversation:delivered", { conversationId, userId: event.userId, seq: event.seq });
        break;
    }
  });
}
