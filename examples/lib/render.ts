import type { Message } from "@parley/protocol";

/** What a message looks like on screen (as text, never as HTML). */
export interface ShownMessage {
  senderName: string;
  type: Message["type"];
  text: string | null;
  attachments: Message["attachments"];
  editedAt: string | null;
  deletedAt: string | null;
}

/** One line for a message: `Sam: See you at 7`, `Alex: [image venue.png 4×3]`, `— Morgan (moderator) joined —`. */
export function renderMessage(m: ShownMessage): string {
  if (m.type === "system") return `— ${m.text ?? ""} —`;
  if (m.deletedAt !== null) return `${m.senderName}: (message deleted)`;
  const files = m.attachments.map((a) => `[${m.type === "image" ? "image" : "file"} ${a.name}${a.width && a.height ? ` ${a.width}×${a.height}` : ""}]`);
  const body = [m.text ?? "", ...files].filter(Boolean).join(" ");
  return `${m.senderName}: ${body}${m.editedAt !== null ? " (edited)" : ""}`;
}

/** The error code of a refused call, or `"allowed"` when it went through. */
export async function refusal(attempt: Promise<unknown>): Promise<string> {
  try {
    await attempt;
    return "allowed";
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    return typeof code === "string" ? code : String(err);
  }
}
