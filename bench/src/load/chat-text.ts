/**
 * Words of everyday chat. Messages made of them give a search index what
 * real text gives it (about ten terms a message, many distinct), where a
 * run of one letter would be a single term.
 */
const WORDS = (
  "the a to you i it is and of for on in that we at be this can with are have just my your so" +
  " not do will me but if no all was get what there now up out about when can't don't it's i'm" +
  " hi hello hey thanks thank ok okay sure yes yeah great good fine sorry please tomorrow today" +
  " tonight morning evening later soon week weekend monday friday time minutes hour order" +
  " delivery package address invoice payment refund price booking table room ticket train" +
  " station meeting call coffee lunch dinner photo link file update problem issue question" +
  " help support account password login app phone email message chat team project plan" +
  " know think see need want come go send check sent arrived waiting late early ready done" +
  " still again here back home office work store pick drop left right around near next last" +
  " first new old big small nice happy sounds works looks let's maybe probably"
).split(" ");

/** A small, fast, seeded generator (mulberry32): the same seed, the same numbers. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * `count` chat-like texts of exactly `bytes` ASCII characters each, words
 * drawn from {@link WORDS} (the last one cut to fit), the same for the same
 * `seed`.
 */
export function chatTexts(bytes: number, count: number, seed = 1): string[] {
  const next = seededRandom(seed);
  const texts: string[] = [];
  for (let i = 0; i < count; i++) {
    let text = "";
    while (text.length < bytes) text += (text ? " " : "") + WORDS[Math.floor(next() * WORDS.length)];
    texts.push(text.slice(0, bytes).trimEnd().padEnd(bytes, "."));
  }
  return texts;
}
