import { Subscription, type Observable } from 'rxjs';
import type { TestScheduler } from 'rxjs/testing';
import type { StreamingChunk } from '../../src/chunk/streaming-chunk';
import { createPricing } from '../../src/cost/pricing';
import { AllProvidersFailedError } from '../../src/errors/all-providers-failed-error';
import { UnknownModelError } from '../../src/errors/unknown-model-error';
import { ValidationError } from '../../src/errors/validation-error';
import type { Provider } from '../../src/providers/provider';
import { createRouter } from '../../src/router/create-router';
import type { Router } from '../../src/router/router';
import type { RouterConfig } from '../../src/router/router-config';
import type { RouterEvent } from '../../src/router/router-events';
import { fakeProvider, type FakeAttempt, type FakeProvider } from '../../src/testing/fake-provider';
import { finishChunk, textChunk, usageChunk } from '../../src/testing/chunk-builders';
import { rateLimited } from '../../src/testing/error-builders';
import { createScheduler } from '../helpers/marbles';

const ask = (model: string, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  model,
  messages: [{ role: 'user', content: 'Say hi' }],
  ...extra,
});

/** What a subscriber saw: `frame:provider:text` per chunk, then `frame:|` or `frame:#CODE`. */
function record(testScheduler: TestScheduler, chunks$: Observable<StreamingChunk>): string[] {
  const seen: string[] = [];
  const at = (): number => testScheduler.now();
  chunks$.subscribe({
    next: (c) => seen.push(`${at()}:${c.provider}:${c.choices[0]?.delta.content ?? ''}`),
    error: (e: unknown) => seen.push(`${at()}:#${(e as { code?: string }).code ?? String(e)}`),
    complete: () => seen.push(`${at()}:|`),
  });
  return seen;
}

interface Fixture {
  router: Router;
  events: RouterEvent[];
}

/** A router over fake providers on the test scheduler, with no retries unless configured. */
function setup(
  testScheduler: TestScheduler,
  providers: Record<string, Provider>,
  config: Omit<RouterConfig, 'providers'>,
): Fixture {
  const router = createRouter({
    providers,
    scheduler: testScheduler,
    random: () => 0.5,
    defaults: { retry: false, ...config.defaults },
    ...config,
  });
  const events: RouterEvent[] = [];
  router.events$.subscribe((e) => events.push(e));
  return { router, events };
}

const fake = (name: string, attempts: FakeAttempt | readonly FakeAttempt[]): FakeProvider =>
  fakeProvider({ name, attempts });

let routers: Router[] = [];
afterEach(async () => {
  await Promise.all(routers.map((r) => r.close()));
  routers = [];
});
function track(fixture: Fixture): Fixture {
  routers.push(fixture.router);
  return fixture;
}

describe('createRouter: routing', () => {
  it('should serve from the first candidate under priority and fail over in order', () => {
    const testScheduler = createScheduler();
    testScheduler.run(({ flush }) => {
      const p1 = fake('p1', { marble: '--#', error: 503 });
      const p2 = fake('p2', { marble: '-#', error: 500 });
      const p3 = fake('p3', '-a-b|');
      const { router, events } = track(
        setup(
          testScheduler,
          { p1, p2, p3 },
          {
            routes: {
              chat: [
                { provider: 'p1', model: 'm1' },
                { provider: 'p2', model: 'm2' },
                { provider: 'p3', model: 'm3' },
              ],
            },
          },
        ),
      );
      const seen = record(testScheduler, router.stream(ask('chat')));
      flush();
      expect(seen).toEqual(['4:p3:a', '6:p3:b', '7:|']);
      expect(p1.requests.map((r) => r.model)).toEqual(['m1']);
      expect(p2.requests.map((r) => r.model)).toEqual(['m2']);
      expect(p3.attempts.map((a) => a.subscribedFrame)).toEqual([3]);
      expect(events.filter((e) => e.type === 'failover')).toEqual([
        expect.objectContaining({ from: 'p1/m1', to: 'p2/m2', mode: 'restart', at: 2 }),
        expect.objectContaining({ from: 'p2/m2', to: 'p3/m3', mode: 'restart', at: 3 }),
      ]);
    });
  });

  it('should prefer an exact alias over a glob, and the first matching glob in order', () => {
    const testScheduler = createScheduler();
    testScheduler.run(({ flush }) => {
      const a = fake('a', '-x|');
      const b = fake('b', '-y|');
      const c = fake('c', '-z|');
      const { router } = track(
        setup(
          testScheduler,
          { a, b, c },
          {
            routes: {
              'gpt-*': [{ provider: 'a', model: '$model' }],
              'gpt-4*': [{ provider: 'b', model: 'never' }],
              'gpt-4o': [{ provider: 'c', model: 'exact' }],
            },
          },
        ),
      );
      const s1 = record(testScheduler, router.stream(ask('gpt-4o')));
      const s2 = record(testScheduler, router.stream(ask('gpt-4.1')));
      flush();
      expect(s1).toEqual(['1:c:z', '2:|']);
      expect(s2).toEqual(['1:a:x', '2:|']);
      expect(a.requests[0]?.model).toBe('gpt-4.1'); // $model passes the name through
      expect(b.attempts).toHaveLength(0);
      expect(router.resolve('gpt-4-turbo')).toEqual({
        route: 'gpt-*',
        candidates: ['a/gpt-4-turbo'],
      });
    });
  });

  it('should rotate the first candidate under round-robin', () => {
    const testScheduler = createScheduler();
    testScheduler.run(({ flush }) => {
      const p = ['p1', 'p2', 'p3'].map((n) => fake(n, '-a|'));
      const [p1, p2, p3] = p as [FakeProvider, FakeProvider, FakeProvider];
      const { router } = track(
        setup(
          testScheduler,
          { p1, p2, p3 },
          {
            routes: {
              rr: {
                strategy: 'round-robin',
                candidates: [
                  { provider: 'p1', model: 'm' },
                  { provider: 'p2', model: 'm' },
                  { provider: 'p3', model: 'm' },
                ],
              },
            },
          },
        ),
      );
      const firsts = [0, 1, 2, 3].map(() => record(testScheduler, router.stream(ask('rr')))[0]);
      flush();
      expect(firsts).toEqual([undefined, undefined, undefined, undefined]); // nothing synchronous
      const served = [0, 1, 2, 3].map(() => {
        const seen = record(testScheduler, router.stream(ask('rr')));
        flush();
        return seen[0]?.split(':')[1];
      });
      expect(served).toEqual(['p2', 'p3', 'p1', 'p2']); // 4 requests already took turns 0-3
    });
  });

  it('should order candidates by weight under weighted, with the injected random', () => {
    const testScheduler = createScheduler();
    testScheduler.run(({ flush }) => {
      const light = fake('light', '-a|');
      const heavy = fake('heavy', '-a|');
      const randoms = [0.1, 0.0, 0.9, 0.0];
      const router = createRouter({
        providers: { light, heavy },
        scheduler: testScheduler,
        random: () => randoms.shift() ?? 0,
        routes: {
          w: {
            strategy: 'weighted',
            candidates: [
              { provider: 'light', model: 'm', weight: 1 },
              { provider: 'heavy', model: 'm', weight: 3 },
            ],
          },
        },
      });
      routers.push(router);
      // 0.1 × 4 = 0.4 < 1: light first. 0.9 × 4 = 3.6 ≥ 1: heavy first.
      const first = record(testScheduler, router.stream(ask('w')));
      const second = record(testScheduler, router.stream(ask('w')));
      flush();
      expect(first[0]).toBe('1:light:a');
      expect(second[0]).toBe('1:heavy:a');
    });
  });

  it('should try the candidate with the lowest time to first token under least-latency', () => {
    const testScheduler = createScheduler();
    testScheduler.run(({ flush }) => {
      const slow = fake('slow', '-----a|');
      const fast = fake('fast', '-a|');
      const { router } = track(
        setup(
          testScheduler,
          { slow, fast },
          {
            routes: {
              ll: {
                strategy: 'least-latency',
                candidates: [
                  { provider: 'slow', model: 'm' },
                  { provider: 'fast', model: 'm' },
                ],
              },
            },
          },
        ),
      );
      const served = [0, 1, 2].map(() => {
        const seen = record(testScheduler, router.stream(ask('ll')));
        flush();
        return seen[0]?.split(':')[1];
      });
      // Unmeasured candidates come first (slow, then fast), then the fastest wins.
      expect(served).toEqual(['slow', 'fast', 'fast']);
    });
  });

  it('should try the cheapest priced candidate first under cheapest, unpriced ones last', () => {
    const testScheduler = createScheduler();
    testScheduler.run(({ flush }) => {
      const dear = fake('dear', '-a|');
      const unknown = fake('unknown', '-a|');
      const cheap = fake('cheap', '-a|');
      const router = createRouter({
        providers: { dear, unknown, cheap },
        scheduler: testScheduler,
        pricing: createPricing({
          catalog: null,
          models: {
            'dear/m-dear': { input: 10, output: 30 },
            'cheap/m-cheap': { input: 0.1, output: 0.4 },
          },
        }),
        defaults: { retry: false },
        routes: {
          c: {
            strategy: 'cheapest',
            candidates: [
              { provider: 'unknown', model: 'm-unknown' },
              { provider: 'dear', model: 'm-dear' },
              { provider: 'cheap', model: 'm-cheap' },
            ],
          },
        },
      });
      routers.push(router);
      const events: RouterEvent[] = [];
      router.events$.subscribe((e) => events.push(e));
      record(testScheduler, router.stream(ask('c')));
      flush();
      expect(events.filter((e) => e.type === 'attempt').map((e) => e.candidate)).toEqual([
        'cheap/m-cheap',
      ]);
    });
  });
});

describe('createRouter: unavailability', () => {
  it('should skip a cooling provider before calling it, until its Retry-After ends', () => {
    const testScheduler = createScheduler();
    testScheduler.run(({ flush }) => {
      const p1 = fake('p1', [{ marble: '-#', error: rateLimited(100, { provider: 'p1' }) }, '-a|']);
      const p2 = fake('p2', '-b|');
      const { router, events } = track(
        setup(
          testScheduler,
          { p1, p2 },
          {
            routes: {
              r: [
                { provider: 'p1', model: 'm1' },
                { provider: 'p2', model: 'm2' },
              ],
            },
          },
        ),
      );
      const seen: string[][] = [];
      const first = record(testScheduler, router.stream(ask('r'))); // p1's 429 at 1 cools it until 101
      testScheduler.schedule(
        () => void seen.push(record(testScheduler, router.stream(ask('r')))),
        50,
      );
      testScheduler.schedule(
        () => void seen.push(record(testScheduler, router.stream(ask('r')))),
        101,
      );
      flush();
      expect(first).toEqual(['2:p2:b', '3:|']);
      expect(seen[0]).toEqual(['51:p2:b', '52:|']); // p1 skipped, not called
      expect(seen[1]).toEqual(['102:p1:a', '103:|']); // cooled down: p1 again
      expect(p1.attempts.map((a) => a.subscribedFrame)).toEqual([0, 101]);
      expect(events.filter((e) => e.type === 'cooldown')).toEqual([
        { type: 'cooldown', at: 1, provider: 'p1', until: 101, retryAfterMs: 100 },
      ]);
      expect(events.filter((e) => e.type === 'skip')).toEqual([
        expect.objectContaining({ at: 50, candidate: 'p1/m1', reason: 'cooldown' }),
      ]);
      expect(router.health().candidates.find((c) => c.candidate === 'p1/m1')?.counts).toEqual({
        success: 1,
        failure: 1,
        timeout: 0,
        rejection: 1,
        cancel: 0,
      });
    });
  });

  it('should say that every candidate was unavailable, with each error and the soonest retry', () => {
    const testScheduler = createScheduler();
    testScheduler.run(({ flush }) => {
      const p1 = fake('p1', { marble: '-#', error: rateLimited(3000, { provider: 'p1' }) });
      const p2 = fake('p2', { marble: '--#', error: 503 });
      const { router } = track(
        setup(
          testScheduler,
          { p1, p2 },
          {
            routes: {
              r: [
                { provider: 'p1', model: 'm1' },
                { provider: 'p2', model: 'm2' },
              ],
            },
          },
        ),
      );
      let error: unknown;
      router.stream(ask('r')).subscribe({ error: (e: unknown) => (error = e) });
      flush();
      expect(error).toBeInstanceOf(AllProvidersFailedError);
      const all = error as AllProvidersFailedError;
      expect(all.code).toBe('RXLLM_ALL_PROVIDERS_FAILED');
      expect(
        all.attempts.map((a) => [a.candidate, a.outcome, (a.error as { status?: number }).status]),
      ).toEqual([
        ['p1/m1', 'called', 429],
        ['p2/m2', 'called', 503],
      ]);
      expect(all.retryAfterMs).toBe(3000);
      expect(all.status).toBe(503);
      expect(all.isRetryable).toBe(true);
      expect(all.message).toContain('p1/m1');
      expect(all.message).toContain('p2/m2');

      // Now p1 cools down: a second request skips it without calling it.
      let second: unknown;
      router.stream(ask('r')).subscribe({ error: (e: unknown) => (second = e) });
      flush();
      expect(p1.attempts).toHaveLength(1);
      expect((second as AllProvidersFailedError).attempts.map((a) => a.outcome)).toEqual([
        'cooldown',
        'called',
      ]);
    });
  });

  it('should open a candidate breaker and skip it before calling it', () => {
    const testScheduler = createScheduler();
    testScheduler.run(({ flush }) => {
      const p1 = fake('p1', { marble: '-#', error: 503 });
      const p2 = fake('p2', '-b|');
      const { router, events } = track(
        setup(
          testScheduler,
          { p1, p2 },
          {
            breaker: { volumeThreshold: 2, errorThresholdPercentage: 50 },
            routes: {
              r: [
                { provider: 'p1', model: 'm1' },
                { provider: 'p2', model: 'm2' },
              ],
            },
          },
        ),
      );
      for (let i = 0; i < 3; i++) {
        record(testScheduler, router.stream(ask('r')));
        flush();
      }
      expect(p1.attempts).toHaveLength(2);
      expect(events.filter((e) => e.type === 'breaker')).toEqual([
        expect.objectContaining({ candidate: 'p1/m1', state: 'open' }),
      ]);
      expect(events.filter((e) => e.type === 'skip').map((e) => e.reason)).toEqual([
        'breaker-open',
      ]);
      expect(router.health().candidates[0]?.breaker).toBe('open');
    });
  });

  it('should not send a prompt that cannot fit a candidate context window', () => {
    const testScheduler = createScheduler();
    testScheduler.run(({ flush }) => {
      const small = fake('small', '-a|');
      const large = fake('large', '-b|');
      const { router, events } = track(
        setup(
          testScheduler,
          { small, large },
          {
            routes: {
              r: [
                { provider: 'small', model: 'm', contextWindow: 100 },
                { provider: 'large', model: 'm', contextWindow: 100_000 },
              ],
            },
          },
        ),
      );
      const seen = record(testScheduler, router.stream(ask('r', { max_tokens: 500 })));
      flush();
      expect(seen).toEqual(['1:large:b', '2:|']);
      expect(small.attempts).toHaveLength(0);
      expect(events.find((e) => e.type === 'skip')).toMatchObject({ reason: 'context-window' });
      // Too long for every window: a client error, not worth retrying.
      let error: unknown;
      router
        .stream(ask('r', { max_tokens: 200_000 }))
        .subscribe({ error: (e: unknown) => (error = e) });
      flush();
      expect(error).toMatchObject({
        code: 'RXLLM_ALL_PROVIDERS_FAILED',
        status: 400,
        isRetryable: false,
      });
      expect(large.attempts).toHaveLength(1);
    });
  });
});

describe('createRouter: a candidate that cannot take the request', () => {
  /** What a provider's request translation throws (Anthropic for `n` above 1). */
  const refusal = (provider: string): ValidationError =>
    new ValidationError([{ path: 'n', message: `${provider} returns one choice per request` }], {
      provider,
    });

  /** A router whose route `r` has these candidates, in order. */
  const routeOf = (
    testScheduler: TestScheduler,
    providers: Record<string, Provider>,
    candidates: readonly { provider: string; model: string }[],
    defaults?: RouterConfig['defaults'],
  ): Fixture =>
    track(
      setup(testScheduler, providers, {
        routes: { r: [...candidates] },
        ...(defaults === undefined ? {} : { defaults }),
      }),
    );

  it('should fail over from it at once, without retrying it', () => {
    const testScheduler = createScheduler();
    testScheduler.run(({ flush }) => {
      const p1 = fake('p1', { marble: '#', error: refusal('p1') });
      const p2 = fake('p2', '-a|');
      const { router, events } = routeOf(
        testScheduler,
        { p1, p2 },
        [
          { provider: 'p1', model: 'm1' },
          { provider: 'p2', model: 'm2' },
        ],
        // Retries on: the refusal must still not be retried.
        { retry: { maxAttempts: 3, initialDelayMs: 10, jitter: 'none' } },
      );
      const seen = record(testScheduler, router.stream(ask('r', { n: 2 })));
      flush();
      expect(seen).toEqual(['1:p2:a', '2:|']);
      expect(p1.attempts).toHaveLength(1);
      expect(events.filter((e) => e.type === 'retry')).toEqual([]);
      expect(events.filter((e) => e.type === 'failover')).toEqual([
        expect.objectContaining({ from: 'p1/m1', to: 'p2/m2', code: 'RXLLM_INVALID_REQUEST' }),
      ]);
    });
  });

  it("should skip that provider's other models, and try the same model at another provider", () => {
    const testScheduler = createScheduler();
    testScheduler.run(({ flush }) => {
      const p1 = fake('p1', { marble: '#', error: refusal('p1') });
      const p2 = fake('p2', '-a|');
      const { router, events } = routeOf(testScheduler, { p1, p2 }, [
        { provider: 'p1', model: 'm' },
        { provider: 'p1', model: 'm-large' },
        { provider: 'p2', model: 'm' },
      ]);
      const seen = record(testScheduler, router.stream(ask('r', { n: 2 })));
      flush();
      expect(seen).toEqual(['1:p2:a', '2:|']);
      expect(p1.attempts).toHaveLength(1);
      expect(events.filter((e) => e.type === 'attempt').map((e) => e.candidate)).toEqual([
        'p1/m',
        'p2/m',
      ]);
    });
  });

  it("should pass the budget's missing price on as it is: a configuration error, not a refusal", () => {
    const testScheduler = createScheduler();
    testScheduler.run(({ flush }) => {
      const p1 = fakeProvider({
        name: 'p1',
        attempts: {
          marble: '-a|',
          values: { a: textChunk('aaaa', { provider: 'p1', model: 'm1' }) },
        },
      });
      const p2 = fake('p2', '-b|');
      const router = createRouter({
        providers: { p1, p2 },
        scheduler: testScheduler,
        pricing: createPricing({ catalog: null, models: { 'p2/m2': { input: 0, output: 1 } } }),
        routes: {
          r: {
            failover: 'resume',
            budgetUsd: 1,
            candidates: [
              { provider: 'p1', model: 'm1' },
              { provider: 'p2', model: 'm2' },
            ],
          },
        },
      });
      routers.push(router);
      let error: unknown;
      router.stream(ask('r')).subscribe({ error: (e: unknown) => (error = e) });
      flush();
      // A configuration error: passed on as it is, never resumed elsewhere.
      expect(error).toBeInstanceOf(ValidationError);
      expect((error as ValidationError).message).toMatch(/^Invalid budget: model: /);
      expect(p2.attempts).toHaveLength(0);
    });
  });

  it('should list it with the others when no candidate is left, not blame the request', () => {
    const testScheduler = createScheduler();
    testScheduler.run(({ flush }) => {
      const p1 = fake('p1', { marble: '-#', error: 503 });
      const p2 = fake('p2', { marble: '#', error: refusal('p2') });
      const { router } = routeOf(testScheduler, { p1, p2 }, [
        { provider: 'p1', model: 'm1' },
        { provider: 'p2', model: 'm2' },
      ]);
      let error: unknown;
      router.stream(ask('r', { n: 2 })).subscribe({ error: (e: unknown) => (error = e) });
      flush();
      // The primary's outage decides: a retryable 503, not a 400 from the backup.
      expect(error).toBeInstanceOf(AllProvidersFailedError);
      const all = error as AllProvidersFailedError;
      expect(all.status).toBe(503);
      expect(all.isRetryable).toBe(true);
      expect(all.attempts.map((a) => [a.candidate, (a.error as { code?: string }).code])).toEqual([
        ['p1/m1', 'RXLLM_PROVIDER_SERVER_ERROR'],
        ['p2/m2', 'RXLLM_INVALID_REQUEST'],
      ]);
      const refused = all.attempts[1]?.error as { status?: number; cause?: unknown };
      expect(refused.status).toBe(400);
      expect(refused.cause).toBeInstanceOf(ValidationError);
      expect(all.message).toContain('p2 cannot take this request (nothing was sent)');
      expect(all.message).toContain('n: p2 returns one choice per request');
    });
  });

  it("should answer 400 when every candidate refuses, and pass the router's own validation as it is", () => {
    const testScheduler = createScheduler();
    testScheduler.run(({ flush }) => {
      const p1 = fake('p1', { marble: '#', error: refusal('p1') });
      const { router } = routeOf(testScheduler, { p1 }, [{ provider: 'p1', model: 'm1' }]);
      let refusedAll: unknown;
      router.stream(ask('r', { n: 2 })).subscribe({ error: (e: unknown) => (refusedAll = e) });
      let invalid: unknown;
      router.stream(ask('r', { n: 0 })).subscribe({ error: (e: unknown) => (invalid = e) });
      flush();
      expect(refusedAll).toBeInstanceOf(AllProvidersFailedError);
      expect((refusedAll as AllProvidersFailedError).status).toBe(400);
      expect((refusedAll as AllProvidersFailedError).isRetryable).toBe(false);
      // n: 0 is wrong everywhere: the router's validation, no provider called.
      expect(invalid).toBeInstanceOf(ValidationError);
      expect((invalid as ValidationError).param).toBe('n');
      expect(p1.attempts).toHaveLength(1);
    });
  });
});

describe('createRouter: retries, events and requests', () => {
  it('should retry the same candidate after its Retry-After and report the retry', () => {
    const testScheduler = createScheduler();
    testScheduler.run(({ flush }) => {
      const p1 = fake('p1', [{ marble: '-#', error: rateLimited(40, { provider: 'p1' }) }, '-a|']);
      const { router, events } = track(
        setup(
          testScheduler,
          { p1 },
          {
            defaults: { retry: { maxAttempts: 3, initialDelayMs: 5, jitter: 'none' } },
            routes: { r: [{ provider: 'p1', model: 'm1' }] },
          },
        ),
      );
      const seen = record(testScheduler, router.stream(ask('r')));
      flush();
      expect(seen).toEqual(['42:p1:a', '43:|']);
      expect(p1.attempts.map((a) => a.subscribedFrame)).toEqual([0, 41]);
      expect(events.map((e) => e.type)).toEqual([
        'attempt',
        'attempt-end',
        'cooldown',
        'retry',
        'attempt',
        'attempt-end',
      ]);
      expect(events.find((e) => e.type === 'retry')).toMatchObject({
        candidate: 'p1/m1',
        attempt: 2,
        delayMs: 40,
        code: 'RXLLM_RATE_LIMITED',
      });
      const [session] = router.sessions.list();
      expect(session).toMatchObject({ state: 'completed', attempts: 2, retries: 1, failovers: 0 });
    });
  });

  it('should fail over on a first-token timeout without retrying the silent candidate', () => {
    const testScheduler = createScheduler();
    testScheduler.run(({ flush }) => {
      const silent = fake('silent', '-----------a|');
      const backup = fake('backup', '-b|');
      const { router } = track(
        setup(
          testScheduler,
          { silent, backup },
          {
            defaults: { retry: { maxAttempts: 3 }, timeouts: { firstTokenMs: 5 } },
            routes: {
              r: [
                { provider: 'silent', model: 'm1' },
                { provider: 'backup', model: 'm2' },
              ],
            },
          },
        ),
      );
      const seen = record(testScheduler, router.stream(ask('r')));
      flush();
      expect(seen).toEqual(['6:backup:b', '7:|']);
      expect(silent.attempts).toHaveLength(1);
      expect(router.health().candidates[0]?.counts.timeout).toBe(1);
    });
  });

  it('should use per-request fallbacks after the route and strip them from the request', () => {
    const testScheduler = createScheduler();
    testScheduler.run(({ flush }) => {
      const p1 = fake('p1', { marble: '-#', error: 503 });
      const p2 = fake('p2', { marble: '-#', error: 503 });
      const p3 = fake('p3', '-c|');
      const { router } = track(
        setup(
          testScheduler,
          { p1, p2, p3 },
          {
            routes: {
              a: [{ provider: 'p1', model: 'm1' }],
              b: [{ provider: 'p2', model: 'm2' }],
              c: [{ provider: 'p3', model: 'm3' }],
            },
          },
        ),
      );
      const viaModels = record(testScheduler, router.stream(ask('a', { models: ['a', 'b', 'c'] })));
      flush();
      const viaFallbacks = record(
        testScheduler,
        router.stream(ask('a', { fallbacks: [{ model: 'b' }, 'c'] })),
      );
      flush();
      expect(viaModels.slice(-2)).toEqual(['3:p3:c', '4:|']);
      expect(viaFallbacks.slice(-1)[0]).toMatch(/:\|$/);
      expect(p3.requests[0]).not.toHaveProperty('models');
      expect(p3.requests[1]).not.toHaveProperty('fallbacks');
      expect(p3.requests[0]?.model).toBe('m3');
    });
  });

  it('should reject bad input with errors that name the field', () => {
    const testScheduler = createScheduler();
    testScheduler.run(({ flush }) => {
      const { router } = track(
        setup(
          testScheduler,
          { p: fake('p', '-a|') },
          { routes: { r: [{ provider: 'p', model: 'm' }] } },
        ),
      );
      const errors: unknown[] = [];
      for (const input of [
        { model: 'r' },
        ask('nope'),
        ask('r', { fallbacks: ['nope'] }),
        ask('r', { models: 'r' }),
      ]) {
        router.stream(input).subscribe({ error: (e: unknown) => errors.push(e) });
      }
      flush();
      expect(errors[0]).toBeInstanceOf(ValidationError);
      expect((errors[0] as ValidationError).param).toBe('messages');
      expect(errors[1]).toBeInstanceOf(UnknownModelError);
      expect((errors[1] as UnknownModelError).available).toEqual(['r']);
      expect((errors[2] as ValidationError).param).toBe('fallbacks[0]');
      expect((errors[3] as ValidationError).param).toBe('models');
      expect(router.sessions.list()).toEqual([]);
    });
  });

  it('should reject a config that names an unknown provider, naming the path', () => {
    expect(() =>
      createRouter({
        providers: { openai: fake('openai', '|') },
        routes: {
          fast: {
            candidates: [
              { provider: 'openai', model: 'a' },
              { provider: 'anthropc', model: 'b' },
            ],
          },
        },
      }),
    ).toThrow('routes.fast.candidates[1].provider: unknown provider "anthropc" (known: openai)');
    expect(() =>
      createRouter({
        providers: { p: fake('p', '|') },
        routes: {
          r: { candidates: [{ provider: 'p', model: 'a' }], strategy: 'fastest' as never },
        },
      }),
    ).toThrow(/routes\.r\.strategy/);
  });

  it('should stop at the budget and report it', () => {
    const testScheduler = createScheduler();
    testScheduler.run(({ flush }) => {
      const words = ['aaaa', 'bbbb', 'cccc', 'dddd'];
      const p = fakeProvider({
        name: 'p',
        attempts: {
          marble: '-abcd|',
          values: Object.fromEntries(
            ['a', 'b', 'c', 'd'].map((k, i) => [
              k,
              textChunk(words[i] ?? '', { provider: 'p', model: 'm' }),
            ]),
          ),
        },
      });
      const router = createRouter({
        providers: { p },
        scheduler: testScheduler,
        pricing: createPricing({
          catalog: null,
          models: { 'p/m': { input: 0, output: 1_000_000 } },
        }),
        routes: { r: { candidates: [{ provider: 'p', model: 'm' }], budgetUsd: 2.5 } },
      });
      routers.push(router);
      const events: RouterEvent[] = [];
      router.events$.subscribe((e) => events.push(e));
      const seen = record(testScheduler, router.stream(ask('r')));
      flush();
      // $1 per estimated token, 1 token per 4 characters: the third chunk passes $2.5.
      expect(seen).toEqual(['1:p:aaaa', '2:p:bbbb', '3:#RXLLM_BUDGET_EXCEEDED']);
      expect(events.find((e) => e.type === 'budget')).toMatchObject({ maxUsd: 2.5, spentUsd: 3 });
      expect(p.attempts[0]?.outcome).toBe('unsubscribed');
      expect(router.sessions.list()[0]).toMatchObject({ state: 'failed', costUsd: 3 });
    });
  });
});

describe('createRouter: cost', () => {
  it('should price each leg of a resumed answer at the model that served it', () => {
    const testScheduler = createScheduler();
    testScheduler.run(({ flush }) => {
      const dear = fakeProvider({
        name: 'dear',
        attempts: {
          marble: '-a#',
          values: { a: textChunk('aaaa', { provider: 'dear', model: 'm1' }) },
          error: 503,
        },
      });
      const free = fakeProvider({
        name: 'free',
        attempts: {
          marble: '-b|',
          values: { b: textChunk('bbbb', { provider: 'free', model: 'm2' }) },
        },
      });
      const router = createRouter({
        providers: { dear, free },
        scheduler: testScheduler,
        pricing: createPricing({
          catalog: null,
          models: {
            'dear/m1': { input: 0, output: 1_000_000 },
            'free/m2': { input: 0, output: 0 },
          },
        }),
        defaults: { retry: false },
        routes: {
          r: {
            failover: 'resume',
            budgetUsd: 10,
            candidates: [
              { provider: 'dear', model: 'm1' },
              { provider: 'free', model: 'm2' },
            ],
          },
        },
      });
      routers.push(router);
      const seen = record(testScheduler, router.stream(ask('r'), { sessionId: 's' }));
      flush();
      expect(seen).toEqual(['1:dear:aaaa', '3:free:bbbb', '4:|']);
      // 'aaaa' is one estimated token at $1 on m1; m2 is free: the answer cost $1, not $0.
      expect(router.sessions.get('s')).toMatchObject({ costUsd: 1, completionTokens: 2 });
    });
  });
});

describe('createRouter: sessions', () => {
  it('should let a second viewer attach and replay, with one upstream call', () => {
    const testScheduler = createScheduler();
    testScheduler.run(({ flush }) => {
      const p = fake('p', '-a-b-c|');
      const { router } = track(
        setup(testScheduler, { p }, { routes: { r: [{ provider: 'p', model: 'm' }] } }),
      );
      const first = record(testScheduler, router.stream(ask('r'), { sessionId: 's1' }));
      const late: string[][] = [];
      testScheduler.schedule(() => {
        late.push(record(testScheduler, router.sessions.attach('s1')));
        late.push(record(testScheduler, router.sessions.attach('s1', { fromIndex: 1 })));
      }, 4);
      flush();
      expect(first).toEqual(['1:p:a', '3:p:b', '5:p:c', '6:|']);
      expect(late[0]).toEqual(['4:p:a', '4:p:b', '5:p:c', '6:|']);
      expect(late[1]).toEqual(['4:p:b', '5:p:c', '6:|']);
      expect(p.attempts).toHaveLength(1);
      expect(router.sessions.get('s1')).toMatchObject({
        state: 'completed',
        chunks: 3,
        viewers: 3,
        ttftMs: 1,
        provider: 'p',
        candidate: 'p/m',
      });
      // A finished session replays too, with no new call.
      const after = record(testScheduler, router.sessions.attach('s1'));
      expect(after).toEqual(['6:p:a', '6:p:b', '6:p:c', '6:|']);
      expect(p.attempts).toHaveLength(1);
    });
  });

  it('should cancel a session, aborting its upstream at once', () => {
    const testScheduler = createScheduler();
    testScheduler.run(({ flush }) => {
      const p = fake('p', '-a-b-c|');
      const { router, events } = track(
        setup(testScheduler, { p }, { routes: { r: [{ provider: 'p', model: 'm' }] } }),
      );
      const seen = record(testScheduler, router.stream(ask('r'), { sessionId: 's' }));
      const states: string[] = [];
      router.sessions.watch('s').subscribe((s) => states.push(s.state));
      testScheduler.schedule(() => {
        expect(router.sessions.cancel('s')).toBe(true);
      }, 2);
      flush();
      expect(seen).toEqual(['1:p:a', '2:#RXLLM_CANCELLED']);
      expect(p.attempts[0]).toMatchObject({ outcome: 'unsubscribed', unsubscribedFrame: 2 });
      expect(states[0]).toBe('pending');
      expect(states.at(-1)).toBe('cancelled');
      expect(router.sessions.get('s')?.state).toBe('cancelled');
      expect(router.sessions.cancel('s')).toBe(false);
      expect(events.find((e) => e.type === 'attempt-end')).toMatchObject({ outcome: 'cancelled' });
      expect(router.health().candidates[0]?.counts.cancel).toBe(1);
    });
  });

  it('should mark a session cancelled when its only viewer leaves', () => {
    const testScheduler = createScheduler();
    testScheduler.run(({ flush }) => {
      const p = fake('p', '-a-b-c|');
      const { router } = track(
        setup(testScheduler, { p }, { routes: { r: [{ provider: 'p', model: 'm' }] } }),
      );
      const sub = router.stream(ask('r'), { sessionId: 's' }).subscribe();
      testScheduler.schedule(() => {
        sub.unsubscribe();
      }, 3);
      flush();
      expect(router.sessions.get('s')?.state).toBe('cancelled');
      expect(p.attempts[0]?.unsubscribedFrame).toBe(3);
    });
  });

  it('should keep a bounded number of finished sessions for a bounded time', () => {
    const testScheduler = createScheduler();
    testScheduler.run(({ flush }) => {
      const { router } = track(
        setup(
          testScheduler,
          { p: fake('p', '-a|') },
          {
            routes: { r: [{ provider: 'p', model: 'm' }] },
            sessions: { maxFinished: 3, finishedTtlMs: 100 },
          },
        ),
      );
      for (let i = 0; i < 10; i++) {
        router.stream(ask('r'), { sessionId: `s${i}` }).subscribe();
        flush();
      }
      expect(router.sessions.list().map((s) => s.id)).toEqual(['s7', 's8', 's9']);
      testScheduler.schedule(() => undefined, 200);
      flush();
      expect(router.sessions.list()).toEqual([]);
      expect(router.sessions.get('s9')).toBeUndefined();
    });
  });

  it('should report usage and cost on the session from the usage chunk', () => {
    const testScheduler = createScheduler();
    testScheduler.run(({ flush }) => {
      const p = fakeProvider({
        name: 'p',
        attempts: {
          marble: '-afu|',
          values: {
            a: textChunk('Hello', { provider: 'p', model: 'm' }),
            f: finishChunk('stop', { provider: 'p', model: 'm' }),
            u: usageChunk({ prompt: 10, completion: 20 }, { provider: 'p', model: 'm' }),
          },
        },
      });
      const router = createRouter({
        providers: { p },
        scheduler: testScheduler,
        pricing: createPricing({ catalog: null, models: { 'p/m': { input: 1, output: 2 } } }),
        routes: { r: [{ provider: 'p', model: 'm' }] },
      });
      routers.push(router);
      router.stream(ask('r'), { sessionId: 's' }).subscribe();
      flush();
      expect(router.sessions.get('s')).toMatchObject({
        state: 'completed',
        completionTokens: 20,
        estimated: false,
        usage: { prompt_tokens: 10, completion_tokens: 20, total_tokens: 30 },
      });
      expect(router.sessions.get('s')?.costUsd).toBeCloseTo((10 * 1 + 20 * 2) / 1e6, 12);
    });
  });
});

describe('createRouter: health and close', () => {
  it('should emit health snapshots on an interval with rolling counts and latency', () => {
    const testScheduler = createScheduler();
    testScheduler.run(({ flush }) => {
      const p = fake('p', '---a|');
      const { router } = track(
        setup(
          testScheduler,
          { p },
          {
            routes: { r: [{ provider: 'p', model: 'm' }] },
            health: { intervalMs: 10, windowMs: 1000 },
          },
        ),
      );
      const snapshots: { at: number; success: number; p50: number | null }[] = [];
      const sub = router.health$.subscribe((h) =>
        snapshots.push({
          at: h.at,
          success: h.candidates[0]?.counts.success ?? 0,
          p50: h.candidates[0]?.ttftP50Ms ?? null,
        }),
      );
      router.stream(ask('r')).subscribe();
      testScheduler.schedule(() => {
        sub.unsubscribe();
      }, 25);
      flush();
      expect(snapshots).toEqual([
        { at: 0, success: 0, p50: null },
        { at: 10, success: 1, p50: 3 },
        { at: 20, success: 1, p50: 3 },
      ]);
    });
  });

  it('should probe candidates, close an open breaker on success, and stop on close()', () => {
    const testScheduler = createScheduler();
    testScheduler.run(({ flush }) => {
      const p1 = fake('p1', [{ marble: '-#', error: 503 }, { marble: '-#', error: 503 }, '-a|']);
      const { router, events } = track(
        setup(
          testScheduler,
          { p1 },
          {
            breaker: { volumeThreshold: 2 },
            health: { probes: { intervalMs: 50 } },
            routes: { r: [{ provider: 'p1', model: 'm' }] },
          },
        ),
      );
      // The probe timer never ends by itself: schedule everything, then flush once.
      record(testScheduler, router.stream(ask('r')));
      testScheduler.schedule(() => void record(testScheduler, router.stream(ask('r'))), 10);
      testScheduler.schedule(() => void router.close(), 120);
      flush();
      expect(events.filter((e) => e.type === 'breaker').map((e) => e.state)).toEqual([
        'open',
        'closed',
      ]);
      const probes = events.filter((e) => e.type === 'probe');
      expect(probes).toEqual([
        expect.objectContaining({ at: 52, candidate: 'p1/m', ok: true, latencyMs: 2 }),
        expect.objectContaining({ at: 102, candidate: 'p1/m', ok: true }),
      ]);
      expect(p1.requests[2]?.max_tokens).toBe(1);
      // close() stopped the probe timer: nothing is left on the scheduler.
      expect(testScheduler.actions).toHaveLength(0);
      expect(router.closed).toBe(true);
    });
  });

  it('should end live sessions and leave nothing scheduled when closed', () => {
    const testScheduler = createScheduler();
    testScheduler.run(({ flush }) => {
      const p = fake('p', '-a-b---------c|');
      const { router } = track(
        setup(
          testScheduler,
          { p },
          {
            routes: { r: [{ provider: 'p', model: 'm' }] },
            defaults: { retry: { maxAttempts: 3 }, timeouts: { idleMs: 100, totalMs: 1000 } },
          },
        ),
      );
      const seen = record(testScheduler, router.stream(ask('r')));
      let health = 0;
      router.health$.subscribe({ complete: () => health++ });
      let eventsDone = false;
      router.events$.subscribe({ complete: () => (eventsDone = true) });
      testScheduler.schedule(() => void router.close(), 4);
      flush();
      expect(seen).toEqual(['1:p:a', '3:p:b', '4:#RXLLM_ROUTER_CLOSED']);
      expect(p.attempts[0]?.outcome).toBe('unsubscribed');
      expect(health).toBe(1);
      expect(eventsDone).toBe(true);
      expect(testScheduler.actions).toHaveLength(0);
      let after: unknown;
      router.stream(ask('r')).subscribe({ error: (e: unknown) => (after = e) });
      expect(after).toMatchObject({ code: 'RXLLM_ROUTER_CLOSED' });
    });
  });
});

it('should release subscriptions made by the test helpers', () => {
  // Guard for the fixtures above: a Subscription is a plain object, nothing global is left.
  expect(new Subscription().closed).toBe(false);
});
