import type { Attachment, ErrorPayload } from "@parley/protocol";
import { isErrorCode } from "@parley/protocol";
import { ParleyClientError } from "../parley-client-error.js";

/** How to upload one file. */
export interface UploadOptions {
  /** The file name the server stores (and recipients see). @default the `File`'s name, else "file" */
  name?: string;
  /** Called as bytes go out: `loaded` of `total` (browsers only; Node reports once, at the end). */
  onProgress?: (loaded: number, total: number) => void;
  /** Cancels the upload; it then rejects with `unavailable` and `details.cancelled: true`. */
  signal?: AbortSignal;
}

/** Turns a Parley error body (or anything else) into the SDK's error type. */
export function errorFromBody(status: number, body: unknown): ParleyClientError {
  const error = (body as { error?: Partial<ErrorPayload> } | null)?.error;
  if (error && isErrorCode(error.code)) {
    return new ParleyClientError(error.code, typeof error.message === "string" ? error.message : error.code, error.details);
  }
  if (status === 413) return new ParleyClientError("payload_too_large", "The file is too large");
  return new ParleyClientError(status >= 500 ? "unavailable" : "internal", `The server answered ${status}`);
}

function parse(text: string): unknown {
  try {
    return text ? (JSON.parse(text) as unknown) : null;
  } catch {
    return null;
  }
}

const cancelled = () => new ParleyClientError("unavailable", "The upload was cancelled", { cancelled: true });

/**
 * Calls the REST API (`/v1/…`) with a user token and resolves with the
 * parsed JSON body; rejects with a {@link ParleyClientError}.
 */
export async function restRequest<T>(baseUrl: string, token: string, method: string, path: string, body?: unknown): Promise<T> {
  let res: Response;
  try {
    res = await fetch(new URL(path, baseUrl), {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { "content-type": "application/json" }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (err) {
    throw new ParleyClientError("unavailable", `Cannot reach the server: ${(err as Error).message}`);
  }
  const parsed = parse(await res.text());
  if (!res.ok) throw errorFromBody(res.status, parsed);
  return parsed as T;
}

/**
 * Uploads one file with `POST /v1/uploads` (multipart) and resolves with the
 * stored attachment, whose `id` goes in a message's `attachments`. Uses
 * XMLHttpRequest where there is one, for progress, and `fetch` elsewhere.
 */
export function uploadFile(baseUrl: string, token: string, file: Blob, options: UploadOptions = {}): Promise<Attachment> {
  const name = options.name ?? ((file as { name?: unknown }).name as string | undefined) ?? "file";
  const form = new FormData();
  form.append("file", file, name || "file");
  const url = new URL("/v1/uploads", baseUrl).toString();
  if (options.signal?.aborted) return Promise.reject(cancelled());

  if (typeof XMLHttpRequest === "undefined") {
    return (async () => {
      let res: Response;
      try {
        res = await fetch(url, { method: "POST", headers: { authorization: `Bearer ${token}` }, body: form, signal: options.signal ?? null });
      } catch (err) {
        if (options.signal?.aborted) throw cancelled();
        throw new ParleyClientError("unavailable", `Cannot reach the server: ${(err as Error).message}`);
      }
      const body = parse(await res.text());
      if (!res.ok) throw errorFromBody(res.status, body);
      options.onProgress?.(file.size, file.size);
      return (body as { attachment: Attachment }).attachment;
    })();
  }

  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", url);
    xhr.setRequestHeader("authorization", `Bearer ${token}`);
    xhr.upload.onprogress = (e) => options.onProgress?.(e.loaded, e.lengthComputable ? e.total : file.size);
    xhr.onload = () => {
      const body = parse(xhr.responseText);
      if (xhr.status >= 200 && xhr.status < 300) {
        options.onProgress?.(file.size, file.size);
        resolve((body as { attachment: Attachment }).attachment);
      } else reject(errorFromBody(xhr.status, body));
    };
    xhr.onerror = () => reject(new ParleyClientError("unavailable", "The upload failed: the server could not be reached"));
    xhr.onabort = () => reject(cancelled());
    options.signal?.addEventListener("abort", () => xhr.abort(), { once: true });
    xhr.send(form);
  });
}
