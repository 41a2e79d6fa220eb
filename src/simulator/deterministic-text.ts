/**
 * The simulator's deterministic "language model": a stateless word generator. Token `i` of a
 * stream is a pure function of the stream's key and `i`, so any token can be computed without
 * the ones before it (a 10-million-token answer needs no memory), and an answer of N tokens is
 * always a prefix of the answer of N + 1 tokens (a `max_tokens` cut, a prefill and a failover
 * all continue the same text).
 */

/**
 * The vocabulary. A few words are non-ASCII (2-, 3- and 4-byte UTF-8) on purpose: byte-level
 * faults such as `slow-drip` then split characters across reads.
 */
const words: readonly string[] = [
  'river',
  'stone',
  'light',
  'signal',
  'garden',
  'window',
  'quiet',
  'north',
  'amber',
  'harbor',
  'pattern',
  'meadow',
  'copper',
  'lantern',
  'orbit',
  'cedar',
  'thread',
  'canyon',
  'silver',
  'morning',
  'engine',
  'paper',
  'forest',
  'bridge',
  'ember',
  'vector',
  'island',
  'motion',
  'crystal',
  'valley',
  'echo',
  'marble',
  'summit',
  'willow',
  'atlas',
  'beacon',
  'delta',
  'fabric',
  'glacier',
  'horizon',
  'journey',
  'kernel',
  'ladder',
  'mirror',
  'nectar',
  'ocean',
  'prism',
  'quartz',
  'ripple',
  'season',
  'timber',
  'velvet',
  'wander',
  'zephyr',
  'café',
  'naïve',
  'façade',
  'jalapeño',
  'über',
  'smörgåsbord',
  '東京',
  '🌊',
];

/** FNV-1a over the UTF-16 code units of `text`: a fast, stable 32-bit string hash. */
export function hashString(text: string, seed = 0x811c9dc5): number {
  let h = seed >>> 0;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** Mixes two 32-bit values into one well-distributed 32-bit value (murmur3's finalizer). */
export function mix(a: number, b: number): number {
  let h = (a ^ Math.imul((b + 0x9e3779b9) | 0, 0x85ebca6b)) >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** A word of the vocabulary, picked by a 32-bit value. */
export function wordFor(value: number): string {
  return words[value % words.length] ?? 'echo';
}

function endsSentence(key: number, index: number): boolean {
  return index >= 0 && mix(key ^ 0x5bd1e995, index) % 7 === 6;
}

function capitalize(word: string): string {
  const first = word.codePointAt(0);
  if (first === undefined) return word;
  const head = String.fromCodePoint(first);
  return head.toUpperCase() + word.slice(head.length);
}

/**
 * Token `index` of the stream `key`: one word, with a leading space except for the first token,
 * capitalized at a sentence start, and sometimes ending a sentence with a period.
 */
export function tokenAt(key: number, index: number): string {
  const word = wordFor(mix(key, index));
  const start = index === 0 || endsSentence(key, index - 1);
  return (
    (index === 0 ? '' : ' ') +
    (start ? capitalize(word) : word) +
    (endsSentence(key, index) ? '.' : '')
  );
}

/** The text of tokens `from` (inclusive) to `to` (exclusive) of the stream `key`. */
export function textOf(key: number, from: number, to: number): string {
  let text = '';
  for (let i = from; i < to; i++) text += tokenAt(key, i);
  return text;
}

/** The key of an answer: the simulator's seed and the text of the last user message. */
export function answerKey(seed: string, lastUserText: string): number {
  return hashString(`${seed}\u0000${lastUserText}`);
}

/** The key of an answer's reasoning, distinct from its text's. */
export function reasoningKey(seed: string, lastUserText: string): number {
  return hashString(`${seed}\u0000reasoning\u0000${lastUserText}`);
}

/** Counts the words (whitespace-separated runs) of a text: the simulator's token count of input. */
export function countWords(text: string): number {
  let count = 0;
  let inWord = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    const space = c === 32 || (c >= 9 && c <= 13) || c === 0xa0;
    if (space) inWord = false;
    else if (!inWord) {
      inWord = true;
      count++;
    }
  }
  return count;
}

const base62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** A deterministic base62 string of `length` characters from a 32-bit seed (for ids). */
export function base62Id(seed: number, length: number): string {
  let out = '';
  for (let i = 0; i < length; i++) out += base62[mix(seed, i) % 62] ?? 'x';
  return out;
}
