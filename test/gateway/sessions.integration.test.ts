import { simulatedText } from '../../src/simulator/index';
import type { SessionInfo } from '../../src/sessions/session-info';
import {
  attemptsFor,
  chatBody,
  parseSse,
  postChat,
  sseText,
  useGateway,
  type SseEvent,
} from './gateway-fixtures';

/**
 * The sessions endpoints: list, get, cancel, and attach as another viewer (replay, then live,
 * over the same single upstream call), with `Last-Event-ID` resumption.
 */
const PROMPT = 'Sessions please';
const TEXT = simulatedText(PROMPT, 24);
/** 24 tokens, with a 400 ms pause after the 5th: long enough to attach while it runs. */
const PAUSED = 'sim-fault-stall-after-5-400';
const FOREVER = 'sim-fault-stall-after-2-5000';

// Upstreams outlive their last viewer by 1 s: a client that lost its connection can come back.
const env = useGateway({ router: { sessions: { keepAliveMs: 1000 } } });

beforeEach(() => {
  env.sim.clearAttempts();
});

/** Reads a streaming response until `until` holds for the events so far; returns the rest as a reader. */
async function readUntil(
  res: Response,
  until: (events: SseEvent[]) => boolean,
): Promise<{
  events: SseEvent[];
  reader: ReadableStreamDefaultReader<Uint8Array>;
  rest: () => Promise<string>;
}> {
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let text = '';
  for (;;) {
    const complete = text.slice(0, text.lastIndexOf('\n\n') + 2);
    const events = complete === '' ? [] : parseSse(complete);
    if (until(events)) {
      const tail = text.slice(complete.length);
      return {
        events,
        reader,
        rest: async () => {
          let more = tail;
          for (;;) {
            const { value, done } = await reader.read();
            if (done) return more;
            more += decoder.decode(value, { stream: true });
          }
        },
      };
    }
    const { value, done } = await reader.read();
    if (done) throw new Error(`ended before the condition held: ${text}`);
    text += decoder.decode(value, { stream: true });
  }
}

const contentEvents = (events: SseEvent[]): number =>
  events.filter((e) => sseText([e]) !== '').length;

interface Reply<T> {
  status: number;
  body: T;
}
interface ErrorReply {
  error: { code: string; message: string };
}

async function getJson(path: string, init?: RequestInit): Promise<Reply<unknown>> {
  const res = await fetch(`${env.url}${path}`, init);
  return { status: res.status, body: await res.json() };
}

describe('GET /v1/sessions and /v1/sessions/:id', () => {
  it('should list a running session and show its progress, then its final state', async () => {
    const res = await postChat(env.url, chatBody(PAUSED, { stream: true }, PROMPT));
    const id = res.headers.get('x-session-id')!;
    const started = await readUntil(res, (events) => contentEvents(events) >= 5);

    const list = (await getJson('/v1/sessions')) as Reply<{ object: string; data: SessionInfo[] }>;
    expect(list.body.object).toBe('list');
    expect(list.body.data.find((s) => s.id === id)).toMatchObject({
      state: 'streaming',
      requestedModel: PAUSED,
    });
    const one = (await getJson(`/v1/sessions/${id}`)) as Reply<SessionInfo>;
    expect(one.status).toBe(200);
    expect(one.body).toMatchObject({
      id,
      state: 'streaming',
      provider: 'openai',
      route: 'sim-fault-*',
      attempts: 1,
    });
    expect(one.body.chunks).toBeGreaterThanOrEqual(5);

    await started.rest();
    const done = (await getJson(`/v1/sessions/${id}`)) as Reply<SessionInfo>;
    expect(done.body).toMatchObject({ state: 'completed', completionTokens: 24 });
    expect(done.body.ttftMs).toEqual(expect.any(Number));
  });

  it('should answer an unknown session with a 404', async () => {
    for (const init of [{}, { method: 'DELETE' }]) {
      const res = (await getJson('/v1/sessions/sess_nope', init)) as Reply<ErrorReply>;
      expect(res.status).toBe(404);
      expect(res.body.error.code).toBe('session_not_found');
    }
    const stream = await fetch(`${env.url}/v1/sessions/sess_nope/stream`);
    expect(stream.status).toBe(404);
    await stream.arrayBuffer();
  });
});

describe('GET /v1/sessions/:id/stream', () => {
  it('should replay from the start, then continue live, over one upstream call', async () => {
    const res = await postChat(env.url, chatBody(PAUSED, { stream: true }, PROMPT));
    const id = res.headers.get('x-session-id')!;
    const first = await readUntil(res, (events) => contentEvents(events) >= 5);

    const viewer = await fetch(`${env.url}/v1/sessions/${id}/stream`);
    expect(viewer.status).toBe(200);
    expect(viewer.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    const viewed = parseSse(await viewer.text());
    const original = [...first.events, ...parseSse(await first.rest())];

    expect(sseText(viewed)).toBe(TEXT);
    expect(sseText(original)).toBe(TEXT);
    expect(viewed.at(-1)?.data).toBe('[DONE]');
    // Same ids for the same chunks.
    const ids = viewed.filter((e) => e.id !== undefined).map((e) => Number(e.id));
    expect(ids).toEqual(ids.map((_id, i) => i));
    expect(attemptsFor(env.sim, PAUSED)).toHaveLength(1);
    expect(env.router.sessions.get(id)?.viewers).toBeGreaterThanOrEqual(2);
  });

  it('should resume from Last-Event-ID + 1 after the client lost its connection, without a second call', async () => {
    const controller = new AbortController();
    const res = await postChat(
      env.url,
      chatBody(PAUSED, { stream: true }, PROMPT),
      {},
      controller.signal,
    );
    const id = res.headers.get('x-session-id')!;
    const got = await readUntil(res, (events) => contentEvents(events) >= 5);
    const lastId = got.events.filter((e) => e.id !== undefined).at(-1)!.id!;
    controller.abort();

    const resumed = await fetch(`${env.url}/v1/sessions/${id}/stream`, {
      headers: { 'last-event-id': lastId },
    });
    expect(resumed.status).toBe(200);
    const rest = parseSse(await resumed.text());
    expect(rest[0]?.id).toBe(String(Number(lastId) + 1));
    expect(sseText(got.events) + sseText(rest)).toBe(TEXT);
    const attempts = attemptsFor(env.sim, PAUSED);
    expect(attempts).toHaveLength(1);
    expect(attempts[0]!.outcome).toBe('completed');
  });

  it('should replay a finished session, also from last_event_id in the query', async () => {
    const res = await postChat(env.url, chatBody('gpt-4o-mini', { stream: true }, PROMPT));
    const id = res.headers.get('x-session-id')!;
    const all = parseSse(await res.text());
    const replay = parseSse(await (await fetch(`${env.url}/v1/sessions/${id}/stream`)).text());
    expect(sseText(replay)).toBe(TEXT);
    const fromThree = parseSse(
      await (await fetch(`${env.url}/v1/sessions/${id}/stream?last_event_id=3`)).text(),
    );
    expect(fromThree[0]?.id).toBe('4');
    expect(sseText(fromThree)).toBe(sseText(all.slice(4)));
    expect(attemptsFor(env.sim, 'gpt-4o-mini')).toHaveLength(1);
  });

  it('should answer a bad Last-Event-ID with a 400 naming it', async () => {
    const res = await postChat(env.url, chatBody('gpt-4o-mini', { stream: true }));
    const id = res.headers.get('x-session-id')!;
    await res.arrayBuffer();
    const bad = await fetch(`${env.url}/v1/sessions/${id}/stream`, {
      headers: { 'last-event-id': 'abc' },
    });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { param: string } }).error.param).toBe('Last-Event-ID');
  });
});

describe('DELETE /v1/sessions/:id', () => {
  it('should cancel a running session: its client gets an in-band error and the upstream closes', async () => {
    const res = await postChat(env.url, chatBody(FOREVER, { stream: true }, PROMPT));
    const id = res.headers.get('x-session-id')!;
    const got = await readUntil(res, (events) => contentEvents(events) >= 2);

    const cancelled = (await getJson(`/v1/sessions/${id}`, { method: 'DELETE' })) as Reply<{
      id: string;
      cancelled: boolean;
      session: SessionInfo;
    }>;
    expect(cancelled.status).toBe(200);
    expect(cancelled.body).toMatchObject({ id, cancelled: true, session: { state: 'cancelled' } });

    const tail = parseSse(await got.rest());
    expect(tail.at(-1)?.data).toMatchObject({ error: { code: 'cancelled' } });
    expect(tail.some((e) => e.data === '[DONE]')).toBe(false);
    const closed = await env.sim.waitForAttempt(
      (a) => a.model === FOREVER && a.outcome === 'client-closed',
      {
        timeoutMs: 1000,
      },
    );
    expect(closed.tokensSent).toBe(2);

    const again = (await getJson(`/v1/sessions/${id}`, { method: 'DELETE' })) as Reply<ErrorReply>;
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('session_finished');
  });

  it('should answer a session cancelled before its first chunk with a 499 error', async () => {
    const pending = postChat(env.url, chatBody('sim-fault-stall-headers-5000', { stream: true }));
    const attempt = await env.sim.waitForAttempt((a) => a.stalls.length > 0);
    expect(attempt.outcome).toBe('in-progress');
    const live = env.router.sessions.list().find((s) => s.state === 'pending')!;
    const cancelled = await fetch(`${env.url}/v1/sessions/${live.id}`, { method: 'DELETE' });
    expect(cancelled.status).toBe(200);
    await cancelled.arrayBuffer();
    const res = await pending;
    expect(res.status).toBe(499);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('cancelled');
  });
});
