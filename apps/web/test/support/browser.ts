import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { chromium, type Browser, type BrowserContext, type Page } from "playwright-core";
import { afterAll, beforeAll } from "vitest";

const ROOT = fileURLToPath(new URL("../../../../", import.meta.url));
const CLI = path.join(ROOT, "packages/server/dist/cli/main.js");
const WEB_APP = path.join(ROOT, "apps/web/dist/index.html");

/** Screenshots of the main views go here (CI keeps the folder as an artifact). */
export const ARTIFACTS = path.join(ROOT, "test-artifacts");

/** Debian's Chromium, or the one `PARLEY_TEST_CHROMIUM` names. */
export const CHROMIUM = process.env.PARLEY_TEST_CHROMIUM ?? "/usr/bin/chromium";

/** Why the browser suites cannot run here, or `null` when they can. */
export function browserSkipReason(): string | null {
  if (!existsSync(CHROMIUM)) return `skipped: no Chromium at ${CHROMIUM} (apt-get install chromium, or set PARLEY_TEST_CHROMIUM)`;
  if (!existsSync(CLI) || !existsSync(WEB_APP)) return "skipped: Parley is not built (npm run build)";
  return null;
}

/**
 * A Parley node started the way `npm start` starts one (`parley serve --dev`,
 * SQLite, demo data), in its own data folder and on a free port.
 */
export interface DevNode {
  readonly url: string;
  readonly port: number;
  readonly apiKey: string;
  /** Calls the REST API as the host back end, optionally acting as a user. */
  api<T = unknown>(method: string, path: string, body?: unknown, actAs?: string): Promise<T>;
  /** A token for a user, as a host back end would mint one. */
  token(sub: string, name: string, roles?: string[]): Promise<string>;
  close(): Promise<void>;
}

export async function startDevNode(env: Record<string, string> = {}): Promise<DevNode> {
  const dir = mkdtempSync(path.join(tmpdir(), "parley-web-test-"));
  const child: ChildProcess = spawn(process.execPath, [CLI, "serve", "--dev"], {
    cwd: dir,
    env: { ...process.env, PARLEY_PORT: "0", PARLEY_DATA_DIR: dir, PARLEY_LOG_LEVEL: "warn", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`parley serve did not start:\n${output}`)), 30_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /is running at (http:\/\/\S+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]!);
      }
    };
    child.stdout!.on("data", onData);
    child.stderr!.on("data", onData);
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`parley serve exited with ${code}:\n${output}`));
    });
  });
  const apiKey = (JSON.parse(readFileSync(path.join(dir, "dev-secrets.json"), "utf8")) as { apiKey: string }).apiKey;
  const api = async <T>(method: string, route: string, body?: unknown, actAs?: string): Promise<T> => {
    const headers: Record<string, string> = { authorization: `Bearer ${apiKey}` };
    if (actAs) headers["parley-user"] = actAs;
    if (body !== undefined) headers["content-type"] = "application/json";
    const res = await fetch(url + route, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await res.text();
    if (!res.ok) throw new Error(`${method} ${route}: ${res.status} ${text}`);
    return (text ? JSON.parse(text) : null) as T;
  };
  return {
    url,
    port: Number(new URL(url).port),
    apiKey,
    api,
    async token(sub, name, roles = []) {
      return (await api<{ token: string }>("POST", "/v1/tokens", { sub, name, roles })).token;
    },
    async close() {
      if (child.exitCode === null) {
        const exited = new Promise((resolve) => child.once("exit", resolve));
        child.kill("SIGTERM");
        await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 5_000))]);
        if (child.exitCode === null) child.kill("SIGKILL");
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Headless Chromium with the flags this machine needs (no sandbox as root, no background traffic). */
export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
    ],
  });
}

/** One person's browser: their own context (storage, cookies) and page. */
export interface Person {
  readonly context: BrowserContext;
  readonly page: Page;
  /** Errors the page threw or logged (a test expects none). */
  readonly errors: string[];
  /** Dialogs the page opened (`alert(1)` from an injected script would land here). */
  readonly dialogs: string[];
}

export async function openPerson(
  browser: Browser,
  options: { viewport?: { width: number; height: number }; /** A phone: a touch screen without hover. */ touch?: boolean } = {},
): Promise<Person> {
  const context = await browser.newContext({
    viewport: options.viewport ?? { width: 1280, height: 800 },
    ...(options.touch ? { hasTouch: true, isMobile: true } : {}),
  });
  const page = await context.newPage();
  const errors: string[] = [];
  const dialogs: string[] = [];
  page.on("pageerror", (err) => errors.push(err.message));
  page.on("dialog", (dialog) => {
    dialogs.push(dialog.message());
    void dialog.dismiss();
  });
  return { context, page, errors, dialogs };
}

/** Signs in with a deep link (`/#token=…`, optionally opening a conversation). */
export async function signIn(person: Person, baseUrl: string, token: string, conversationId?: string): Promise<void> {
  const fragment = `token=${encodeURIComponent(token)}${conversationId ? `&conversation=${encodeURIComponent(conversationId)}` : ""}`;
  await person.page.goto(`${baseUrl}/#${fragment}`);
}

/** Saves a screenshot of the page as `test-artifacts/<name>.png`. */
export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`) });
}

/** A short id so every test has users and conversations of its own. */
export function unique(prefix: string): string {
  return `${prefix}${Math.random().toString(36).slice(2, 8)}`;
}

/** What a browser test file works with: one dev node, one browser, and the people it opened. */
export interface BrowserSuite {
  readonly node: DevNode;
  /** A new person (their own browser context), closed after the file. */
  person(options?: Parameters<typeof openPerson>[1]): Promise<Person>;
}

/**
 * Starts a dev node and Chromium before the file's tests and closes them,
 * and every person opened, after. Call inside the file's `describe`.
 */
export function browserSuite(): BrowserSuite {
  let node: DevNode | undefined;
  let browser: Browser | undefined;
  const people: Person[] = [];
  beforeAll(async () => {
    node = await startDevNode();
    browser = await launchBrowser();
  });
  afterAll(async () => {
    for (const person of people) await person.context.close().catch(() => undefined);
    await browser?.close();
    await node?.close();
  });
  return {
    get node() {
      if (!node) throw new Error("the dev node starts in beforeAll");
      return node;
    },
    async person(options = {}) {
      if (!browser) throw new Error("the browser starts in beforeAll");
      const p = await openPerson(browser, options);
      people.push(p);
      return p;
    },
  };
}
