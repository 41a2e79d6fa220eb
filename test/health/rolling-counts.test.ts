import fc from 'fast-check';
import type { HealthCounts } from '../../src/health/health-snapshot';
import { RollingCounts, type HealthCountKind } from '../../src/health/rolling-counts';

const zero: HealthCounts = { success: 0, failure: 0, timeout: 0, rejection: 0, cancel: 0 };
const kinds: HealthCountKind[] = ['success', 'failure', 'timeout', 'rejection', 'cancel'];

describe('RollingCounts', () => {
  it('should use a 60 s window of 12 buckets by default', () => {
    const counts = new RollingCounts();
    expect(counts.windowMs).toBe(60_000);
    expect(counts.buckets).toBe(12);
  });

  it('should count each kind separately and total them', () => {
    const counts = new RollingCounts({ windowMs: 1000, buckets: 10 });
    counts.record('success', 0);
    counts.record('success', 50);
    counts.record('failure', 120);
    counts.record('timeout', 300);
    counts.record('rejection', 999);
    counts.record('cancel', 999);
    expect(counts.counts(999)).toEqual({
      success: 2,
      failure: 1,
      timeout: 1,
      rejection: 1,
      cancel: 1,
    });
    expect(counts.total(999)).toBe(6);
  });

  it('should return zero counts before any event', () => {
    const counts = new RollingCounts({ windowMs: 1000, buckets: 10 });
    expect(counts.counts(12_345)).toEqual(zero);
    expect(counts.total(12_345)).toBe(0);
  });

  it('should expire an event exactly when its bucket leaves the window', () => {
    // Buckets of 100 ms: [0, 100), [100, 200), ... An event at 150 is in bucket 1, which is in
    // the window while the current bucket is 1..10, i.e. until now = 1099.
    const counts = new RollingCounts({ windowMs: 1000, buckets: 10 });
    counts.record('failure', 150);
    expect(counts.counts(150).failure).toBe(1);
    expect(counts.counts(1099).failure).toBe(1);
    expect(counts.counts(1100).failure).toBe(0);
  });

  it('should expire events bucket by bucket as time moves on', () => {
    const counts = new RollingCounts({ windowMs: 400, buckets: 4 });
    counts.record('success', 0); // bucket 0
    counts.record('success', 100); // bucket 1
    counts.record('success', 100);
    counts.record('success', 399); // bucket 3
    expect(counts.total(399)).toBe(4);
    expect(counts.total(400)).toBe(3); // bucket 0 out
    expect(counts.total(499)).toBe(3);
    expect(counts.total(500)).toBe(1); // bucket 1 out
    expect(counts.total(699)).toBe(1);
    expect(counts.total(700)).toBe(0); // bucket 3 out
  });

  it('should never count an event older than windowMs, nor drop one younger than windowMs minus a bucket', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 5000 }),
        fc.integer({ min: 1, max: 50 }),
        fc.integer({ min: 0, max: 1e9 }),
        fc.integer({ min: 0, max: 20_000 }),
        (windowMs, bucketsWanted, at, age) => {
          const buckets = Math.min(bucketsWanted, windowMs);
          const counts = new RollingCounts({ windowMs, buckets });
          counts.record('success', at);
          const counted = counts.total(at + age) === 1;
          if (age >= windowMs) expect(counted).toBe(false);
          if (age <= windowMs - windowMs / buckets) expect(counted).toBe(true);
        },
      ),
    );
  });

  it('should clear a reused slot when a later bucket lands on it', () => {
    const counts = new RollingCounts({ windowMs: 400, buckets: 4 });
    counts.record('timeout', 50); // bucket 0, slot 0
    counts.record('timeout', 450); // bucket 4, slot 0 again
    expect(counts.counts(450)).toEqual({ ...zero, timeout: 1 });
  });

  it('should count many events in one bucket', () => {
    const counts = new RollingCounts({ windowMs: 60_000, buckets: 12 });
    for (let i = 0; i < 100_000; i += 1) counts.record(i % 2 === 0 ? 'success' : 'failure', 1000);
    expect(counts.counts(1000)).toEqual({ ...zero, success: 50_000, failure: 50_000 });
    expect(counts.total(60_999)).toBe(0);
  });

  it('should keep memory bounded by the number of buckets', () => {
    // Events over a long span: only the last window remains, and the result matches a count of
    // the events in the last `buckets` buckets.
    const counts = new RollingCounts({ windowMs: 1000, buckets: 10 });
    for (let t = 0; t < 100_000; t += 7) counts.record('success', t);
    const now = 99_999;
    let expected = 0;
    for (let t = 0; t < 100_000; t += 7)
      if (Math.floor(t / 100) > Math.floor(now / 100) - 10) expected += 1;
    expect(counts.total(now)).toBe(expected);
  });

  it('should count an event from a clock stepped back in the current bucket', () => {
    const counts = new RollingCounts({ windowMs: 1000, buckets: 10 });
    counts.record('success', 10_000);
    counts.record('failure', 2_000); // clock went back 8 s
    expect(counts.counts(10_000)).toEqual({ ...zero, success: 1, failure: 1 });
    // Both expire together, with the bucket of 10_000.
    expect(counts.total(10_999)).toBe(2);
    expect(counts.total(11_000)).toBe(0);
  });

  it('should read an earlier now as the latest time seen', () => {
    const counts = new RollingCounts({ windowMs: 1000, buckets: 10 });
    counts.record('success', 0);
    expect(counts.total(5_000)).toBe(0);
    // Reading at an earlier time does not bring the expired event back.
    expect(counts.total(0)).toBe(0);
    counts.record('cancel', 100);
    expect(counts.counts(5_000)).toEqual({ ...zero, cancel: 1 });
  });

  it('should agree with a brute-force count when times go back and forth', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            kind: fc.constantFrom(...kinds),
            step: fc.integer({ min: -500, max: 500 }),
          }),
          { maxLength: 200 },
        ),
        (events) => {
          const windowMs = 1000;
          const buckets = 4;
          const counts = new RollingCounts({ windowMs, buckets });
          const model: { kind: HealthCountKind; bucket: number }[] = [];
          let clock = 5000;
          let latest = Number.NEGATIVE_INFINITY;
          for (const { kind, step } of events) {
            clock += step;
            latest = Math.max(latest, Math.floor(clock / 250));
            counts.record(kind, clock);
            model.push({ kind, bucket: latest });
            const expected = { ...zero };
            for (const event of model) {
              if (event.bucket > latest - buckets) expected[event.kind] += 1;
            }
            expect(counts.counts(clock)).toEqual(expected);
          }
        },
      ),
    );
  });

  it('should give bucket boundaries at whole ms when windowMs is not a multiple of buckets', () => {
    const counts = new RollingCounts({ windowMs: 1000, buckets: 3 }); // buckets of 333⅓ ms
    counts.record('success', 333); // bucket 0
    counts.record('success', 334); // bucket 1
    expect(counts.total(999)).toBe(2); // bucket 2: [666⅔, 1000)
    expect(counts.total(1000)).toBe(1); // bucket 3: bucket 0 out
    expect(counts.total(1333)).toBe(1);
    expect(counts.total(1334)).toBe(0); // bucket 4: bucket 1 out
  });

  it('should return a fresh object from counts()', () => {
    const counts = new RollingCounts({ windowMs: 1000, buckets: 10 });
    counts.record('success', 0);
    const first = counts.counts(0);
    first.success = 99;
    expect(counts.counts(0).success).toBe(1);
  });

  it.each([
    [{ windowMs: 0 }, /windowMs must be a positive whole number, got 0/],
    [{ windowMs: -1 }, /windowMs/],
    [{ windowMs: 1.5 }, /windowMs/],
    [{ windowMs: Number.NaN }, /windowMs/],
    [{ windowMs: Infinity }, /windowMs/],
    [{ buckets: 0 }, /buckets must be a positive whole number, got 0/],
    [{ buckets: 2.5 }, /buckets/],
    [{ windowMs: 10, buckets: 11 }, /buckets must be at most windowMs \(10\), got 11/],
  ])('should reject the config %p with a RangeError naming the field', (config, message) => {
    expect(() => new RollingCounts(config)).toThrow(RangeError);
    expect(() => new RollingCounts(config)).toThrow(message);
  });

  it('should accept as many buckets as ms in the window', () => {
    const counts = new RollingCounts({ windowMs: 10, buckets: 10 });
    counts.record('success', 5);
    expect(counts.total(14)).toBe(1);
    expect(counts.total(15)).toBe(0);
  });

  it('should reject a now that is not a finite number', () => {
    const counts = new RollingCounts();
    expect(() => {
      counts.record('success', Number.NaN);
    }).toThrow(/now must be a finite number/);
    expect(() => counts.counts(Infinity)).toThrow(RangeError);
    expect(counts.total(0)).toBe(0);
  });

  it('should reject an unknown kind', () => {
    const counts = new RollingCounts();
    expect(() => {
      counts.record('ok' as HealthCountKind, 0);
    }).toThrow(/kind must be one of success, failure, timeout, rejection, cancel, got ok/);
    expect(counts.total(0)).toBe(0);
  });
});
