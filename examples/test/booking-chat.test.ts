import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Message } from "@parley/protocol";
import { bookingBackends, issuersConfig, openBookingChat } from "../booking-chat/host.js";
import { BOOKING, playBookingChat } from "../booking-chat/story.js";
import { ParleyApi } from "../lib/parley-api.js";
import { signIn } from "../lib/sign-in.js";
import { mintChatToken } from "../lib/tokens.js";
import { Transcript } from "../lib/transcript.js";
import { startParley, type RunningParley } from "./support/parley.js";

const secrets = { user: "user-backend-test-secret-0123456789", bartender: "bartender-backend-test-secret-0123456789" };
const QUESTION = "Hi Sam! Could you bring fresh mint for the mojitos?";
const ANSWER = "Sure, mint and limes are on my list. See you at 7!";

/** Who said what, leaving out "… joined" lines. */
const said = (messages: ReadonlyArray<Pick<Message, "type" | "senderId" | "senderName" | "text">>) =>
  messages.filter((m) => m.type !== "system").map((m) => [m.senderId, m.senderName, m.text]);

describe("booking chat (seed 000): two back ends, one chat per booking", () => {
  let parley: RunningParley;

  beforeAll(async () => {
    parley = await startParley({ jwtIssuers: JSON.parse(issuersConfig(bookingBackends(secrets))) });
  });
  afterAll(() => parley.close());

  it("user:7 and bartender:7 chat in booking:42, the host reads the history by REST, user:8 gets nowhere", async () => {
    const result = await playBookingChat({ parley, secrets, transcript: new Transcript({ print: false }) });

    expect(result.conversation).toMatchObject({ kind: "group", ref: "booking:42", title: "Booking #42" });
    expect(result.members.map((m) => m.userId).sort()).toEqual(["bartender:7", "user:7"]);

    const conversation = [
      ["user:7", "Alex", QUESTION],
      ["bartender:7", "Sam", ANSWER],
    ];
    expect(said(result.customerScreen)).toEqual(conversation);
    expect(said(result.bartenderScreen)).toEqual(conversation);
    expect(said(result.history)).toEqual(conversation);
    expect(result.history.map((m) => m.conversationId)).toEqual([result.conversation.id, result.conversation.id]);

    expect(result.outsider).toEqual({
      // A ref is the host's key and guessable: to an outsider it names nothing.
      findByRef: "not_found",
      join: "forbidden",
      open: "forbidden",
      send: "forbidden",
      restRead: "forbidden",
      restSend: "forbidden",
    });

    // Parley knows two people with id 7, by the back end that vouched for them, and nobody else got in.
    const api = new ParleyApi({ url: parley.url, credential: parley.apiKey });
    const { members } = await api.conversationByRef("booking:42");
    expect(members.map((m) => [m.userId, m.name]).sort()).toEqual([
      ["bartender:7", "Sam"],
      ["user:7", "Alex"],
    ]);
    expect(said(await api.allMessages(result.conversation.id))).toEqual(conversation);
  });

  it("creating the booking's chat again (a retry, or the other back end) returns the same conversation", async () => {
    const api = new ParleyApi({ url: parley.url, credential: parley.apiKey });
    const backends = bookingBackends(secrets);
    const first = await openBookingChat(api, backends, { ...BOOKING, id: 43 });
    const again = await openBookingChat(api, backends, { ...BOOKING, id: 43 });
    expect(first.created).toBe(true);
    expect(again.created).toBe(false);
    expect(again.conversation.id).toBe(first.conversation.id);
  });

  it("refuses a token that claims one back end's issuer but is signed with another's secret", async () => {
    const forged = () => mintChatToken(secrets.bartender, { id: "7", name: "Not Alex" }, { issuer: "user-backend" });
    await expect(signIn(parley.url, forged)).rejects.toThrow(/refused the token.*\(invalid\)/);
  });
});
