import type { HealthCounts } from './health-snapshot';

/** One kind of outcome {@link RollingCounts} counts: a key of {@link HealthCounts}. */
export type HealthCountKind = keyof HealthCounts;

const kinds: readonly HealthCountKind[] = ['success', 'failure', 'timeout', 'rejection', 'cancel'];

/** Configuration of {@link RollingCounts}. */
export interface RollingCountsConfig {
  /** How far back events are counted, in ms: a positive whole number. Default `60_000`. */
  windowMs?: number;
  /**
   * How many buckets the window is cut into: a positive whole number, at most `windowMs`. More
   * buckets make expiry finer (events leave the count in steps of `windowMs / buckets`) and cost
   * a little more memory. Default `12` (5 s buckets for the default window).
   */
  buckets?: number;
}

interface Bucket {
  /** Which bucket of the timeline this slot holds (`floor(now / bucketMs)`); -Infinity if none. */
  index: number;
  counts: HealthCounts;
}

/**
 * Counts of call outcomes (`success`, `failure`, `timeout`, `rejection`, `cancel`) over a
 * rolling time window, kept in a fixed ring of buckets: memory is O(`buckets`) however many
 * events are recorded. No timers: the caller passes the time (`now`, ms) to every call, so it is
 * deterministic and browser-safe.
 *
 * 1. The timeline is cut into buckets of `windowMs / buckets` ms. An event falls in the bucket
 *    that holds its `now`.
 * 2. {@link RollingCounts.counts | counts(now)} sums the bucket holding `now` and the
 *    `buckets - 1` before it: an event is counted for at least `windowMs - windowMs / buckets`
 *    and less than `windowMs` ms. Nothing older than `windowMs` is ever counted.
 * 3. Old buckets expire lazily: a slot is cleared when a later bucket reuses it, or ignored when
 *    read if it is too old.
 * 4. The clock never goes backwards: the instance uses the latest `now` it has been given (to
 *    any method). An earlier `now` (a wall clock stepped back) is treated as that latest time,
 *    so its event lands in the current bucket and nothing is lost or miscounted.
 *
 * ```ts
 * const counts = new RollingCounts({ windowMs: 60_000, buckets: 12 });
 * counts.record('success', Date.now());
 * counts.record('timeout', Date.now());
 * counts.counts(Date.now()); // { success: 1, failure: 0, timeout: 1, rejection: 0, cancel: 0 }
 * ```
 */
export class RollingCounts {
  /** How far back events are counted, in ms. */
  readonly windowMs: number;
  /** How many buckets the window is cut into. */
  readonly buckets: number;
  readonly #ring: Bucket[];
  /** The latest bucket index seen: the instance's "now". */
  #latest = Number.NEGATIVE_INFINITY;

  constructor(config: RollingCountsConfig = {}) {
    const { windowMs = 60_000, buckets = 12 } = config;
    checkPositiveInteger('windowMs', windowMs);
    checkPositiveInteger('buckets', buckets);
    if (buckets > windowMs) {
      throw new RangeError(
        `RollingCounts: buckets must be at most windowMs (${windowMs}), got ${buckets}.`,
      );
    }
    this.windowMs = windowMs;
    this.buckets = buckets;
    this.#ring = Array.from({ length: buckets }, () => ({
      index: Number.NEGATIVE_INFINITY,
      counts: emptyCounts(),
    }));
  }

  /**
   * Counts one event of `kind` at time `now`.
   *
   * @param kind The outcome: `success`, `failure`, `timeout`, `rejection` or `cancel`.
   * @param now The time of the event, ms (e.g. `Date.now()`): a finite number.
   */
  record(kind: HealthCountKind, now: number): void {
    if (!kinds.includes(kind)) {
      throw new RangeError(`RollingCounts: kind must be one of ${kinds.join(', ')}, got ${kind}.`);
    }
    const current = this.#advance(now);
    const slot = this.#ring[positiveModulo(current, this.buckets)];
    // Always defined: the index is in [0, buckets).
    if (slot === undefined) return;
    if (slot.index !== current) {
      slot.index = current;
      slot.counts = emptyCounts();
    }
    slot.counts[kind] += 1;
  }

  /**
   * The counts of events in the window ending at `now`, at bucket granularity. A fresh object:
   * the caller may keep or change it.
   *
   * @param now The current time, ms: a finite number.
   */
  counts(now: number): HealthCounts {
    const current = this.#advance(now);
    const sum = emptyCounts();
    for (const slot of this.#ring) {
      if (slot.index > current - this.buckets && slot.index <= current) {
        for (const kind of kinds) sum[kind] += slot.counts[kind];
      }
    }
    return sum;
  }

  /**
   * How many events of any kind are in the window ending at `now`.
   *
   * @param now The current time, ms: a finite number.
   */
  total(now: number): number {
    const counts = this.counts(now);
    return kinds.reduce((sum, kind) => sum + counts[kind], 0);
  }

  /** The bucket index of `now`, or the latest seen if that is later; remembers it. */
  #advance(now: number): number {
    if (typeof now !== 'number' || !Number.isFinite(now)) {
      throw new RangeError(`RollingCounts: now must be a finite number of ms, got ${String(now)}.`);
    }
    // `now * buckets / windowMs` rather than `now / bucketMs`: exact bucket boundaries for whole
    // ms even when windowMs is not a multiple of buckets.
    const index = Math.floor((now * this.buckets) / this.windowMs);
    if (index > this.#latest) this.#latest = index;
    return this.#latest;
  }
}

function emptyCounts(): HealthCounts {
  return { success: 0, failure: 0, timeout: 0, rejection: 0, cancel: 0 };
}

function positiveModulo(value: number, modulus: number): number {
  return ((value % modulus) + modulus) % modulus;
}

function checkPositiveInteger(name: string, value: number): void {
  if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0) {
    throw new RangeError(
      `RollingCounts: ${name} must be a positive whole number, got ${String(value)}.`,
    );
  }
}
