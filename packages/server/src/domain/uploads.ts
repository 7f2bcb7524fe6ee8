import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import type { Readable } from "node:stream";
import type { Attachment, Message } from "@parley/protocol";
import { imageSize } from "image-size";
import type { Config } from "../config/config.js";
import type { Storage } from "../storage/database.js";
import type { FileStore } from "../storage/file-store.js";
import { isoNow } from "../storage/mappers.js";
import type { Db } from "./unit-of-work.js";
import { canRead, loadAccess } from "./access.js";
import { forbidden, invalid, notFound, ParleyError } from "./parley-error.js";
import type { Principal } from "./principal.js";

/** How long a signed attachment URL works. */
const URL_TTL_SECONDS = 3600;

/** An attachment as stored inside a message (its URL is added when presented). */
export type StoredAttachment = Omit<Attachment, "url">;

/** An upload being received: its name, declared type and bytes. */
export interface IncomingFile {
  filename: string;
  mimeType: string;
  stream: Readable;
  /** True once the stream was cut at the size limit. */
  truncated: () => boolean;
}

function matchesType(allowed: readonly string[], mimeType: string): boolean {
  return allowed.some((pattern) =>
    pattern.endsWith("/*") ? mimeType.startsWith(pattern.slice(0, -1)) : pattern === mimeType,
  );
}

/** A file name safe to store and to put in a header: no path separators or control characters. */
function cleanFileName(name: string): string {
  const cleaned = [...(name || "file")].map((ch) => (ch < " " || ch === "/" || ch === "\\" ? "_" : ch)).join("");
  return cleaned.slice(0, 200) || "file";
}

/** Uploads: storing files, attaching them to messages, signed URLs and who may fetch them. */
export class UploadService {
  readonly #storage: Storage;
  readonly #files: FileStore;
  readonly #config: Config;
  readonly #key: Buffer;

  constructor(storage: Storage, files: FileStore, config: Config) {
    this.#storage = storage;
    this.#files = files;
    this.#config = config;
    this.#key = createHmac("sha256", config.jwtSecret).update("parley uploads").digest();
  }

  /** Stores an upload for the caller after checking its type, size and (images) that it decodes. */
  async store(p: Principal, file: IncomingFile): Promise<Attachment> {
    const mimeType = file.mimeType.toLowerCase().split(";")[0]!.trim();
    if (!matchesType(this.#config.uploadTypes, mimeType)) {
      file.stream.resume();
      throw new ParleyError("invalid_argument", `Files of type ${mimeType || "unknown"} are not accepted`, {
        accepted: [...this.#config.uploadTypes],
      });
    }
    const id = randomBytes(16).toString("base64url");
    const size = await this.#files.save(id, file.stream);
    if (file.truncated()) {
      await this.#files.remove(id);
      throw new ParleyError("payload_too_large", `Files may be at most ${this.#config.uploadMaxBytes} bytes`, {
        maxBytes: this.#config.uploadMaxBytes,
      });
    }
    let dimensions: { width: number; height: number } | null = null;
    if (mimeType.startsWith("image/")) {
      try {
        const { width, height } = imageSize(await this.#files.read(id));
        dimensions = { width, height };
      } catch {
        await this.#files.remove(id);
        throw new ParleyError("invalid_argument", "The file is not a readable image");
      }
    }
    const name = cleanFileName(file.filename);
    await this.#storage.db
      .insertInto("uploads")
      .values({
        id,
        owner_id: p.id,
        name,
        mime_type: mimeType,
        size,
        width: dimensions?.width ?? null,
        height: dimensions?.height ?? null,
        created_at: isoNow(),
      })
      .execute();
    return this.withUrl({ id, name, mimeType, size, ...(dimensions ?? {}) });
  }

  /** Checks the uploads a message will carry: the sender's own, existing, not in another message. */
  async resolve(trx: Db, p: Principal, refs: ReadonlyArray<{ id: string }>): Promise<StoredAttachment[]> {
    const ids = [...new Set(refs.map((r) => r.id))];
    if (ids.length === 0) return [];
    const rows = await trx.selectFrom("uploads").selectAll().where("id", "in", ids).execute();
    const byId = new Map(rows.map((r) => [r.id, r]));
    const used = new Set(
      (await trx.selectFrom("message_attachments").select("upload_id").where("upload_id", "in", ids).execute()).map((u) => u.upload_id),
    );
    return ids.map((id) => {
      const row = byId.get(id);
      if (!row || (row.owner_id !== p.id && p.kind !== "system")) throw invalid("Unknown attachment", { id });
      if (used.has(id)) throw invalid("That attachment is already in a message", { id });
      return {
        id,
        name: row.name,
        mimeType: row.mime_type,
        size: Number(row.size),
        ...(row.width !== null && row.height !== null ? { width: row.width, height: row.height } : {}),
      };
    });
  }

  /** Records that a stored message holds these uploads (who may fetch them follows from it). */
  async link(trx: Db, conversationId: string, messageId: string, attachments: readonly StoredAttachment[]): Promise<void> {
    if (attachments.length === 0) return;
    await trx
      .insertInto("message_attachments")
      .values(attachments.map((a) => ({ message_id: messageId, upload_id: a.id, conversation_id: conversationId })))
      .execute();
  }

  /** Unlinks a message's uploads (it was deleted) and removes files no message references any more. */
  async detach(trx: Db, messageId: string): Promise<string[]> {
    const links = await trx.selectFrom("message_attachments").select("upload_id").where("message_id", "=", messageId).execute();
    if (links.length === 0) return [];
    const ids = links.map((l) => l.upload_id);
    await trx.deleteFrom("message_attachments").where("message_id", "=", messageId).execute();
    await trx.deleteFrom("uploads").where("id", "in", ids).execute();
    return ids;
  }

  /** Deletes files once the transaction that forgot them has committed. */
  /** Forgets an upload no message holds yet (its request turned out to be refused): the row and the file. */
  async discard(id: string): Promise<void> {
    const linked = await this.#storage.db.selectFrom("message_attachments").select("upload_id").where("upload_id", "=", id).executeTakeFirst();
    if (linked) return;
    await this.#storage.db.deleteFrom("uploads").where("id", "=", id).execute();
    await this.#files.remove(id);
  }

  async removeFiles(ids: readonly string[]): Promise<void> {
    await Promise.all(ids.map((id) => this.#files.remove(id)));
  }

  /** A message as clients receive it: each attachment with a fresh signed URL. */
  present(message: Message): Message {
    if (message.attachments.length === 0) return message;
    return { ...message, attachments: message.attachments.map((a) => this.withUrl(a)) };
  }

  withUrl(attachment: StoredAttachment): Attachment {
    const expires = Math.floor(Date.now() / 1000) + URL_TTL_SECONDS;
    const path = `/v1/uploads/${attachment.id}?expires=${expires}&sig=${this.#sign(attachment.id, expires)}`;
    return { ...attachment, url: (this.#config.publicUrl ?? "") + path };
  }

  #sign(id: string, expires: number): string {
    return createHmac("sha256", this.#key).update(`${id}.${expires}`).digest("base64url");
  }

  /** True when `sig` is this server's signature of `id` until `expires`, and it has not passed. */
  verifySignature(id: string, expires: number, sig: string): boolean {
    if (!Number.isInteger(expires) || expires < Date.now() / 1000) return false;
    const expected = Buffer.from(this.#sign(id, expires));
    const given = Buffer.from(sig);
    return expected.length === given.length && timingSafeEqual(expected, given);
  }

  /** The upload's metadata if `p` may fetch it: its owner, or a reader of a conversation whose message holds it. */
  async authorize(p: Principal | null, id: string): Promise<StoredAttachment> {
    const row = await this.#storage.db.selectFrom("uploads").selectAll().where("id", "=", id).executeTakeFirst();
    if (!row) throw notFound("No such upload");
    if (p && row.owner_id !== p.id) {
      const links = await this.#storage.db.selectFrom("message_attachments").select("conversation_id").where("upload_id", "=", id).execute();
      let allowed = false;
      for (const link of links) {
        if (canRead(p, await loadAccess(this.#storage, p, link.conversation_id))) {
          allowed = true;
          break;
        }
      }
      if (!allowed) throw forbidden("You may not fetch this file");
    }
    return {
      id: row.id,
      name: row.name,
      mimeType: row.mime_type,
      size: Number(row.size),
      ...(row.width !== null && row.height !== null ? { width: row.width, height: row.height } : {}),
    };
  }

  open(id: string): Readable {
    return this.#files.open(id);
  }
}
