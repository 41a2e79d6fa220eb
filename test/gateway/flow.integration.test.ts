import { request as httpRequest, type IncomingMessage } from 'node:http';
import { simulatedText, type AttemptRecord } from '../../src/simulator/index';
import { createTestProvider } from '../helpers/provider-fixtures';
import { chatBody, DEFAULT_ROUTES, postChat, PROVIDER_KEYS, useGateway } from './gateway-fixtures';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/**
 * Flow between the client and the provider through the gateway: a client that goes away aborts
 * the upstream call at once, and a client that reads slowly pauses it.
 */
const CLOSE_WITHIN_MS = 100;
const FOREVER = 'sim-fault-stall-after-2-5000';

const TOKENS = 200_000;

const env = useGateway({
  routes: {
    ...DEFAULT_ROUTES,
    // A fault-free answer of 200,000 tokens, written as fast as the socket takes it.
    big: [{ provider: 'big', model: 'gpt-4o-mini' }],
  },
  providers: (sim) => ({
    big: createTestProvider('openai', {
      origin: sim.url,
      keys: PROVIDER_KEYS,
      headers: { 'x-simulator-tokens': String(TOKENS) },
    }),
  }),
});

beforeAll(async () => {
  // The first aborts of a process compile undici's, Node's and the router's abort paths; do
  // them once here so that the tests measure the close itself.
  for (const stream of [true, false]) {
    env.sim.clearAttempts();
    const controller = new AbortController();
    const pending = postChat(env.url, chatBody(FOREVER, { stream }), {}, controller.signal);
    await env.sim.waitForAttempt((a) => a.stalls.length > 0);
    controller.abort();
    await pending.then((res) => res.body?.cancel()).catch(() => undefined);
    await env.sim.waitForAttempt((a) => a.outcome === 'client-closed');
  }
});

beforeEach(() => {
  env.sim.clearAttempts();
});

function theAttempt(
  predicate: (a: AttemptRecord) => boolean,
  timeoutMs = 2000,
): Promise<AttemptRecord> {
  return env.sim.waitForAttempt(predicate, { timeoutMs });
}

/** Reads SSE from `res` until `n` chunks carried text. */
async function readContentChunks(res: Response, n: number): Promise<string> {
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let text = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) throw new Error('ended early');
    text += decoder.decode(value, { stream: true });
    if ((text.match(/"content":"[^"]+"/g) ?? []).length >= n) return text;
  }
}

describe('a client that disconnects', () => {
  it('should abort the upstream stream within 100 ms when it leaves mid-stream', async () => {
    const controller = new AbortController();
    const res = await postChat(env.url, chatBody(FOREVER, { stream: true }), {}, controller.signal);
    expect(res.status).toBe(200);
    await readContentChunks(res, 2);
    const stalled = await theAttempt((a) => a.stalls.length > 0);
    expect(stalled.outcome).toBe('in-progress');

    const abortedAt = env.sim.now();
    controller.abort();
    const closed = await theAttempt((a) => a.outcome === 'client-closed', 1000);
    expect(closed.clientClosedAt! - abortedAt).toBeLessThan(CLOSE_WITHIN_MS);
    expect(closed.clientClosedAt! - abortedAt).toBeGreaterThanOrEqual(0);
    expect(closed.tokensSent).toBe(2);
    expect(closed.stalls[0]!.endedAt).toBeUndefined();
    const sessionId = res.headers.get('x-session-id')!;
    await expect(waitForState(sessionId)).resolves.toBe('cancelled');
  });

  it('should abort the upstream call within 100 ms when it leaves before the headers', async () => {
    const controller = new AbortController();
    const pending = postChat(
      env.url,
      chatBody('sim-fault-stall-headers-5000', { stream: true }),
      {},
      controller.signal,
    );
    await theAttempt((a) => a.stalls.length > 0);
    const abortedAt = env.sim.now();
    controller.abort();
    await expect(pending).rejects.toThrow();
    const closed = await theAttempt((a) => a.outcome === 'client-closed', 1000);
    expect(closed.clientClosedAt! - abortedAt).toBeLessThan(CLOSE_WITHIN_MS);
    expect(closed).toMatchObject({ status: undefined, headersAt: undefined });
  });

  it('should abort the upstream call within 100 ms when a non-streaming client leaves', async () => {
    const controller = new AbortController();
    const pending = postChat(env.url, chatBody(FOREVER), {}, controller.signal);
    await theAttempt((a) => a.stalls.length > 0);
    const abortedAt = env.sim.now();
    controller.abort();
    await expect(pending).rejects.toThrow();
    const closed = await theAttempt((a) => a.outcome === 'client-closed', 1000);
    expect(closed.clientClosedAt! - abortedAt).toBeLessThan(CLOSE_WITHIN_MS);
  });
});

/** The heap in use after a full garbage collection. */
function liveHeap(): number {
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
  return process.memoryUsage().heapUsed;
}

async function waitForState(sessionId: string): Promise<string | undefined> {
  for (let i = 0; i < 100; i++) {
    const state = env.router.sessions.get(sessionId)?.state;
    if (state !== 'pending' && state !== 'streaming') return state;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  return env.router.sessions.get(sessionId)?.state;
}

describe('a slow client', () => {
  it('should pause the upstream read while the socket to the client is full, and keep memory bounded', async () => {
    // A raw request whose response is not read: the gateway's writes fill the socket.
    const req = httpRequest(`${env.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
    });
    req.on('error', () => undefined);
    const gotResponse = new Promise<IncomingMessage>((resolve) => req.on('response', resolve));
    req.end(JSON.stringify(chatBody('big', { stream: true })));
    const response = await gotResponse;
    expect(response.statusCode).toBe(200);
    response.pause();

    const heapBefore = liveHeap();
    // The simulator ends up blocked: its writes returned false because nobody read upstream.
    const blocked = await theAttempt((a) => a.writeReturnedFalse > 0, 10_000);
    const sentWhenBlocked = blocked.bytesSent;
    await new Promise((resolve) => setTimeout(resolve, 400));
    const attempt = env.sim.attempts.find((a) => a.id === blocked.id)!;
    // Nothing more left the simulator while the client did not read...
    expect(attempt.bytesSent - sentWhenBlocked).toBeLessThan(256 * 1024);
    expect(attempt.tokensSent).toBeLessThan(TOKENS / 4);
    expect(attempt.outcome).toBe('in-progress');
    // ...and the gateway did not buffer the answer in memory.
    // Live objects only (after a full GC): garbage awaiting collection says nothing about buffering.
    // About 10 MB here: the session's replay record of what was sent before the socket filled.
    expect(liveHeap() - heapBefore).toBeLessThan(32 * 1024 * 1024);

    // Reading again resumes the flow.
    let received = 0;
    response.on('data', (chunk: Buffer) => {
      received += chunk.length;
    });
    response.resume();
    await theAttempt(
      (a) => a.id === blocked.id && a.bytesSent > sentWhenBlocked + 512 * 1024,
      10_000,
    );
    expect(received).toBeGreaterThan(0);

    // Leaving closes the upstream.
    req.destroy();
    await theAttempt((a) => a.id === blocked.id && a.outcome === 'client-closed', 2000);
  });
});

describe('the text through the pipe', () => {
  it('should deliver a long answer exactly', async () => {
    const res = await postChat(env.url, chatBody('big', { stream: true, max_tokens: 3000 }));
    const raw = await res.text();
    const text = [...raw.matchAll(/"content":"((?:[^"\\]|\\.)*)"/g)]
      .map((m) => JSON.parse(`"${m[1]}"`) as string)
      .join('');
    expect(text).toBe(simulatedText('Hello', 3000));
    expect(raw.endsWith('data: [DONE]\n\n')).toBe(true);
  });
});
