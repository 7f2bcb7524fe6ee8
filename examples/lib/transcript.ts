/**
 * What each person in a story sees, printed as it happens (and kept in
 * `lines`). Examples print with it instead of `console.log`, so a test can
 * run a story silently.
 */
export class Transcript {
  /** Every line written so far. */
  readonly lines: string[] = [];
  readonly #print: boolean;

  /** `print: false` keeps the lines without writing them to stdout. */
  constructor(options: { print?: boolean } = {}) {
    this.#print = options.print ?? true;
  }

  /** A new step of the story. */
  step(title: string): void {
    this.#write(`\n== ${title}`);
  }

  /** What one person sees on their screen. */
  sees(who: string, what: string): void {
    this.#write(`  [${who}] ${what}`);
  }

  /** What a host back end does or receives. */
  host(what: string): void {
    this.#write(`  (host) ${what}`);
  }

  #write(line: string): void {
    this.lines.push(line);
    if (this.#print) process.stdout.write(line + "\n");
  }
}
