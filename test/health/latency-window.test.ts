import fc from 'fast-check';
import { LatencyWindow } from '../../src/health/latency-window';

/**
 * Nearest rank by its definition, independent of the implementation's rank arithmetic: the
 * smallest sample v such that at least p% of the samples are <= v.
 */
function referencePercentile(samples: readonly number[], p: number): number | null {
  if (samples.length === 0) return null;
  const candidates = [...new Set(samples)].sort((a, b) => a - b);
  for (const v of candidates) {
    const atOrBelow = samples.filter((s) => s <= v).length;
    if (atOrBelow * 100 >= p * samples.length) return v;
  }
  throw new Error('unreachable: the maximum always qualifies');
}

describe('LatencyWindow', () => {
  it('should keep 200 samples by default', () => {
    const window = new LatencyWindow();
    expect(window.samples).toBe(200);
    for (let i = 0; i < 250; i += 1) window.add(i);
    expect(window.count).toBe(200);
    expect(window.percentile(0)).toBe(50);
  });

  it('should return null for every percentile when empty', () => {
    const window = new LatencyWindow();
    expect(window.count).toBe(0);
    expect(window.percentile(0)).toBeNull();
    expect(window.percentile(100)).toBeNull();
    expect(window.p50()).toBeNull();
    expect(window.p95()).toBeNull();
  });

  it('should give nearest-rank percentiles of a known sample', () => {
    // The textbook example: 15, 20, 35, 40, 50.
    const window = new LatencyWindow();
    for (const ms of [50, 15, 40, 20, 35]) window.add(ms);
    expect(window.percentile(0)).toBe(15);
    expect(window.percentile(5)).toBe(15);
    expect(window.percentile(20)).toBe(15);
    expect(window.percentile(30)).toBe(20);
    expect(window.percentile(40)).toBe(20);
    expect(window.p50()).toBe(35);
    expect(window.percentile(100)).toBe(50);
    expect(window.p95()).toBe(50);
  });

  it('should give p50 and p95 of 1..100 as 50 and 95', () => {
    const window = new LatencyWindow();
    for (let ms = 100; ms >= 1; ms -= 1) window.add(ms);
    expect(window.p50()).toBe(50);
    expect(window.p95()).toBe(95);
    expect(window.percentile(7)).toBe(7); // 7 * 100 / 100 must not round up to 8
  });

  it('should overwrite the oldest sample once full', () => {
    const window = new LatencyWindow({ samples: 3 });
    window.add(1000);
    window.add(1);
    window.add(2);
    expect(window.percentile(100)).toBe(1000);
    window.add(3); // overwrites 1000
    expect(window.count).toBe(3);
    expect(window.percentile(100)).toBe(3);
    window.add(4); // overwrites 1
    expect(window.percentile(0)).toBe(2);
  });

  it('should see a sample added after a percentile was asked', () => {
    const window = new LatencyWindow();
    window.add(10);
    expect(window.p95()).toBe(10);
    window.add(20);
    expect(window.p95()).toBe(20);
  });

  it('should ignore samples that are negative or not finite', () => {
    const window = new LatencyWindow();
    window.add(-1);
    window.add(Number.NaN);
    window.add(Infinity);
    expect(window.count).toBe(0);
    window.add(0);
    expect(window.count).toBe(1);
    expect(window.p50()).toBe(0);
  });

  it('should agree with a brute-force nearest rank over the last samples', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 30 }),
        fc.array(
          fc.oneof(fc.integer({ min: 0, max: 20 }), fc.double({ min: 0, max: 1e6, noNaN: true })),
          {
            maxLength: 80,
          },
        ),
        fc.array(
          fc.oneof(fc.integer({ min: 0, max: 100 }), fc.double({ min: 0, max: 100, noNaN: true })),
          {
            minLength: 1,
            maxLength: 5,
          },
        ),
        (size, samples, ps) => {
          const window = new LatencyWindow({ samples: size });
          for (const ms of samples) window.add(ms);
          const kept = samples.slice(-size);
          expect(window.count).toBe(kept.length);
          for (const p of ps) expect(window.percentile(p)).toBe(referencePercentile(kept, p));
        },
      ),
      { numRuns: 300 },
    );
  });

  it.each([-0.001, 100.001, Number.NaN, Infinity, -Infinity])(
    'should reject the percentile %p with a RangeError naming p',
    (p) => {
      const window = new LatencyWindow();
      window.add(1);
      expect(() => window.percentile(p)).toThrow(RangeError);
      expect(() => window.percentile(p)).toThrow(/p must be a number from 0 to 100/);
    },
  );

  it.each([0, -1, 1.5, Number.NaN, Infinity])(
    'should reject samples = %p with a RangeError naming the field',
    (samples) => {
      expect(() => new LatencyWindow({ samples })).toThrow(RangeError);
      expect(() => new LatencyWindow({ samples })).toThrow(
        /samples must be a positive whole number/,
      );
    },
  );
});
