import fc from 'fast-check';
import { ThroughputWindow } from '../../src/health/throughput-window';

describe('ThroughputWindow', () => {
  it('should keep 50 streams by default', () => {
    const window = new ThroughputWindow();
    expect(window.streams).toBe(50);
    for (let i = 0; i < 60; i += 1) window.add(10, 1000);
    expect(window.count).toBe(50);
  });

  it('should return null before any stream', () => {
    expect(new ThroughputWindow().tokensPerSecond()).toBeNull();
  });

  it('should give one stream its own rate', () => {
    const window = new ThroughputWindow();
    window.add(300, 2000);
    expect(window.tokensPerSecond()).toBe(150);
  });

  it('should divide total tokens by total seconds, not average the rates', () => {
    const window = new ThroughputWindow();
    window.add(1000, 10_000); // 100 tok/s for 10 s
    window.add(2, 10); // 200 tok/s for 10 ms
    // (1000 + 2) / (10 + 0.01) s, not (100 + 200) / 2.
    expect(window.tokensPerSecond()).toBeCloseTo(1002 / 10.01, 10);
  });

  it('should ignore streams without positive, finite tokens and time', () => {
    const window = new ThroughputWindow();
    window.add(0, 1000);
    window.add(-5, 1000);
    window.add(100, 0);
    window.add(100, -1);
    window.add(Number.NaN, 1000);
    window.add(100, Infinity);
    expect(window.count).toBe(0);
    expect(window.tokensPerSecond()).toBeNull();
    window.add(100, 500);
    expect(window.tokensPerSecond()).toBe(200);
  });

  it('should overwrite the oldest stream once full', () => {
    const window = new ThroughputWindow({ streams: 2 });
    window.add(10_000, 1000); // 10 000 tok/s, soon dropped
    window.add(10, 1000);
    window.add(30, 1000);
    expect(window.count).toBe(2);
    expect(window.tokensPerSecond()).toBe(20);
  });

  it('should equal the sums over the last streams kept', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 20 }),
        fc.array(
          fc.tuple(fc.integer({ min: -10, max: 5000 }), fc.integer({ min: -10, max: 60_000 })),
          { maxLength: 60 },
        ),
        (size, streams) => {
          const window = new ThroughputWindow({ streams: size });
          for (const [tokens, ms] of streams) window.add(tokens, ms);
          const kept = streams.filter(([tokens, ms]) => tokens > 0 && ms > 0).slice(-size);
          expect(window.count).toBe(kept.length);
          if (kept.length === 0) {
            expect(window.tokensPerSecond()).toBeNull();
            return;
          }
          const tokens = kept.reduce((sum, [t]) => sum + t, 0);
          const seconds = kept.reduce((sum, [, ms]) => sum + ms / 1000, 0);
          expect(window.tokensPerSecond()).toBeCloseTo(tokens / seconds, 6);
        },
      ),
    );
  });

  it.each([0, -1, 2.5, Number.NaN, Infinity])(
    'should reject streams = %p with a RangeError naming the field',
    (streams) => {
      expect(() => new ThroughputWindow({ streams })).toThrow(RangeError);
      expect(() => new ThroughputWindow({ streams })).toThrow(
        /streams must be a positive whole number/,
      );
    },
  );
});
