import type { StreamFormat } from '../../../src/chunk/streaming-chunk';
import { toAsyncIterable } from '../../../src/flow/to-async-iterable';
import type { Provider } from '../../../src/providers/provider';
import { simulatedText } from '../../../src/simulator/index';
import {
  chatRequest,
  keysPerProvider,
  sleep,
  useProviderSimulator,
} from '../../helpers/provider-fixtures';

const formats: readonly StreamFormat[] = ['openai', 'anthropic', 'google'];

const TOKENS = 100_000;
const HIGH_WATER_MARK = 16;
/** How long the slow consumer reads, and how slowly. */
const READ_FOR_MS = 1500;
const MS_PER_CHUNK = 100;
/** The reading stops here even if the server never blocked (and the test then fails). */
const MAX_READ_MS = 8000;
const MB = 1024 * 1024;

// tokensPerSecond is Infinity by default: the simulator writes as fast as the socket takes it.
const env = useProviderSimulator({ keys: keysPerProvider('backpressure', '0123') });

/** A provider whose every request asks the simulator for a 100,000-token answer. */
function make(format: StreamFormat): Provider {
  return env.provider(format, { headers: { 'x-simulator-tokens': String(TOKENS) } });
}

describe('a slow consumer of a fast provider', () => {
  it.each(formats)(
    'should pause the socket, keep the buffer and heap bounded, and close on break (%s)',
    async (format) => {
      env.sim.clearAttempts();
      const provider = make(format);
      const iterable = toAsyncIterable(
        provider.stream(
          // Above the answer's length (Anthropic would otherwise cap it at 4096 tokens).
          chatRequest(`big-${format}`, 'Hello', { max_tokens: 2 * TOKENS }),
        ),
        { highWaterMark: HIGH_WATER_MARK },
      );
      const heapBefore = process.memoryUsage().heapUsed;
      let heapMax = heapBefore;
      let text = '';
      // When the server first saw write() return false, and how much it had sent by then.
      let blockedAt: number | undefined;
      let bytesWhenBlocked = 0;
      const started = performance.now();
      for await (const chunk of iterable) {
        text += chunk.choices[0]?.delta.content ?? '';
        heapMax = Math.max(heapMax, process.memoryUsage().heapUsed);
        const now = performance.now();
        const attempt = env.sim.attempts[0]!;
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
      const attempt = env.sim.attempts[0]!;

      // What was read is the start of the answer, in order.
      expect(text.length).toBeGreaterThan(0);
      expect(simulatedText('Hello', 40).startsWith(text)).toBe(true);
      // The consumer's buffer never went past the high-water mark...
      expect(iterable.maxBuffered).toBeLessThanOrEqual(HIGH_WATER_MARK);
      // ...because reading paused, the socket filled, and the server had to wait for 'drain'.
      expect(attempt.writeReturnedFalse).toBeGreaterThan(0);
      expect(attempt.tokensSent).toBeLessThan(TOKENS);
      // Once blocked, the server stayed blocked: the consumer had not caught up.
      expect(attempt.bytesSent - bytesWhenBlocked).toBeLessThan(MB);
      expect(heapMax - heapBefore).toBeLessThan(50 * MB);

      // Leaving the loop cancels the request.
      const closed = await env.sim.waitForAttempt(
        (a) => a.id === attempt.id && a.outcome === 'client-closed',
        { timeoutMs: 1000 },
      );
      expect(closed.tokensSent).toBeLessThan(TOKENS);
    },
  );
});
