/**
 * Estimates how many tokens `text` is for `model`. It is called once per streamed piece of text
 * (a delta), and the results are summed, so it may return fractions: the sum is rounded up once.
 */
export type TokenEstimator = (text: string, model: string) => number;

/** The characters per token assumed by {@link estimateTokensByChars}. */
export const CHARS_PER_TOKEN = 4;

/**
 * The default estimate: one token per four characters (UTF-16 code units), OpenAI's rule of
 * thumb for English text. It needs no tokenizer, so it costs nothing to load or run, and it
 * works for every provider; expect it to be off by tens of percent on code, non-English text or
 * unusual vocabularies (see docs/cost.md for figures).
 */
export const estimateTokensByChars: TokenEstimator = (text) => text.length / CHARS_PER_TOKEN;
