/** Configuration of {@link LatencyWindow}. */
export interface LatencyWindowConfig {
  /** How many recent samples are kept: a positive whole number. Default `200`. */
  samples?: number;
}

/**
 * The last `samples` latencies (e.g. time to first token), in a ring buffer, with nearest-rank
 * percentiles. No timers and no clock: browser-safe and deterministic.
 *
 * 1. {@link LatencyWindow.add | add(ms)} is O(1): once the buffer is full, each new sample
 *    overwrites the oldest. Samples that are not finite numbers ≥ 0 (a clock stepped back) are
 *    ignored.
 * 2. {@link LatencyWindow.percentile | percentile(p)} sorts a copy of the samples the first time
 *    it is asked after an `add`, and reuses it until the next `add`.
 * 3. Percentiles use the nearest-rank method: the smallest sample such that at least `p`% of the
 *    samples are less than or equal to it. `p = 0` gives the minimum, `p = 100` the maximum, and
 *    the answer is always one of the samples (never interpolated).
 *
 * ```ts
 * const ttft = new LatencyWindow({ samples: 200 });
 * ttft.add(firstTokenAt - startedAt);
 * ttft.p95(); // null before any sample
 * ```
 */
export class LatencyWindow {
  /** How many recent samples are kept. */
  readonly samples: number;
  readonly #ring: Float64Array;
  /** Where the next sample goes. */
  #next = 0;
  #count = 0;
  /** The kept samples in ascending order, or `undefined` after an `add`. */
  #sorted: Float64Array | undefined;

  constructor(config: LatencyWindowConfig = {}) {
    const { samples = 200 } = config;
    if (typeof samples !== 'number' || !Number.isInteger(samples) || samples <= 0) {
      throw new RangeError(
        `LatencyWindow: samples must be a positive whole number, got ${String(samples)}.`,
      );
    }
    this.samples = samples;
    this.#ring = new Float64Array(samples);
  }

  /** How many samples are kept now (at most {@link LatencyWindow.samples}). */
  get count(): number {
    return this.#count;
  }

  /**
   * Adds one sample, dropping the oldest when the window is full.
   *
   * @param ms The latency, ms. Ignored unless it is a finite number ≥ 0.
   */
  add(ms: number): void {
    if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0) return;
    this.#ring[this.#next] = ms;
    this.#next = (this.#next + 1) % this.samples;
    if (this.#count < this.samples) this.#count += 1;
    this.#sorted = undefined;
  }

  /**
   * The `p`th percentile of the kept samples, by nearest rank; `null` when there is none.
   *
   * @param p The percentile: a number from 0 to 100.
   * @return One of the samples, or `null` when the window is empty.
   */
  percentile(p: number): number | null {
    if (typeof p !== 'number' || !(p >= 0 && p <= 100)) {
      throw new RangeError(`LatencyWindow: p must be a number from 0 to 100, got ${String(p)}.`);
    }
    const n = this.#count;
    if (n === 0) return null;
    this.#sorted ??= this.#ring.slice(0, n).sort();
    const wanted = p * n; // the rank r wanted is the least with r * 100 >= p * n
    let rank = Math.ceil(wanted / 100);
    // Correct a rounding of the division, so that the rank meets its definition exactly.
    if (rank * 100 < wanted) rank += 1;
    if (rank > 1 && (rank - 1) * 100 >= wanted) rank -= 1;
    return this.#sorted[Math.min(n, Math.max(1, rank)) - 1] ?? null;
  }

  /** The median: {@link LatencyWindow.percentile | percentile(50)}. */
  p50(): number | null {
    return this.percentile(50);
  }

  /** {@link LatencyWindow.percentile | percentile(95)}. */
  p95(): number | null {
    return this.percentile(95);
  }
}
