import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";

const bin = path.resolve(import.meta.dirname, "../../dist/cli/main.js");

/** A Parley node in a child process (`parley serve`), to kill for real. */
export interface NodeProcess {
  readonly url: string;
  readonly port: number;
  readonly child: ChildProcess;
  /** Everything it wrote to stdout and stderr so far. */
  output(): string;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

export async function startNodeProcess(env: Record<string, string>): Promise<NodeProcess> {
  const child = spawn(process.execPath, [bin, "serve"], {
    env: { PATH: process.env.PATH ?? "", PARLEY_PORT: "0", PARLEY_HOST: "127.0.0.1", PARLEY_LOG_LEVEL: "warn", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`node did not start:\n${output}`)), 15_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /is running at (http:\/\/\S+)/.exec(output);
      if (match?.[1]) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    };
    child.stdout!.on("data", onData);
    child.stderr!.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`node exited with ${code}:\n${output}`));
    });
  });
  return {
    url,
    port: Number(new URL(url).port),
    child,
    output: () => output,
    kill: (signal = "SIGKILL") =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once("exit", () => resolve());
        child.kill(signal);
      }),
  };
}
