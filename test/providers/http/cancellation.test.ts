import { lastValueFrom, take, toArray, type Subscription } from 'rxjs';
import type { StreamingChunk } from '../../../src/chunk/streaming-chunk';
import type { Provider } from '../../../src/providers/provider';
import { simulatedText, type AttemptRecord } from '../../../src/simulator/index';
import {
  chatRequest,
  keysPerProvider,
  PROVIDER_KINDS as kinds,
  sleep,
  streamError,
  useProviderSimulator,
} from '../../helpers/provider-fixtures';

/** The longest a close may take to reach the simulator. */
const CLOSE_WITHIN_MS = 100;
/** Long enough that a stream never finishes on its own during a test. */
const FOREVER = 'stall-after-2-5000';

const env = useProviderSimulator({ keys: keysPerProvider('cancel') });
/**
 * The simulator's clock is `performance.now()` minus its start time, which it does not expose.
 * These bound that start time from both sides, on our `performance.now()`: first the readings
 * taken around its start, then narrowed in `beforeAll`.
 */
let simStartedAfter: number;
let simStartedBefore: number;

beforeAll(async () => {
  simStartedAfter = env.startedAfter;
  simStartedBefore = env.startedBefore;
  // Narrow the bounds: a request that left at t0 and was answered by t1 arrived at some local
  // time in [t0, t1], which the simulator recorded as `time` on its clock.
  const probe = env.provider('openai');
  for (let i = 0; i < 3; i++) {
    const t0 = performance.now();
    await probe.healthCheck!();
    const t1 = performance.now();
    const { time } = env.sim.attempts[env.sim.attempts.length - 1]!;
    simStartedAfter = Math.max(simStartedAfter, t0 - time);
    simStartedBefore = Math.min(simStartedBefore, t1 - time);
  }
  // The first abort in a process loads and compiles undici's and Node's abort paths (50-150 ms
  // under jest); do it once here so that the tests measure the close itself.
  const warmUp = subscribeUntil(probe.stream(chatRequest(`sim-fault-${FOREVER}`)), 2);
  await warmUp.ready;
  warmUp.subscription.unsubscribe();
  await env.sim.waitForAttempt((a) => a.outcome === 'client-closed');
});

beforeEach(() => {
  env.sim.clearAttempts();
});

/** The only attempt of this test, once `predicate` holds for it. */
function theAttempt(
  predicate: (a: AttemptRecord) => boolean,
  timeoutMs = 2000,
): Promise<AttemptRecord> {
  return env.sim.waitForAttempt(predicate, { timeoutMs });
}

/**
 * The most the simulator's record of a client close can lag behind `unsubscribedAt` (a local
 * `performance.now()` reading): an upper bound, since the simulator started no later than
 * `simStartedBefore`.
 */
function closeLagUpperBound(attempt: AttemptRecord, unsubscribedAt: number): number {
  const simNowAtUnsubscribe = unsubscribedAt - simStartedBefore;
  return attempt.clientClosedAt! - simNowAtUnsubscribe;
}

/** Subscribes, collecting chunks and errors, and resolves once `n` text chunks arrived. */
function subscribeUntil(
  stream$: ReturnType<Provider['stream']>,
  n: number,
): {
  subscription: Subscription;
  chunks: StreamingChunk[];
  errors: unknown[];
  ready: Promise<void>;
} {
  const chunks: StreamingChunk[] = [];
  const errors: unknown[] = [];
  let resolveReady!: () => void;
  let rejectReady!: (e: unknown) => void;
  const ready = new Promise<void>((resolve, reject) => {
    resolveReady = resolve;
    rejectReady = reject;
  });
  let texts = 0;
  const subscription = stream$.subscribe({
    next(chunk) {
      chunks.push(chunk);
      if ((chunk.choices[0]?.delta.content ?? '') !== '' && ++texts === n) resolveReady();
    },
    error(e: unknown) {
      errors.push(e);
      rejectReady(e);
    },
    complete() {
      rejectReady(new Error('completed before the cancel'));
    },
  });
  return { subscription, chunks, errors, ready };
}

describe('unsubscribing', () => {
  it.each(kinds)(
    'should close the connection within 100 ms of an unsubscribe mid-stream (%s)',
    async (kind) => {
      const { subscription, chunks, errors, ready } = subscribeUntil(
        env.provider(kind).stream(chatRequest(`sim-fault-${FOREVER}`)),
        2,
      );
      await ready;
      const stalled = await theAttempt((a) => a.stalls.length > 0);
      expect(stalled.outcome).toBe('in-progress');

      const unsubscribedAt = performance.now();
      subscription.unsubscribe();
      const closed = await theAttempt((a) => a.outcome === 'client-closed', 1000);
      const seenAfter = performance.now() - unsubscribedAt;

      const lag = closeLagUpperBound(closed, unsubscribedAt);
      // The close came after the unsubscribe (up to the uncertainty of the clocks' offset).
      expect(lag).toBeGreaterThanOrEqual(-(simStartedBefore - simStartedAfter));
      expect(lag).toBeLessThan(CLOSE_WITHIN_MS);
      expect(seenAfter).toBeLessThan(CLOSE_WITHIN_MS);
      expect(closed.stalls[0]!.endedAt).toBeUndefined();
      expect(closed.tokensSent).toBe(2);
      // An unsubscribe is not an error, and nothing more arrives.
      const count = chunks.length;
      await sleep(20);
      expect(chunks).toHaveLength(count);
      expect(errors).toEqual([]);
    },
  );

  it.each(kinds)(
    'should close the connection when unsubscribed before the headers (%s)',
    async (kind) => {
      const subscription = env
        .provider(kind)
        .stream(chatRequest('sim-fault-stall-headers-5000'))
        .subscribe({ error: () => undefined });
      await theAttempt((a) => a.stalls.length > 0);
      const unsubscribedAt = performance.now();
      subscription.unsubscribe();
      const closed = await theAttempt((a) => a.outcome === 'client-closed', 1000);
      expect(closeLagUpperBound(closed, unsubscribedAt)).toBeLessThan(CLOSE_WITHIN_MS);
      expect(closed).toMatchObject({ status: undefined, headersAt: undefined });
    },
  );

  it.each(kinds)('should close the connection after take(n) (%s)', async (kind) => {
    const chunks = await lastValueFrom(
      env
        .provider(kind)
        .stream(chatRequest(`sim-fault-${FOREVER}`))
        .pipe(take(2), toArray()),
    );
    expect(chunks).toHaveLength(2);
    expect(await theAttempt((a) => a.outcome === 'client-closed', 1000)).toBeDefined();
  });
});

describe('the signal option', () => {
  it.each(kinds)(
    'should error with the signal reason when aborted mid-stream (%s)',
    async (kind) => {
      const controller = new AbortController();
      const reason = new Error('the user pressed stop');
      const { errors, ready } = subscribeUntil(
        env
          .provider(kind)
          .stream(chatRequest(`sim-fault-${FOREVER}`), { signal: controller.signal }),
        2,
      );
      await ready;
      await theAttempt((a) => a.stalls.length > 0);
      const abortedAt = performance.now();
      controller.abort(reason);
      const closed = await theAttempt((a) => a.outcome === 'client-closed', 1000);
      expect(closeLagUpperBound(closed, abortedAt)).toBeLessThan(CLOSE_WITHIN_MS);
      await sleep(10);
      expect(errors).toHaveLength(1);
      expect(errors[0]).toBe(reason);
    },
  );

  it.each(kinds)(
    'should error with the signal reason when aborted before the headers (%s)',
    async (kind) => {
      const controller = new AbortController();
      const reason = new Error('gave up waiting');
      const failed = streamError(
        env
          .provider(kind)
          .stream(chatRequest('sim-fault-stall-headers-5000'), { signal: controller.signal }),
      );
      await theAttempt((a) => a.stalls.length > 0);
      controller.abort(reason);
      expect(await failed).toBe(reason);
      await theAttempt((a) => a.outcome === 'client-closed', 1000);
    },
  );

  it.each(kinds)('should not send anything with an already-aborted signal (%s)', async (kind) => {
    const reason = new Error('too late');
    const error = await streamError(
      env.provider(kind).stream(chatRequest('never-sent'), { signal: AbortSignal.abort(reason) }),
    );
    expect(error).toBe(reason);
    await sleep(20);
    expect(env.sim.attempts).toEqual([]);
  });
});

describe('a pool of one connection', () => {
  /** Ways a stream can end before its body was read to the end. */
  const endings: [string, (provider: Provider) => Promise<void>][] = [
    [
      'an unsubscribe mid-stream',
      async (provider) => {
        const { subscription, ready } = subscribeUntil(
          provider.stream(chatRequest(`sim-fault-${FOREVER}`)),
          2,
        );
        await ready;
        subscription.unsubscribe();
      },
    ],
    [
      'a signal abort mid-stream',
      async (provider) => {
        const controller = new AbortController();
        const { ready, errors } = subscribeUntil(
          provider.stream(chatRequest(`sim-fault-${FOREVER}`), { signal: controller.signal }),
          2,
        );
        await ready;
        controller.abort(new Error('stop'));
        await sleep(0);
        expect(errors).toHaveLength(1);
      },
    ],
    [
      'an unsubscribe before the headers',
      async (provider) => {
        const subscription = provider
          .stream(chatRequest('sim-fault-stall-headers-5000'))
          .subscribe({ error: () => undefined });
        await theAttempt((a) => a.stalls.length > 0);
        subscription.unsubscribe();
      },
    ],
    [
      'a ParseError while the server still holds the stream open',
      async (provider) => {
        const error = await streamError(
          provider.stream(chatRequest('sim-fault-malformed-at-2,stall-after-3-5000')),
        );
        expect(error).toMatchObject({ code: 'RXLLM_PARSE' });
      },
    ],
    [
      'an error status',
      async (provider) => {
        const error = await streamError(provider.stream(chatRequest('sim-fault-status-503')));
        expect(error).toMatchObject({ status: 503 });
      },
    ],
  ];
  const cases = endings.flatMap(([label, end]) => kinds.map((kind) => [kind, label, end] as const));

  it.each(cases)(
    'should serve the next %s request promptly after %s',
    async (kind, _label, end) => {
      const provider = env.provider(kind, { connections: 1 });
      await end(provider);
      const started = performance.now();
      const chunks = await lastValueFrom(provider.stream(chatRequest('next-one')).pipe(toArray()));
      const elapsed = performance.now() - started;
      expect(chunks.map((c) => c.choices[0]?.delta.content ?? '').join('')).toBe(
        simulatedText('Hello', 24),
      );
      // A pinned connection would hold this request until the 5 s stall ended.
      expect(elapsed).toBeLessThan(1000);
      expect(env.sim.attempts.filter((a) => a.model === 'next-one')).toHaveLength(1);
    },
  );
});
