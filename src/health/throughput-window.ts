/** Configuration of {@link ThroughputWindow}. */
export interface ThroughputWindowConfig {
  /** How many recent finished streams are kept: a positive whole number. Default `50`. */
  streams?: number;
}

/**
 * Streaming speed, in tokens per second, over the last `streams` finished streams. No timers
 * and no clock: browser-safe and deterministic.
 *
 * 1. {@link ThroughputWindow.add | add(tokens, streamingMs)} keeps one stream's completion tokens
 *    and streaming time (e.g. from the first token to the last), overwriting the oldest stream
 *    once the window is full. Streams without a positive, finite token count and time are
 *    ignored: they say nothing about speed.
 * 2. {@link ThroughputWindow.tokensPerSecond | tokensPerSecond()} is the total of the kept
 *    streams' tokens over the total of their seconds: a long stream weighs more than a short one
 *    (unlike a mean of per-stream rates, which a 2-token stream could skew).
 *
 * ```ts
 * const speed = new ThroughputWindow({ streams: 50 });
 * speed.add(usage.completion_tokens, lastTokenAt - firstTokenAt);
 * speed.tokensPerSecond(); // null before any stream
 * ```
 */
export class ThroughputWindow {
  /** How many recent finished streams are kept. */
  readonly streams: number;
  readonly #tokens: Float64Array;
  readonly #ms: Float64Array;
  /** Where the next stream goes. */
  #next = 0;
  #count = 0;

  constructor(config: ThroughputWindowConfig = {}) {
    const { streams = 50 } = config;
    if (typeof streams !== 'number' || !Number.isInteger(streams) || streams <= 0) {
      throw new RangeError(
        `ThroughputWindow: streams must be a positive whole number, got ${String(streams)}.`,
      );
    }
    this.streams = streams;
    this.#tokens = new Float64Array(streams);
    this.#ms = new Float64Array(streams);
  }

  /** How many streams are kept now (at most {@link ThroughputWindow.streams}). */
  get count(): number {
    return this.#count;
  }

  /**
   * Adds one finished stream, dropping the oldest when the window is full.
   *
   * @param tokens The completion tokens streamed. Ignored unless finite and > 0.
   * @param streamingMs How long they took to stream, ms. Ignored unless finite and > 0.
   */
  add(tokens: number, streamingMs: number): void {
    if (!isPositiveFinite(tokens) || !isPositiveFinite(streamingMs)) return;
    this.#tokens[this.#next] = tokens;
    this.#ms[this.#next] = streamingMs;
    this.#next = (this.#next + 1) % this.streams;
    if (this.#count < this.streams) this.#count += 1;
  }

  /**
   * Tokens per second over the kept streams: `sum(tokens) / sum(streamingMs / 1000)`.
   *
   * @return The rate, or `null` when no stream is kept.
   */
  tokensPerSecond(): number | null {
    if (this.#count === 0) return null;
    let tokens = 0;
    let ms = 0;
    for (let i = 0; i < this.#count; i += 1) {
      tokens += this.#tokens[i] ?? 0;
      ms += this.#ms[i] ?? 0;
    }
    return (tokens * 1000) / ms;
  }
}

function isPositiveFinite(value: number): boolean {
  return typeof value === 'number' && Number.isFinite(value) && value > 0;
}
