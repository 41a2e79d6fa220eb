import { firstValueFrom, lastValueFrom, toArray, catchError, of } from 'rxjs';
import { decodeProviderStream } from '../../src/providers/decode-provider-stream';
import { timeouts } from '../../src/operators/timeouts';
import type { StreamingChunk } from '../../src/chunk/streaming-chunk';
import { startSimulator } from '../../src/simulator/index';
import { anthropic } from '../../src/providers/http/anthropic-provider';

const encoder = new TextEncoder();
const openaiText = (text: string): string =>
  `data: {"id":"c1","created":7,"model":"m","choices":[{"index":0,"delta":{"content":"${text}"},"finish_reason":null}]}\n\n`;
const openaiEnd =
  'data: {"id":"c1","created":7,"model":"m","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}\n\ndata: [DONE]\n\n';

async function* body(...pieces: string[]): AsyncGenerator<Uint8Array> {
  for (const piece of pieces) {
    await Promise.resolve();
    yield encoder.encode(piece);
  }
}

describe('keep-alive chunks', () => {
  it('should emit an empty-choices chunk for each SSE comment when asked, in order', async () => {
    const chunks = await lastValueFrom(
      decodeProviderStream(
        'openai',
        body(': OPENROUTER PROCESSING\n\n', openaiText('a'), ': PING\n\n', openaiEnd),
        { keepAliveChunks: true, provider: 'openrouter' },
      ).pipe(toArray()),
    );
    expect(
      chunks.map((c) => (c.choices.length === 0 ? 'k' : (c.choices[0]!.delta.content ?? 'f'))),
    ).toEqual(['k', 'a', 'k', 'f']);
    // A keep-alive after content names the stream it belongs to.
    expect(chunks[2]).toEqual({
      id: 'c1',
      object: 'chat.completion.chunk',
      created: 7,
      model: 'm',
      provider: 'openrouter',
      choices: [],
    });
  });

  it('should emit a keep-alive chunk for an Anthropic ping when asked', async () => {
    const events = [
      'event: message_start\ndata: {"type":"message_start","message":{"id":"msg_1","model":"claude","usage":{"input_tokens":3,"output_tokens":1}}}\n\n',
      'event: ping\ndata: {"type": "ping"}\n\n',
      'event: message_delta\ndata: {"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":1}}\n\n',
      'event: message_stop\ndata: {"type":"message_stop"}\n\n',
    ];
    const chunks = await lastValueFrom(
      decodeProviderStream('anthropic', body(...events), { keepAliveChunks: true }).pipe(toArray()),
    );
    expect(chunks.filter((c) => c.choices.length === 0 && c.usage === undefined)).toHaveLength(1);
  });

  it('should emit nothing for keep-alives by default', async () => {
    const chunks = await lastValueFrom(
      decodeProviderStream(
        'openai',
        body(': PING\n\n', openaiText('a'), ': PING\n\n', openaiEnd),
      ).pipe(toArray()),
    );
    expect(chunks).toHaveLength(2);
  });
});

describe('keep-alives and the idle timeout', () => {
  beforeEach(() => {
    jest.useFakeTimers();
  });
  afterEach(() => {
    jest.useRealTimers();
  });

  /** A body whose pieces are released by the test, one per call to `release`. */
  function gatedBody(pieces: string[]): { body: AsyncGenerator<Uint8Array>; release: () => void } {
    const gates: (() => void)[] = [];
    let opened = 0;
    async function* generate(): AsyncGenerator<Uint8Array> {
      for (const piece of pieces) {
        if (opened === 0) await new Promise<void>((resolve) => gates.push(resolve));
        else opened--;
        yield encoder.encode(piece);
      }
    }
    return {
      body: generate(),
      release: () => {
        const gate = gates.shift();
        if (gate === undefined) opened++;
        else gate();
      },
    };
  }

  async function run(keepAliveChunks: boolean): Promise<string> {
    const { body: gated, release } = gatedBody([openaiText('a'), ': PING\n\n', openaiEnd]);
    const outcome = firstValueFrom(
      decodeProviderStream('openai', gated, { keepAliveChunks }).pipe(
        timeouts<StreamingChunk>({ idle: 300 }),
        toArray(),
        catchError((error: unknown) =>
          of((error as Error).name + ':' + String((error as { kind?: string }).kind)),
        ),
      ),
    );
    release(); // the first content
    await jest.advanceTimersByTimeAsync(250);
    release(); // a keep-alive, 250 ms later
    await jest.advanceTimersByTimeAsync(250);
    release(); // the end, 500 ms after the content: past the idle limit unless the keep-alive counted
    await jest.advanceTimersByTimeAsync(10);
    const result = await outcome;
    return Array.isArray(result) ? `completed:${result.length}` : result;
  }

  it('should let a wire keep-alive restart the idle clock when keep-alive chunks are on', async () => {
    await expect(run(true)).resolves.toBe('completed:3');
  });

  it('should time out on the same stream when keep-alives are dropped', async () => {
    await expect(run(false)).resolves.toBe('TimeoutError:idle');
  });
});

describe('keep-alive chunks through a provider', () => {
  it('should pass keepAliveChunks from the provider stream to the decoder (simulator, Anthropic ping)', async () => {
    const sim = await startSimulator();
    const claude = anthropic({ apiKey: 'sk-ant-local', baseURL: sim.url });
    try {
      const request = {
        model: 'claude-sonnet-4-5',
        messages: [{ role: 'user' as const, content: 'Hi' }],
      };
      const withPings = await lastValueFrom(
        claude.stream(request, { keepAliveChunks: true }).pipe(toArray()),
      );
      const without = await lastValueFrom(claude.stream(request).pipe(toArray()));
      const keepAlives = (chunks: StreamingChunk[]): number =>
        chunks.filter((c) => c.choices.length === 0 && c.usage === undefined).length;
      expect(keepAlives(withPings)).toBeGreaterThan(0);
      expect(keepAlives(without)).toBe(0);
      expect(withPings.length - keepAlives(withPings)).toBe(without.length);
    } finally {
      await claude.close();
      await sim.close();
    }
  });
});
