import { retry, timer } from 'rxjs';
import { IncompleteStreamError } from '../../../src/errors/incomplete-stream-error';
import { NetworkError } from '../../../src/errors/network-error';
import { ParseError } from '../../../src/errors/parse-error';
import { ProviderError } from '../../../src/errors/provider-error';
import { RateLimitError } from '../../../src/errors/rate-limit-error';
import type { Provider } from '../../../src/providers/provider';
import type { ChatRequest } from '../../../src/request/chat-request';
import { simulatedText, type AttemptRecord } from '../../../src/simulator/index';
import {
  chatRequest,
  closedPort,
  keysPerProvider,
  latestEndedAttempt,
  PROVIDER_KINDS as kinds,
  runStream,
  useProviderSimulator,
  type ProviderKind,
  type StreamOutcome,
} from '../../helpers/provider-fixtures';

/** The simulator's default answer length. */
const TOKENS = 24;
const PROMPT = 'Hello';

const env = useProviderSimulator({ keys: keysPerProvider('faults') });
/** One provider of each kind, with no options, for the faults asked for by model name. */
const plain = new Map<ProviderKind, Provider>();

beforeAll(() => {
  for (const kind of kinds) plain.set(kind, env.provider(kind));
});

/** A request with the one user message {@link PROMPT}. */
function request(model: string, extra: Partial<ChatRequest> = {}): ChatRequest {
  return chatRequest(model, PROMPT, extra);
}

/** The simulator's record of the latest attempt with this model or fault, once it has ended. */
function attemptWith(predicate: (a: AttemptRecord) => boolean): Promise<AttemptRecord> {
  return latestEndedAttempt(env.sim, predicate);
}

describe('connection faults', () => {
  it.each(kinds)(
    'should fail with a NetworkError on a reset before the headers (%s)',
    async (kind) => {
      const model = 'sim-fault-reset-before-headers';
      const { error, chunks } = await runStream(plain.get(kind)!.stream(request(model)));
      expect(chunks).toEqual([]);
      expect(error).toBeInstanceOf(NetworkError);
      expect(error).toMatchObject({ code: 'RXLLM_NETWORK', isRetryable: true });
      expect(error?.provider).toBe(plain.get(kind)!.name);
      expect(await attemptWith((a) => a.model === model)).toMatchObject({
        outcome: 'reset',
        status: undefined,
      });
    },
  );

  it.each(kinds)(
    'should fail with a NetworkError when the connection is refused (%s)',
    async (kind) => {
      const port = await closedPort();
      const provider = env.provider(kind, { origin: `http://127.0.0.1:${port}` });
      const { error } = await runStream(provider.stream(request('m')));
      expect(error).toBeInstanceOf(NetworkError);
      expect(error).toMatchObject({ isRetryable: true, provider: provider.name });
      expect(error!.message).toContain(`127.0.0.1:${port}`);
    },
  );

  it.each(kinds)(
    'should fail with an IncompleteStreamError after K content chunks on a reset after K (%s)',
    async (kind) => {
      const model = 'sim-fault-reset-after-3';
      const { error, contentChunks, text } = await runStream(
        plain.get(kind)!.stream(request(model)),
      );
      expect(error).toBeInstanceOf(IncompleteStreamError);
      expect(error).toMatchObject({ code: 'RXLLM_INCOMPLETE_STREAM', isRetryable: true });
      expect(contentChunks).toBe(3);
      expect(text).toBe(simulatedText(PROMPT, 3));
      expect(await attemptWith((a) => a.model === model)).toMatchObject({
        outcome: 'reset',
        tokensSent: 3,
      });
    },
  );
});

describe('stalls', () => {
  const stalls: [string, string][] = [
    ['stall-headers-100', 'headers'],
    ['stall-first-token-100', 'first-token'],
    ['stall-after-2-100', 'after'],
  ];
  const cases = stalls.flatMap(([spec, kind]) => kinds.map((k) => [k, spec, kind] as const));

  it.each(cases)('should complete %s through a %s', async (kind, spec, stallKind) => {
    // By header this time: one provider per fault.
    const provider = env.provider(kind, { headers: { 'x-simulator-fault': spec } });
    const model = `stall-${kind}-${spec}`;
    const { error, text, elapsedMs } = await runStream(provider.stream(request(model)));
    expect(error).toBeUndefined();
    expect(text).toBe(simulatedText(PROMPT, TOKENS));
    expect(elapsedMs).toBeGreaterThanOrEqual(95);
    const attempt = await attemptWith((a) => a.model === model);
    expect(attempt).toMatchObject({ outcome: 'completed', fault: spec, faultSource: 'header' });
    expect(attempt.stalls[0]).toMatchObject({ kind: stallKind, ms: 100 });
  });
});

describe('broken streams', () => {
  it.each(kinds)(
    'should fail with a ParseError at a malformed event after K chunks (%s)',
    async (kind) => {
      const { error, contentChunks, text } = await runStream(
        plain.get(kind)!.stream(request('sim-fault-malformed-at-3')),
      );
      expect(error).toBeInstanceOf(ParseError);
      expect(error).toMatchObject({ code: 'RXLLM_PARSE', isRetryable: true });
      expect(contentChunks).toBe(3);
      expect(text).toBe(simulatedText(PROMPT, 3));
    },
  );

  it.each(kinds)(
    'should fail with an IncompleteStreamError when no terminal event comes (%s)',
    async (kind) => {
      const model = 'sim-fault-no-terminal';
      const { error, text } = await runStream(plain.get(kind)!.stream(request(model)));
      expect(error).toBeInstanceOf(IncompleteStreamError);
      // Every token arrived; only the end was missing.
      expect(text).toBe(simulatedText(PROMPT, TOKENS));
      expect(await attemptWith((a) => a.model === model)).toMatchObject({ outcome: 'no-terminal' });
    },
  );

  it.each(kinds)(
    'should fail with a retryable provider error sent in-band after K chunks (%s)',
    async (kind) => {
      const { error, contentChunks } = await runStream(
        plain.get(kind)!.stream(request('sim-fault-inband-error-after-3')),
      );
      expect(contentChunks).toBe(3);
      expect(error).toBeInstanceOf(ProviderError);
      expect(error).toMatchObject({ isRetryable: true, provider: plain.get(kind)!.name });
      expect((error as ProviderError).kind).toMatch(/^(overloaded|server_error)$/);
      expect(error!.message).toMatch(/overloaded/i);
    },
  );

  it.each(kinds)('should fail with a RateLimitError for an in-band 429 (%s)', async (kind) => {
    const { error, contentChunks } = await runStream(
      plain.get(kind)!.stream(request('sim-fault-inband-error-after-2-429')),
    );
    expect(contentChunks).toBe(2);
    expect(error).toBeInstanceOf(RateLimitError);
    expect(error?.code).toBe('RXLLM_RATE_LIMITED');
  });

  it.each(kinds)('should fail with a ParseError on invalid UTF-8 (%s)', async (kind) => {
    const { error, text } = await runStream(
      plain.get(kind)!.stream(request('sim-fault-invalid-utf8-at-2')),
    );
    expect(error).toBeInstanceOf(ParseError);
    // The read holding the bad bytes is refused whole, so fewer tokens may have come through.
    expect(simulatedText(PROMPT, 2).startsWith(text)).toBe(true);
  });
});

describe('odd but valid streams', () => {
  it.each(kinds)('should decode a slow drip of tiny pieces exactly (%s)', async (kind) => {
    const provider = env.provider(kind, { headers: { 'x-simulator-tokens': '5' } });
    const model = 'sim-fault-slow-drip-13-1';
    const { error, text } = await runStream(provider.stream(request(model)));
    expect(error).toBeUndefined();
    expect(text).toBe(simulatedText(PROMPT, 5));
    const attempt = await attemptWith((a) => a.model === model);
    expect(attempt.outcome).toBe('completed');
    // It really was dripped: about one piece per ms.
    expect(attempt.endedAt! - attempt.headersAt!).toBeGreaterThan(attempt.bytesSent / 13 / 2);
  });

  it.each(kinds)('should pass a 1 MiB event through whole (%s)', async (kind) => {
    const { error, chunks } = await runStream(
      plain.get(kind)!.stream(request('sim-fault-huge-event')),
    );
    expect(error).toBeUndefined();
    const texts = chunks.map((c) => c.choices[0]?.delta.content ?? '').filter((t) => t !== '');
    const huge = texts.filter((t) => t.length === 1_048_576);
    expect(huge).toHaveLength(1);
    expect(huge[0]!.startsWith(' huge huge')).toBe(true);
    expect(texts.filter((t) => t.length !== 1_048_576).join('')).toBe(
      simulatedText(PROMPT, TOKENS),
    );
  });
});

describe('flaky providers (each subscription is one request)', () => {
  /**
   * Runs `model` on a provider whose attempts the simulator counts together under `key`,
   * resubscribing up to `count` times, `delayMs` after each failure; `errors` are the failures.
   */
  async function runRetrying(
    kind: ProviderKind,
    key: string,
    model: string,
    { count, delayMs }: { count: number; delayMs: number },
  ): Promise<StreamOutcome & { errors: unknown[] }> {
    const provider = env.provider(kind, { headers: { 'x-simulator-key': key } });
    const errors: unknown[] = [];
    const outcome = await runStream(
      provider.stream(request(model)).pipe(
        retry({
          count,
          delay: (e: unknown) => {
            errors.push(e);
            return timer(delayMs);
          },
        }),
      ),
    );
    return { ...outcome, errors };
  }

  it.each(kinds)('should succeed on the 3rd subscription of succeed-on-3 (%s)', async (kind) => {
    const key = `succeed-${kind}`;
    const run = await runRetrying(kind, key, 'sim-fault-succeed-on-3', { count: 5, delayMs: 0 });
    expect(run.error).toBeUndefined();
    expect(run.text).toBe(simulatedText(PROMPT, TOKENS));
    expect(run.errors).toHaveLength(2);
    for (const e of run.errors) {
      expect(e).toBeInstanceOf(ProviderError);
      expect(e).toMatchObject({ status: 503, isRetryable: true });
    }
    await attemptWith((a) => a.faultKey === key);
    expect(env.sim.attempts.filter((a) => a.faultKey === key).map((a) => a.status)).toEqual([
      503, 503, 200,
    ]);
  });

  it.each(kinds)('should answer 503 while a provider flaps, then succeed (%s)', async (kind) => {
    const key = `flap-${kind}`;
    const run = await runRetrying(kind, key, 'sim-fault-flap-150', { count: 40, delayMs: 20 });
    expect(run.error).toBeUndefined();
    expect(run.text).toBe(simulatedText(PROMPT, TOKENS));
    expect(run.errors.length).toBeGreaterThanOrEqual(1);
    for (const e of run.errors) expect(e).toMatchObject({ status: 503, isRetryable: true });
    await attemptWith((a) => a.faultKey === key && a.status === 200);
    const attempts = env.sim.attempts.filter((a) => a.faultKey === key);
    const firstHit = attempts[0]!.time;
    expect(attempts[attempts.length - 1]!.time - firstHit).toBeGreaterThanOrEqual(150);
    expect(attempts.filter((a) => a.status === 503).every((a) => a.time - firstHit < 150)).toBe(
      true,
    );
  });

  it.each(kinds)(
    'should refuse a prefill with a non-retryable invalid request (%s)',
    async (kind) => {
      const model = 'sim-fault-reject-prefill';
      const withPrefill = request(model, {
        messages: [
          { role: 'user', content: PROMPT },
          { role: 'assistant', content: simulatedText(PROMPT, 2) },
        ],
      });
      const { error } = await runStream(plain.get(kind)!.stream(withPrefill));
      expect(error).toBeInstanceOf(ProviderError);
      expect(error).toMatchObject({
        kind: 'invalid_request',
        code: 'RXLLM_INVALID_REQUEST',
        status: 400,
        isRetryable: false,
      });
      // Without a prefill, the same fault lets the request through.
      const { error: none } = await runStream(plain.get(kind)!.stream(request(model)));
      expect(none).toBeUndefined();
    },
  );
});
