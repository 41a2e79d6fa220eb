import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { concat, Observable, of, throwError } from 'rxjs';
import { request } from 'undici';
import type { StreamingChunk } from '../../src/chunk/streaming-chunk';
import { ProviderError } from '../../src/errors/provider-error';
import { pipeSse, SSE_HEADERS, type SseEnd } from '../../src/gateway/sse-stream';
import { countHandles, expectNoLeakedHandles, type HandleCounts } from '../helpers/leaks';

/**
 * The SSE writer's bytes: frames batched into one buffer per turn must come out exactly as
 * `id: <n>\ndata: <json>\n\n`, whatever the characters (one-, two- and four-byte UTF-8) and
 * however large a frame is against the batch buffer.
 */

function chunk(content: string, finish: 'stop' | null = null): StreamingChunk {
  return {
    id: 'chatcmpl-sse',
    object: 'chat.completion.chunk',
    created: 1,
    model: 'gpt-4o-mini',
    provider: 'openai',
    choices: [{ index: 0, delta: { content }, finish_reason: finish }],
  };
}

/** Parses an SSE body into its frames' ids and data, in order. */
function framesOf(text: string): { id: string | undefined; data: string }[] {
  return text
    .split('\n\n')
    .filter((block) => block !== '')
    .map((block) => {
      let id: string | undefined;
      let data = '';
      for (const line of block.split('\n')) {
        if (line.startsWith('id: ')) id = line.slice(4);
        else if (line.startsWith('data: ')) data = line.slice(6);
      }
      return { id, data };
    });
}

describe('pipeSse (bytes on the wire)', () => {
  let server: Server;
  let url: string;
  let baseline: HandleCounts;
  let source: () => Observable<StreamingChunk>;
  let ends: SseEnd[];

  beforeAll(async () => {
    baseline = countHandles();
    server = createServer((_req, res: ServerResponse) => {
      const pipe = pipeSse({ res, chunks$: source(), headers: SSE_HEADERS, includeUsage: true });
      void pipe.done.then((end) => ends.push(end));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  beforeEach(() => {
    ends = [];
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await expectNoLeakedHandles(baseline);
  });

  const fetchBody = async (): Promise<string> => {
    const res = await request(url, { reset: true });
    expect(res.statusCode).toBe(200);
    return res.body.text();
  };

  it('should write every batched frame exactly, with multi-byte characters and multi-digit ids', async () => {
    const words = ['Naïve', ' — ', '🌍', ' 你好', ' "quoted"\\n', ' plain'];
    const chunks = Array.from({ length: 150 }, (_, i) => chunk(words[i % words.length]!));
    chunks.push(chunk('', 'stop'));
    source = () => of(...chunks);

    const frames = framesOf(await fetchBody());

    expect(frames.at(-1)).toEqual({ id: undefined, data: '[DONE]' });
    const data = frames.slice(0, -1);
    expect(data.map((frame) => frame.id)).toEqual(chunks.map((_, i) => String(i)));
    expect(data.map((frame) => JSON.parse(frame.data) as unknown)).toEqual(chunks);
    expect(ends).toEqual([{ kind: 'completed' }]);
  });

  it('should write a frame larger than the batch buffer whole', async () => {
    const big = '€'.repeat(12_000) + 'a'.repeat(30_000);
    const chunks = [chunk('first'), chunk('second'), chunk(big), chunk('after'), chunk('', 'stop')];
    source = () => of(...chunks);

    const frames = framesOf(await fetchBody());

    expect(frames.map((frame) => frame.data)).toEqual([
      ...chunks.map((c) => JSON.stringify(c)),
      '[DONE]',
    ]);
  });

  it('should send an in-band error after the frames batched before it, and no [DONE]', async () => {
    const failure = new ProviderError('server_error', 'the provider broke off', {
      provider: 'openai',
      status: 500,
    });
    source = () =>
      concat(
        of(chunk('one'), chunk('two ✓'), chunk('three')),
        throwError(() => failure),
      );

    const frames = framesOf(await fetchBody());

    expect(frames.slice(0, 3).map((frame) => frame.id)).toEqual(['0', '1', '2']);
    expect((JSON.parse(frames[1]!.data) as StreamingChunk).choices[0]?.delta.content).toBe('two ✓');
    expect(frames).toHaveLength(4);
    expect(frames[3]!.data).toContain('"error"');
    expect(frames.some((frame) => frame.data === '[DONE]')).toBe(false);
    expect(ends).toEqual([{ kind: 'failed-in-band', error: failure }]);
  });
});
