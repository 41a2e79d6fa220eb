import { lastValueFrom, takeWhile, tap, toArray, type Observable } from 'rxjs';
import type { StreamingChunk } from '../../src/chunk/streaming-chunk';
import type { SessionState } from '../../src/sessions/session-info';
import { simulatedText, type AttemptRecord } from '../../src/simulator/index';
import { chatRequest, chunkText, keysPerProvider } from '../helpers/provider-fixtures';
import {
  candidateHealth,
  chatAttempts,
  endedChatAttempts,
  servedBy,
  useRouterSimulator,
} from '../helpers/router-fixtures';

/**
 * Load: 1,000 routed streams at once against the simulator, one in ten cancelled mid-way. The
 * others complete with the exact answer; the cancelled sessions end `cancelled` and their
 * requests are aborted; the sessions kept stay bounded; and nothing is left afterwards.
 */

const STREAMS = 1000;
/** Every CANCEL_EVERY-th stream is cancelled after its first CANCEL_AFTER text chunks. */
const CANCEL_EVERY = 10;
const CANCEL_AFTER = 3;
const MAX_FINISHED = 50;
const PROMPT = 'Many streams at once';
/** A short answer: this test is about concurrency, and this machine has two cores. */
const TOKENS = 12;
const FULL = simulatedText(PROMPT, TOKENS);
/**
 * Slowly paced answers (2.4 s each). Sending a request and relaying its answer costs this
 * process (router, providers and simulator together) a few ms of CPU, so 1,000 requests take
 * seconds to go out on two cores: only answers that last as long overlap on the wire in the
 * hundreds. Pacing adds waiting, not work.
 */
const TOKENS_PER_SECOND = 5;
const PAUSING = `sim-fault-stall-after-${CANCEL_AFTER}-10000`;

const env = useRouterSimulator({
  keys: keysPerProvider('router-load'),
  simulator: { tokensPerSecond: TOKENS_PER_SECOND, maxAttempts: 2 * STREAMS },
});

/** The text chunks of `stream$` until `count` arrived, then unsubscribes (a consumer leaving). */
function firstTexts(stream$: Observable<StreamingChunk>, count: number): Promise<string[]> {
  const texts: string[] = [];
  return lastValueFrom(
    stream$.pipe(
      tap((chunk) => {
        const text = chunkText(chunk);
        if (text !== '') texts.push(text);
      }),
      // Unsubscribes from the router's stream as soon as the count is reached.
      takeWhile(() => texts.length < count),
      toArray(),
    ),
    { defaultValue: [] },
  ).then(() => texts);
}

/** The most attempts the simulator was answering at the same time. */
function peakOverlap(attempts: readonly AttemptRecord[]): number {
  const edges = attempts.flatMap((a) => [
    [a.time, 1],
    [a.endedAt ?? Infinity, -1],
  ]);
  edges.sort((x, y) => x[0]! - y[0]! || x[1]! - y[1]!);
  let open = 0;
  let peak = 0;
  for (const [, delta] of edges) {
    open += delta!;
    peak = Math.max(peak, open);
  }
  return peak;
}

describe('1,000 concurrent routed streams', () => {
  it('should complete every stream not cancelled exactly, end the cancelled ones cancelled, and leave nothing behind', async () => {
    const t = env.router({
      providers: {
        // One connection per stream: a smaller pool would queue requests (on purpose or not).
        openai: env.provider('openai', {
          connections: STREAMS,
          headers: { 'x-simulator-tokens': String(TOKENS) },
        }),
        anthropic: env.provider('anthropic'),
      },
      routes: {
        chat: [
          { provider: 'openai', model: 'gpt-4o-mini' },
          { provider: 'anthropic', model: 'claude-sonnet-4-5' },
        ],
        // What the cancelled streams ask for: the same answer, paused after CANCEL_AFTER tokens
        // far longer than the test, so that each is cut mid-answer on the wire whatever the
        // machine's load (a paced answer can be all sent before a slow client's close).
        'chat-pausing': [
          { provider: 'openai', model: PAUSING },
          { provider: 'anthropic', model: 'claude-sonnet-4-5' },
        ],
      },
      // The default timeouts (30 s): on this two-core machine, shared with other work, the last
      // of 1,000 requests can wait seconds for the CPU before it even reaches the simulator.
      sessions: { maxFinished: MAX_FINISHED },
    });
    const { router } = t;
    const finalStates = new Map<string, SessionState>();
    const watching = router.sessions.changes$.subscribe((s) => {
      if (s.state === 'completed' || s.state === 'failed' || s.state === 'cancelled') {
        finalStates.set(s.id, s.state);
      }
    });
    const request = chatRequest('chat', PROMPT);
    const started = performance.now();

    const runs = Array.from({ length: STREAMS }, (_, i) => {
      const sessionId = `load-${i}`;
      if (i % CANCEL_EVERY === 0) {
        const stream$ = router.stream({ ...request, model: 'chat-pausing' }, { sessionId });
        return firstTexts(stream$, CANCEL_AFTER).then((texts) => ({
          i,
          cancelled: true,
          text: texts.join(''),
          servedBy: [] as string[],
        }));
      }
      return lastValueFrom(router.stream(request, { sessionId }).pipe(toArray())).then(
        (chunks) => ({
          i,
          cancelled: false,
          text: chunks.map(chunkText).join(''),
          servedBy: servedBy(chunks),
        }),
      );
    });
    const results = await Promise.all(runs);
    const elapsedMs = performance.now() - started;
    watching.unsubscribe();

    // Every stream that was not cancelled has the whole answer, from the primary.
    const completed = results.filter((r) => !r.cancelled);
    const cancelled = results.filter((r) => r.cancelled);
    expect(completed).toHaveLength(STREAMS - STREAMS / CANCEL_EVERY);
    expect(cancelled).toHaveLength(STREAMS / CANCEL_EVERY);
    for (const r of completed) {
      expect(r.text).toBe(FULL);
      expect(r.servedBy).toEqual(['openai/gpt-4o-mini']);
    }
    // The cancelled ones got the start of it, then left.
    for (const r of cancelled) expect(r.text).toBe(simulatedText(PROMPT, CANCEL_AFTER));

    // Sessions: each ended in the right state; the finished ones kept are bounded.
    expect(finalStates.size).toBe(STREAMS);
    for (const r of results) {
      expect(finalStates.get(`load-${r.i}`)).toBe(r.cancelled ? 'cancelled' : 'completed');
    }
    const kept = router.sessions.list();
    expect(kept.length).toBeLessThanOrEqual(MAX_FINISHED);
    expect(kept.every((s) => s.state === 'completed' || s.state === 'cancelled')).toBe(true);

    // The simulator: one attempt per stream; the cancelled ones aborted mid-answer.
    const attempts = await endedChatAttempts(env.sim, STREAMS, { timeoutMs: 5000 });
    expect(attempts).toHaveLength(STREAMS);
    const aborted = attempts.filter((a) => a.outcome === 'client-closed');
    expect(aborted).toHaveLength(STREAMS / CANCEL_EVERY);
    for (const a of aborted) expect(a).toMatchObject({ model: PAUSING, tokensSent: CANCEL_AFTER });
    expect(attempts.filter((a) => a.outcome === 'completed')).toHaveLength(
      STREAMS - STREAMS / CANCEL_EVERY,
    );
    expect(chatAttempts(env.sim, 'claude-sonnet-4-5')).toEqual([]);
    // They really overlapped on the wire (about 350 at once on this machine).
    expect(peakOverlap(attempts)).toBeGreaterThanOrEqual(100);

    // Health: nothing running; every stream counted once.
    expect(candidateHealth(router, 'openai/gpt-4o-mini')).toMatchObject({
      activeStreams: 0,
      breaker: 'closed',
      counts: { success: STREAMS - STREAMS / CANCEL_EVERY, cancel: 0, failure: 0, timeout: 0 },
    });
    expect(candidateHealth(router, `openai/${PAUSING}`)).toMatchObject({
      activeStreams: 0,
      breaker: 'closed',
      counts: { success: 0, cancel: STREAMS / CANCEL_EVERY, failure: 0, timeout: 0 },
    });
    // About 5 s on an idle two-core machine; a sanity bound, not a benchmark.
    expect(elapsedMs).toBeLessThan(30_000);

    // No socket, no timer left.
    await env.closeRouter(t);
  }, 60_000);
});
