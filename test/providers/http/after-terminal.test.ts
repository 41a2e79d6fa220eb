import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { lastValueFrom, toArray } from 'rxjs';
import { Pool } from 'undici';
import type { StreamingChunk } from '../../../src/chunk/streaming-chunk';
import { httpStream, type HttpStreamCall } from '../../../src/providers/http/http-stream';

/**
 * What happens around the end of a body, which the simulator always ends properly: a server that
 * keeps a response open, or keeps sending, after its terminal event; and a request that waits
 * for a connection when its signal aborts. A stub server, on 127.0.0.1.
 */

/** How the stub answers: a complete OpenAI stream, then `after`. */
type After = 'end' | 'keep-sending' | 'stay-open' | 'stall-before-headers';

const FRAMES =
  ['Hel', 'lo']
    .map((text, i) =>
      JSON.stringify({
        id: 'c1',
        object: 'chat.completion.chunk',
        created: 1,
        model: 'm',
        choices: [
          { index: 0, delta: i === 0 ? { role: 'assistant', content: text } : { content: text } },
        ],
      }),
    )
    .map((json) => `data: ${json}\n\n`)
    .join('') +
  `data: ${JSON.stringify({ id: 'c1', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] })}\n\n` +
  'data: [DONE]\n\n';

let server: Server;
let origin: string;
let after: After = 'end';
const sockets = new Set<Socket>();
/** Per request: when the client closed it, and how many pieces were written after [DONE]. */
const requests: { path: string; closed: Promise<number>; extraPieces: () => number }[] = [];
/** Called when the next request reaches the server. */
let onArrival: (() => void) | undefined;
const timers = new Set<ReturnType<typeof setInterval>>();

beforeAll(async () => {
  server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let extra = 0;
    let closeAt: (t: number) => void = () => undefined;
    requests.push({
      path: req.url ?? '',
      closed: new Promise<number>((resolve) => {
        closeAt = resolve;
      }),
      extraPieces: () => extra,
    });
    res.on('close', () => {
      closeAt(performance.now());
    });
    onArrival?.();
    req.resume();
    if (after === 'stall-before-headers') return;
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.write(FRAMES);
    if (after === 'end') {
      res.end();
      return;
    }
    if (after === 'keep-sending') {
      const timer = setInterval(() => {
        extra++;
        res.write(': still here\n\n');
      }, 5);
      timers.add(timer);
      res.on('close', () => {
        clearInterval(timer);
        timers.delete(timer);
      });
    }
  });
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});

afterAll(async () => {
  for (const timer of timers) clearInterval(timer);
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

let pool: Pool;
beforeEach(() => {
  requests.length = 0;
  pool = new Pool(origin, { connections: 1, bodyTimeout: 0, headersTimeout: 0 });
});
afterEach(async () => {
  await pool.destroy();
});

function call(options: Partial<HttpStreamCall> = {}): HttpStreamCall {
  return {
    provider: 'stub',
    format: 'openai',
    dispatcher: pool,
    origin,
    path: '/v1/chat/completions',
    headers: { 'content-type': 'application/json' },
    body: '{}',
    model: 'm',
    secrets: [],
    ...options,
  };
}

function text(chunks: StreamingChunk[]): string {
  return chunks.map((c) => c.choices[0]?.delta.content ?? '').join('');
}

describe('httpStream after the terminal event', () => {
  it('should complete and reuse the connection when the body ends with [DONE]', async () => {
    after = 'end';
    for (let i = 0; i < 3; i++) {
      const chunks = await lastValueFrom(httpStream(call()).pipe(toArray()));
      expect(text(chunks)).toBe('Hello');
    }
    expect(requests).toHaveLength(3);
    // One keep-alive connection served all three: none was aborted.
    expect(sockets.size).toBe(1);
  });

  it('should complete at once and cut a body that keeps sending after [DONE]', async () => {
    after = 'keep-sending';
    const completedAt = await lastValueFrom(httpStream(call()).pipe(toArray())).then((chunks) => {
      expect(text(chunks)).toBe('Hello');
      return performance.now();
    });
    const closedAt = await requests[0]!.closed;
    // Cut after a few pieces (5 ms apart), not read for ever.
    expect(requests[0]!.extraPieces()).toBeLessThanOrEqual(8);
    expect(closedAt - completedAt).toBeLessThan(500);
  });

  it('should complete at once and close a body that stays open after [DONE]', async () => {
    after = 'stay-open';
    const chunks = await lastValueFrom(httpStream(call({ tailTimeoutMs: 20 })).pipe(toArray()));
    expect(text(chunks)).toBe('Hello');
    const completedAt = performance.now();
    const closedAt = await requests[0]!.closed;
    expect(closedAt - completedAt).toBeLessThan(500);
  });
});

describe('httpStream and its signal', () => {
  it('should error at once when the signal aborts while the request waits for a connection', async () => {
    after = 'stall-before-headers';
    // The pool's only connection is held by a request that never gets its headers.
    const arrived = new Promise<void>((resolve) => (onArrival = resolve));
    const holder = httpStream(call()).subscribe({ error: () => undefined });
    await arrived;
    const controller = new AbortController();
    const reason = new Error('stop waiting');
    const failed = lastValueFrom(httpStream(call({ signal: controller.signal }))).catch(
      (error: unknown) => error,
    );
    controller.abort(reason);
    // Not after the holder gives the connection up: at once.
    await expect(failed).resolves.toBe(reason);
    holder.unsubscribe();
    await requests[0]!.closed;
    // The aborted request was never sent, not even once the connection was free: a request
    // queued after it goes out on that connection, and is the next the server sees.
    after = 'end';
    await lastValueFrom(httpStream(call({ path: '/after-the-abort' })).pipe(toArray()));
    expect(requests.map((r) => r.path)).toEqual(['/v1/chat/completions', '/after-the-abort']);
  });
});
