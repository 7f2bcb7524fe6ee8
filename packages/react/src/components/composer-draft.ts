import { useSyncExternalStore } from "react";
import { ParleyClientError, type ParleyClient } from "@parley/client";
import type { Attachment } from "@parley/protocol";
import { useParley } from "../parley-context.js";

/** A file the user attached to the message being written. */
export interface DraftUpload {
  /** Stable key for lists. */
  key: string;
  name: string;
  size: number;
  mimeType: string;
  /** A local `blob:` URL to preview an image before it is sent, when the browser gives one. */
  previewUrl: string | null;
  /** Bytes sent so far, of `total`. */
  loaded: number;
  total: number;
  status: "uploading" | "done" | "failed";
  /** Why the upload failed, in words for the user. */
  error: string | null;
  /** The failure may pass on another try (a lost connection), unlike a file too large or of a refused type. */
  retryable: boolean;
  /** The stored attachment, once uploaded. */
  attachment: Attachment | null;
}

/** The message being written in one conversation, shared by the list (Reply, Edit) and the composer. */
export interface ComposerDraftSnapshot {
  /** The text being written (kept while the user looks at other conversations). */
  text: string;
  /** The id of the message being answered. */
  replyTo: string | null;
  /** The id of the user's message being edited inline. */
  editing: string | null;
  uploads: DraftUpload[];
}

/** What {@link useComposerDraft} returns: the draft and what changes it. */
export interface ComposerDraft extends ComposerDraftSnapshot {
  setText(text: string): void;
  setReplyTo(messageId: string | null): void;
  setEditing(messageId: string | null): void;
  /** Attaches files: each starts uploading at once. */
  addFiles(files: Iterable<File | Blob>): void;
  retryUpload(key: string): void;
  removeUpload(key: string): void;
  /** Forgets the uploads that were sent with a message. */
  clearUploads(keys: readonly string[]): void;
}

/** A size in words: 10 MB, 512 KB. */
export function sizeText(bytes: number): string {
  if (bytes >= 1024 * 1024) return `${Number((bytes / (1024 * 1024)).toFixed(1))} MB`;
  if (bytes >= 1024) return `${Math.round(bytes / 1024)} KB`;
  return `${bytes} bytes`;
}

function tooLarge(maxBytes: unknown): string {
  return typeof maxBytes === "number" ? `Too large to send (at most ${sizeText(maxBytes)})` : "Too large to send";
}

/** A failed upload in words: too large (and the limit), a refused type, or the server's own message (an image it could not read). */
export function uploadErrorText(err: unknown): string {
  if (err instanceof ParleyClientError) {
    if (err.code === "payload_too_large") return tooLarge(err.details?.maxBytes);
    if (err.code === "invalid_argument") return err.details?.accepted ? "This type of file can't be sent" : err.message;
    if (err.code === "unavailable") return "Upload failed: no connection";
    return err.message;
  }
  return "Upload failed";
}

let uploadCounter = 0;

/** The largest file each client's server accepts, when known: files over it fail at once, without uploading. */
const uploadLimits = new WeakMap<ParleyClient, number>();

/** Tells the drafts of `client` the server's largest accepted file (see `Composer`'s `maxUploadBytes`). */
export function setUploadLimit(client: ParleyClient, maxBytes: number | undefined): void {
  if (maxBytes === undefined) uploadLimits.delete(client);
  else uploadLimits.set(client, maxBytes);
}

/** One conversation's draft: a small store of its own, so typing re-renders only the composer. */
export class DraftStore {
  #snapshot: ComposerDraftSnapshot = { text: "", replyTo: null, editing: null, uploads: [] };
  readonly #listeners = new Set<() => void>();
  readonly #files = new Map<string, Blob>();
  readonly #aborts = new Map<string, AbortController>();
  readonly #client: ParleyClient;

  constructor(client: ParleyClient) {
    this.#client = client;
  }

  readonly subscribe = (listener: () => void) => {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  };

  readonly getSnapshot = () => this.#snapshot;

  #set(patch: Partial<ComposerDraftSnapshot>): void {
    this.#snapshot = { ...this.#snapshot, ...patch };
    for (const listener of [...this.#listeners]) listener();
  }

  #update(key: string, patch: Partial<DraftUpload>): void {
    if (!this.#snapshot.uploads.some((u) => u.key === key)) return;
    this.#set({ uploads: this.#snapshot.uploads.map((u) => (u.key === key ? { ...u, ...patch } : u)) });
  }

  readonly setText = (text: string) => {
    if (this.#snapshot.text !== text) this.#set({ text });
  };

  readonly setReplyTo = (messageId: string | null) => {
    if (this.#snapshot.replyTo !== messageId) this.#set({ replyTo: messageId });
  };

  readonly setEditing = (messageId: string | null) => {
    if (this.#snapshot.editing !== messageId) this.#set({ editing: messageId });
  };

  readonly addFiles = (files: Iterable<File | Blob>) => {
    const added: DraftUpload[] = [];
    for (const file of files) {
      uploadCounter += 1;
      const key = `upload-${uploadCounter}`;
      const name = (file as { name?: string }).name || "file";
      const mimeType = file.type || "application/octet-stream";
      const previewUrl =
        mimeType.startsWith("image/") && typeof URL.createObjectURL === "function" ? URL.createObjectURL(file) : null;
      this.#files.set(key, file);
      added.push({ key, name, size: file.size, mimeType, previewUrl, loaded: 0, total: file.size, status: "uploading", error: null, retryable: false, attachment: null });
    }
    if (added.length === 0) return;
    // Over the server's limit, when it is known: refused here, not after uploading it all.
    const limit = uploadLimits.get(this.#client);
    const over = (u: DraftUpload) => limit !== undefined && u.size > limit;
    const checked = added.map((u) => (over(u) ? { ...u, status: "failed" as const, error: tooLarge(limit), retryable: false } : u));
    this.#set({ uploads: [...this.#snapshot.uploads, ...checked] });
    for (const upload of checked) if (upload.status === "uploading") this.#start(upload.key);
  };

  #start(key: string): void {
    const file = this.#files.get(key);
    if (!file) return;
    const abort = new AbortController();
    this.#aborts.set(key, abort);
    this.#update(key, { status: "uploading", error: null, loaded: 0 });
    this.#client
      .upload(file, { signal: abort.signal, onProgress: (loaded, total) => this.#update(key, { loaded, total }) })
      .then(
        (attachment) => this.#update(key, { status: "done", attachment, loaded: file.size }),
        (err: unknown) => {
          if (abort.signal.aborted) return;
          const maxBytes = err instanceof ParleyClientError && err.code === "payload_too_large" ? err.details?.maxBytes : undefined;
          if (typeof maxBytes === "number") setUploadLimit(this.#client, maxBytes);
          const permanent = err instanceof ParleyClientError && (err.code === "payload_too_large" || err.code === "invalid_argument");
          this.#update(key, { status: "failed", error: uploadErrorText(err), retryable: !permanent });
        },
      )
      .finally(() => {
        if (this.#aborts.get(key) === abort) this.#aborts.delete(key);
      });
  }

  readonly retryUpload = (key: string) => {
    const upload = this.#snapshot.uploads.find((u) => u.key === key);
    if (upload?.status === "failed") this.#start(key);
  };

  readonly removeUpload = (key: string) => this.clearUploads([key]);

  readonly clearUploads = (keys: readonly string[]) => {
    const gone = new Set(keys);
    for (const upload of this.#snapshot.uploads) {
      if (!gone.has(upload.key)) continue;
      this.#aborts.get(upload.key)?.abort();
      this.#aborts.delete(upload.key);
      this.#files.delete(upload.key);
      if (upload.previewUrl && typeof URL.revokeObjectURL === "function") URL.revokeObjectURL(upload.previewUrl);
    }
    this.#set({ uploads: this.#snapshot.uploads.filter((u) => !gone.has(u.key)) });
  };
}

const drafts = new WeakMap<ParleyClient, Map<string, DraftStore>>();

/** The draft store of one conversation (one per client and conversation). */
export function draftStore(client: ParleyClient, conversationId: string): DraftStore {
  let byId = drafts.get(client);
  if (!byId) {
    byId = new Map();
    drafts.set(client, byId);
  }
  let store = byId.get(conversationId);
  if (!store) {
    store = new DraftStore(client);
    byId.set(conversationId, store);
  }
  return store;
}

/**
 * The message being written in a conversation: the message it replies to,
 * the message being edited, and attached files with their upload progress.
 * `MessageList` and `Composer` share it, so Reply in the list shows in the
 * composer, and ↑ in the composer edits in the list. Use it to attach files
 * dropped anywhere on a page.
 *
 * @example
 * const { addFiles } = useComposerDraft(id);
 * <section onDrop={(e) => { e.preventDefault(); addFiles(e.dataTransfer.files); }}>…</section>
 */
export function useComposerDraft(conversationId: string): ComposerDraft {
  const store = draftStore(useParley(), conversationId);
  const snapshot = useSyncExternalStore(store.subscribe, store.getSnapshot, store.getSnapshot);
  return {
    ...snapshot,
    setText: store.setText,
    setReplyTo: store.setReplyTo,
    setEditing: store.setEditing,
    addFiles: store.addFiles,
    retryUpload: store.retryUpload,
    removeUpload: store.removeUpload,
    clearUploads: store.clearUploads,
  };
}

/**
 * Only the message being edited and the Reply action: what a message list
 * needs, without re-rendering it on every keystroke or upload progress.
 */
export function useDraftEditing(conversationId: string): { editing: string | null; setEditing: (id: string | null) => void; setReplyTo: (id: string | null) => void } {
  const store = draftStore(useParley(), conversationId);
  const getEditing = () => store.getSnapshot().editing;
  const editing = useSyncExternalStore(store.subscribe, getEditing, getEditing);
  return { editing, setEditing: store.setEditing, setReplyTo: store.setReplyTo };
}
