import { simulatedText } from '../../src/simulator/index';
import { chatRequest, chunkText, keysPerProvider, sleep } from '../helpers/provider-fixtures';
import { chatAttempts, useRouterSimulator } from '../helpers/router-fixtures';

/**
 * Backpressure through the whole router: a slow `for await` consumer of
 * `router.streamChatCompletion` pauses the provider's socket (the simulator sees its writes
 * blocked), the consumer's buffer stays at the high-water mark, and the heap stays bounded even
 * though the session records every chunk it relays (for `attach`).
 */

const PROMPT = 'Hello';
const TOKENS = 100_000;
const HIGH_WATER_MARK = 16;
/** How long the slow consumer reads at least, and how slowly. */
const READ_FOR_MS = 1500;
const MS_PER_CHUNK = 100;
/** The reading stops here even if the server never blocked (and the test then fails). */
const MAX_READ_MS = 8000;
const MB = 1024 * 1024;

// tokensPerSecond is Infinity by default: the simulator writes as fast as the socket takes it.
const env = useRouterSimulator({ keys: keysPerProvider('router-backpressure') });

describe('a slow for-await consumer of a routed stream', () => {
  it('should pause the provider socket, keep the buffer at the high-water mark and the heap bounded, and cancel on break', async () => {
    const t = env.router({
      providers: {
        openai: env.provider('openai', { headers: { 'x-simulator-tokens': String(TOKENS) } }),
        anthropic: env.provider('anthropic'),
      },
      routes: {
        long: [
          { provider: 'openai', model: 'gpt-4o-mini' },
          { provider: 'anthropic', model: 'claude-sonnet-4-5' },
        ],
      },
    });
    const iterable = t.router.streamChatCompletion(
      chatRequest('long', PROMPT, { max_tokens: 2 * TOKENS }),
      { highWaterMark: HIGH_WATER_MARK },
    );
    const heapBefore = process.memoryUsage().heapUsed;
    let heapMax = heapBefore;
    let text = '';
    let read = 0;
    let blockedAt: number | undefined;
    let bytesWhenBlocked = 0;
    const started = performance.now();
    for await (const chunk of iterable) {
      text += chunkText(chunk);
      read++;
      heapMax = Math.max(heapMax, process.memoryUsage().heapUsed);
      const now = performance.now();
      const attempt = chatAttempts(env.sim)[0]!;
      if (blockedAt === undefined && attempt.writeReturnedFalse > 0) {
        blockedAt = now;
        bytesWhenBlocked = attempt.bytesSent;
      }
      // Read for READ_FOR_MS, and on until the server has been blocked a little while: how
      // fast the kernel's socket buffers fill varies with the machine's load.
      const done =
        now - started >= READ_FOR_MS && blockedAt !== undefined && now - blockedAt >= 300;
      if (done || now - started >= MAX_READ_MS) break;
      await sleep(MS_PER_CHUNK);
    }
    const [attempt, ...others] = chatAttempts(env.sim);
    const [session] = t.router.sessions.list();

    // What was read is the start of the answer, in order, from the primary.
    expect(others).toEqual([]);
    expect(text.length).toBeGreaterThan(0);
    expect(simulatedText(PROMPT, read + 1).startsWith(text)).toBe(true);
    // The consumer's buffer never went past the high-water mark...
    expect(iterable.maxBuffered).toBeLessThanOrEqual(HIGH_WATER_MARK);
    // ...because reading paused, the socket filled, and the server had to wait for 'drain'.
    expect(attempt!.writeReturnedFalse).toBeGreaterThan(0);
    expect(attempt!.tokensSent).toBeLessThan(TOKENS);
    // Once blocked, the server stayed blocked: the consumer had not caught up.
    expect(attempt!.bytesSent - bytesWhenBlocked).toBeLessThan(MB);
    // The session's recording holds what the router relayed: what was read, plus the buffer.
    expect(session!.chunks).toBeLessThanOrEqual(read + HIGH_WATER_MARK + 2);
    expect(heapMax - heapBefore).toBeLessThan(50 * MB);

    // Leaving the loop cancels the session and its request.
    const closed = await env.sim.waitForAttempt(
      (a) => a.id === attempt!.id && a.outcome === 'client-closed',
      { timeoutMs: 1000 },
    );
    expect(closed.tokensSent).toBeLessThan(TOKENS);
    expect(t.router.sessions.get(session!.id)).toMatchObject({ state: 'cancelled' });
    await env.closeRouter(t);
  });
});
