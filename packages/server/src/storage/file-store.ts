import { createReadStream, createWriteStream } from "node:fs";
import { mkdir, readFile, rm, stat } from "node:fs/promises";
import path from "node:path";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";

/** Upload bytes on local disk (a shared directory when several nodes run), one file per upload id. */
export class FileStore {
  readonly #dir: string;

  constructor(dir: string) {
    this.#dir = dir;
  }

  #path(id: string): string {
    if (!/^[A-Za-z0-9_-]+$/.test(id)) throw new Error("bad upload id");
    return path.join(this.#dir, id);
  }

  /** Writes `source` to the file for `id`; resolves to its size in bytes. */
  async save(id: string, source: Readable): Promise<number> {
    await mkdir(this.#dir, { recursive: true });
    const file = this.#path(id);
    try {
      await pipeline(source, createWriteStream(file, { flags: "wx", mode: 0o640 }));
    } catch (err) {
      await rm(file, { force: true });
      throw err;
    }
    return (await stat(file)).size;
  }

  read(id: string): Promise<Buffer> {
    return readFile(this.#path(id));
  }

  open(id: string): Readable {
    return createReadStream(this.#path(id));
  }

  async remove(id: string): Promise<void> {
    await rm(this.#path(id), { force: true });
  }
}
