import v8 from "node:v8";

/**
 * V8 settings for a process whose work is serving Parley; `parley serve`
 * applies them at start, and a host that embeds the server in a process of
 * its own can call {@link applyServingV8Flags} (or pass the flags to node).
 *
 * `--no-allocation-site-pretenuring`: V8 watches where objects are created
 * and, when most of a site's objects outlive a young-generation collection,
 * creates that site's objects in the old generation from then on. A
 * request's rows, pages and packets live only as long as the request, but
 * while one is in flight a collection can find them alive, and the site is
 * then tenured. Its objects, dead soon after, stay in the old generation
 * until the next full collection and keep what they point to alive through
 * every young collection meanwhile: in a run of 50-message history pages,
 * 1.7 to 3.3 MB survived each young collection and each one paused the
 * process for 5 to 15 ms (the tail of every request), against 10 to 20 KB
 * and under 1 ms without tenuring. Which state a process falls into varies
 * from run to run (1 in 4 of the runs on SQLite above, most on PostgreSQL).
 */
export const SERVING_V8_FLAGS: readonly string[] = ["--no-allocation-site-pretenuring"];

/** Applies {@link SERVING_V8_FLAGS} to this process; safe to call more than once. */
export function applyServingV8Flags(): void {
  for (const flag of SERVING_V8_FLAGS) v8.setFlagsFromString(flag);
}
