/**
 * `npm run example -w @parley/examples -- <name>` runs one example against
 * the Parley at PARLEY_URL (default http://localhost:4000).
 */
const EXAMPLES = ["booking-chat", "marketplace-dm", "dispute", "community", "support-desk"] as const;

const name = process.argv[2];
if (!EXAMPLES.includes(name as (typeof EXAMPLES)[number])) {
  process.stderr.write(`usage: npm run example -w @parley/examples -- <${EXAMPLES.join(" | ")}>\n`);
  process.exit(2);
}
await import(`./${name}/run.js`);
