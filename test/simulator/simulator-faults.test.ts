import { Agent, fetch, type Response } from 'undici';
import { firstValueFrom, toArray, catchError, of, map, type Observable } from 'rxjs';
import type { StreamFormat, StreamingChunk } from '../../src/chunk/streaming-chunk';
import { toCompletion } from '../../src/chunk/collect-completion';
import { IncompleteStreamError } from '../../src/errors/incomplete-stream-error';
import { ParseError } from '../../src/errors/parse-error';
import { ProviderError } from '../../src/errors/provider-error';
import { RateLimitError } from '../../src/errors/rate-limit-error';
import { decodeProviderStream } from '../../src/providers/decode-provider-stream';
import {
  simulatedText,
  simulatorRequest,
  startSimulator,
  type AttemptRecord,
  type Simulator,
  type SimulatorRequestOptions,
} from '../../src/simulator/index';

const formats = ['openai', 'anthropic', 'google'] as const;

/** Gemini's error body (the other providers' bodies are checked as JSON text). */
interface GoogleError {
  error: { status: string; details?: unknown[] };
}

let sim: Simulator;
let agent: Agent;

beforeAll(async () => {
  sim = await startSimulator();
  agent = new Agent();
});

afterAll(async () => {
  await agent.close();
  await sim.close();
});

function send(format: StreamFormat, options: SimulatorRequestOptions = {}): Promise<Response> {
  const r = simulatorRequest(format, options);
  return fetch(sim.url + r.path, {
    method: r.method,
    headers: r.headers,
    body: JSON.stringify(r.body),
    dispatcher: agent,
  });
}

/** The chunks decoded before the stream ended, and how it ended. */
async function outcome(
  format: StreamFormat,
  res: Response,
  maxEventSize?: number,
): Promise<{ text: string; error: unknown; chunks: StreamingChunk[] }> {
  const chunks$: Observable<StreamingChunk> = decodeProviderStream(
    format,
    res.body!,
    maxEventSize === undefined ? {} : { maxEventSize },
  );
  const seen: StreamingChunk[] = [];
  const error = await firstValueFrom(
    chunks$.pipe(
      map((chunk) => {
        seen.push(chunk);
        return chunk;
      }),
      toArray(),
      map(() => undefined as unknown),
      catchError((e: unknown) => of(e)),
    ),
  );
  const text = seen.map((c) => c.choices.map((x) => x.delta.content ?? '').join('')).join('');
  return { text, error, chunks: seen };
}

/** The attempt answered by a response (its `x-simulator-attempt` header), once it has ended. */
function attemptOf(res: Response): Promise<AttemptRecord> {
  const id = Number(res.headers.get('x-simulator-attempt'));
  return sim.waitForAttempt((a) => a.id === id && a.outcome !== 'in-progress');
}

/** The latest attempt, once it has ended. */
function lastAttempt(): Promise<AttemptRecord> {
  const id = sim.attempts[sim.attempts.length - 1]!.id;
  return sim.waitForAttempt((a) => a.id === id && a.outcome !== 'in-progress');
}

describe('status faults', () => {
  it.each<[StreamFormat, Record<string, unknown>, string]>([
    ['openai', { error: { type: 'server_error', param: null, code: null } }, 'application/json'],
    [
      'anthropic',
      { type: 'error', error: { type: 'api_error' }, request_id: expect.any(String) },
      'application/json',
    ],
    ['google', { error: { code: 503, status: 'UNAVAILABLE' } }, 'text/event-stream'],
  ])('should answer %s 503 with the provider error body', async (format, shape, contentType) => {
    const res = await send(format, { fault: 'status-503' });
    expect(res.status).toBe(503);
    // Gemini keeps text/event-stream on errors of streaming requests, like the real API.
    expect(res.headers.get('content-type')).toContain(contentType);
    expect(await res.json()).toMatchObject(shape);
    expect(await lastAttempt()).toMatchObject({
      outcome: 'error-status',
      status: 503,
      fault: 'status-503',
      faultSource: 'header',
      tokensSent: 0,
    });
  });

  it.each(formats)('should send %s retry hints for status-429-retry-2', async (format) => {
    const res = await send(format, { fault: 'status-429-retry-2' });
    expect(res.status).toBe(429);
    const json = (await res.json()) as GoogleError;
    if (format === 'google') {
      expect(res.headers.get('retry-after')).toBeNull();
      expect(json.error.status).toBe('RESOURCE_EXHAUSTED');
      expect(json.error.details).toContainEqual({
        '@type': 'type.googleapis.com/google.rpc.RetryInfo',
        retryDelay: '2s',
      });
    } else {
      expect(res.headers.get('retry-after')).toBe('2');
      expect(res.headers.get('retry-after-ms')).toBeNull();
      expect(JSON.stringify(json)).toMatch(/rate_limit/);
    }
  });

  it.each(formats)(
    'should send %s retry hints in ms for status-429-retry-ms-150',
    async (format) => {
      const res = await send(format, { fault: 'status-429-retry-ms-150' });
      const json = (await res.json()) as GoogleError;
      if (format === 'google') {
        expect(json.error.details).toContainEqual(expect.objectContaining({ retryDelay: '0.15s' }));
      } else {
        expect(res.headers.get('retry-after-ms')).toBe('150');
        expect(res.headers.get('retry-after')).toBe('1');
      }
    },
  );

  it.each<[StreamFormat, string]>([
    ['openai', 'overloaded'],
    ['anthropic', 'overloaded_error'],
    ['google', 'UNAVAILABLE'],
  ])('should take the %s fault from a sim-fault- model name', async (format, marker) => {
    const status = format === 'anthropic' ? 529 : 503;
    const res = await send(format, { model: `sim-fault-status-${status}` });
    expect(res.status).toBe(status);
    expect(await res.text()).toContain(marker);
    expect(await lastAttempt()).toMatchObject({
      fault: `status-${status}`,
      faultSource: 'model',
      model: `sim-fault-status-${status}`,
    });
  });

  it.each(formats)('should answer an unknown %s spec with 400 naming it', async (format) => {
    const res = await send(format, { fault: 'explode-now' });
    expect(res.status).toBe(400);
    expect(await res.text()).toContain('Unknown fault spec \\"explode-now\\"');
    const byModel = await send(format, { model: 'sim-fault-nope' });
    expect(byModel.status).toBe(400);
    expect(await byModel.text()).toContain('\\"nope\\"');
  });
});

describe('connection faults', () => {
  it.each(formats)('should reset %s before the headers', async (format) => {
    await expect(send(format, { fault: 'reset-before-headers' })).rejects.toThrow(/fetch failed/);
    expect(await lastAttempt()).toMatchObject({
      outcome: 'reset',
      status: undefined,
      headersAt: undefined,
    });
  });

  it.each(formats)('should reset %s after K tokens, delivered in full', async (format) => {
    const res = await send(format, { fault: 'reset-after-3' });
    const { text, error } = await outcome(format, res);
    expect(text).toBe(simulatedText('Hello', 3));
    expect(error).toBeInstanceOf(IncompleteStreamError);
    expect(await attemptOf(res)).toMatchObject({ outcome: 'reset', status: 200, tokensSent: 3 });
  });

  it('should reset a non-streaming answer after half its body', async () => {
    const res = await send('openai', { stream: false, fault: 'reset-after-1' });
    expect(res.status).toBe(200);
    await expect(res.text()).rejects.toThrow();
    expect(await attemptOf(res)).toMatchObject({ outcome: 'reset' });
  });
});

describe('stalls', () => {
  it.each(formats)('should stall %s before the headers', async (format) => {
    const res = await send(format, { fault: 'stall-headers-80', tokens: 2 });
    await res.text();
    const attempt = await attemptOf(res);
    expect(attempt.stalls).toEqual([
      {
        kind: 'headers',
        afterTokens: 0,
        ms: 80,
        startedAt: expect.any(Number),
        endedAt: expect.any(Number),
      },
    ]);
    expect(attempt.headersAt! - attempt.time).toBeGreaterThanOrEqual(79);
  });

  it.each(formats)('should stall %s between the headers and the first token', async (format) => {
    const res = await send(format, { fault: 'stall-first-token-80', tokens: 2 });
    const { text } = await outcome(format, res);
    expect(text).toBe(simulatedText('Hello', 2));
    const attempt = await attemptOf(res);
    expect(attempt.outcome).toBe('completed');
    expect(attempt.firstTokenAt! - attempt.headersAt!).toBeGreaterThanOrEqual(79);
    expect(attempt.stalls[0]).toMatchObject({ kind: 'first-token', afterTokens: 0, ms: 80 });
  });

  it.each(formats)('should pause %s after K tokens and then continue', async (format) => {
    const res = await send(format, { fault: 'stall-after-2-80', tokens: 4 });
    const { text, error } = await outcome(format, res);
    expect(error).toBeUndefined();
    expect(text).toBe(simulatedText('Hello', 4));
    const attempt = await attemptOf(res);
    const stall = attempt.stalls[0]!;
    expect(stall).toMatchObject({ kind: 'after', afterTokens: 2, ms: 80 });
    expect(stall.endedAt! - stall.startedAt).toBeGreaterThanOrEqual(79);
  });

  it('should send the headers before a first-token stall so a client sees them at once', async () => {
    const controller = new AbortController();
    const r = simulatorRequest('openai', { fault: 'stall-first-token-5000', tokens: 1 });
    const res = await fetch(sim.url + r.path, {
      method: r.method,
      headers: r.headers,
      body: JSON.stringify(r.body),
      dispatcher: agent,
      signal: controller.signal,
    });
    expect(res.status).toBe(200);
    // The client has the headers while the stall is still running.
    const attempt = sim.attempts.find(
      (a) => a.id === Number(res.headers.get('x-simulator-attempt')),
    )!;
    expect(attempt.stalls[0]).toMatchObject({ kind: 'first-token', endedAt: undefined });
    controller.abort();
    await res.text().catch(() => undefined);
    expect(await attemptOf(res)).toMatchObject({ outcome: 'client-closed', tokensSent: 0 });
  });

  it('should combine faults: a first-token stall, then a reset', async () => {
    const res = await send('anthropic', { fault: 'stall-first-token-30,reset-after-2' });
    const { text, error } = await outcome('anthropic', res);
    expect(text).toBe(simulatedText('Hello', 2));
    expect(error).toBeInstanceOf(IncompleteStreamError);
    expect(await attemptOf(res)).toMatchObject({
      fault: 'stall-first-token-30,reset-after-2',
      outcome: 'reset',
    });
  });
});

describe('malformed streams', () => {
  it.each<[StreamFormat, RegExp]>([
    ['openai', /\ndata: \{"id":"chatcmpl-[^\n]*\n\n/],
    ['anthropic', /event: content_block_delta\ndata: \{"type":"content_block_delta"[^\n]*\n\n/],
    ['google', /data: \{"candidates": [^\r]*\r\n\r\n/],
  ])('should insert a truncated %s event after K tokens, then complete', async (format, shape) => {
    const res = await send(format, { fault: 'malformed-at-2', tokens: 4 });
    const raw = await res.text();
    const events = raw.split(format === 'google' ? '\r\n\r\n' : '\n\n').filter((e) => e !== '');
    const bad = events.filter((event) => {
      const data = event.slice(event.indexOf('data: ') + 6);
      if (data === '[DONE]') return false;
      try {
        JSON.parse(data);
        return false;
      } catch {
        return true;
      }
    });
    expect(bad).toHaveLength(1);
    expect(raw).toMatch(shape);
    expect(await attemptOf(res)).toMatchObject({ outcome: 'completed', tokensSent: 4 });
    const again = await send(format, { fault: 'malformed-at-2', tokens: 4 });
    const { text, error } = await outcome(format, again);
    expect(error).toBeInstanceOf(ParseError);
    expect(text).toBe(simulatedText('Hello', 2));
  });

  it.each<[StreamFormat, (raw: string) => void]>([
    [
      'openai',
      (raw) => {
        expect(raw).not.toContain('[DONE]');
        expect(raw).not.toContain('finish_reason":"stop');
      },
    ],
    [
      'anthropic',
      (raw) => {
        expect(raw).not.toContain('message_delta');
        expect(raw).not.toContain('message_stop');
      },
    ],
    [
      'google',
      (raw) => {
        expect(raw).not.toContain('finishReason');
      },
    ],
  ])('should end %s without the terminal event for no-terminal', async (format, check) => {
    const res = await send(format, { fault: 'no-terminal', tokens: 3 });
    check(await res.text());
    expect(await attemptOf(res)).toMatchObject({ outcome: 'no-terminal', tokensSent: 3 });
    const { text, error } = await outcome(
      format,
      await send(format, { fault: 'no-terminal', tokens: 3 }),
    );
    expect(text).toBe(simulatedText('Hello', 3));
    expect(error).toBeInstanceOf(IncompleteStreamError);
  });

  it.each<[StreamFormat, RegExp]>([
    [
      'openai',
      /data: \{"error":\{"message":"The engine is currently overloaded[^\n]*"type":"server_error"/,
    ],
    [
      'anthropic',
      /event: error\ndata: \{"type":"error","error":\{"type":"overloaded_error","message":"Overloaded"\}/,
    ],
    [
      'google',
      /\r\n\r\n\{\n {2}"error": \{\n {4}"code": 503,\n[^]*"status": "UNAVAILABLE"\n {2}\}\n\}\n$/,
    ],
  ])('should send the %s in-band error after K tokens and end', async (format, shape) => {
    const res = await send(format, { fault: 'inband-error-after-2', tokens: 4 });
    const raw = await res.text();
    expect(raw).toMatch(shape);
    if (format === 'google') expect(raw).not.toMatch(/data: \{\s*"error"/);
    expect(await attemptOf(res)).toMatchObject({ outcome: 'inband-error', tokensSent: 2 });
    const { text, error } = await outcome(
      format,
      await send(format, { fault: 'inband-error-after-2' }),
    );
    expect(text).toBe(simulatedText('Hello', 2));
    expect(error).toBeInstanceOf(ProviderError);
    expect((error as ProviderError).kind).toMatch(/overloaded|server_error/);
  });

  it('should send a rate-limit in-band error for inband-error-after-1-429', async () => {
    const { error } = await outcome(
      'anthropic',
      await send('anthropic', { fault: 'inband-error-after-1-429' }),
    );
    expect(error).toBeInstanceOf(RateLimitError);
  });

  it.each(formats)(
    'should drip the %s body in 3-byte pieces that split characters',
    async (format) => {
      // "東京 bridge": the first token is two 3-byte characters.
      const prompt = 'Say something 4';
      const res = await send(format, { fault: 'slow-drip-3-0', tokens: 2, prompt });
      const completion = await toCompletion(decodeProviderStream(format, res.body!));
      expect(completion.choices[0]!.message.content).toBe('東京 bridge');
      expect(simulatedText(prompt, 2)).toBe('東京 bridge');
      expect(completion.usage?.completion_tokens).toBe(2);
    },
  );

  it('should wait the drip delay between pieces', async () => {
    const res = await send('google', { fault: 'slow-drip-64-2', tokens: 2 });
    await res.text();
    const attempt = await attemptOf(res);
    const pieces = Math.ceil(attempt.bytesSent / 64);
    expect(pieces).toBeGreaterThan(5);
    expect(attempt.endedAt! - attempt.headersAt!).toBeGreaterThanOrEqual(2 * (pieces - 1) - 2);
  });

  it.each(formats)('should send one huge %s event after the first token', async (format) => {
    const res = await send(format, { fault: 'huge-event', tokens: 2 });
    const { chunks, error } = await outcome(format, res);
    expect(error).toBeUndefined();
    const texts = chunks.map((c) => c.choices[0]?.delta.content ?? '').filter((t) => t !== '');
    expect(texts).toHaveLength(3);
    expect(texts[1]).toHaveLength(1_048_576);
    expect(texts[0]! + texts[2]!).toBe(simulatedText('Hello', 2));
    expect((await attemptOf(res)).bytesSent).toBeGreaterThan(1_048_576);
    // A client with a smaller event limit refuses it.
    const small = await outcome(
      format,
      await send(format, { fault: 'huge-event-200000' }),
      100_000,
    );
    expect(small.error).toBeInstanceOf(ParseError);
  });

  it.each(formats)('should put invalid UTF-8 bytes in one %s event', async (format) => {
    const res = await send(format, { fault: 'invalid-utf8', tokens: 3 });
    const bytes = Buffer.from(await res.arrayBuffer());
    expect(bytes.includes(Buffer.from([0xff, 0xfe]))).toBe(true);
    const { text, error } = await outcome(
      format,
      await send(format, { fault: 'invalid-utf8-at-2' }),
    );
    expect(error).toBeInstanceOf(ParseError);
    // The decoder refuses the whole read that holds the bad bytes, so it may see fewer tokens.
    expect(simulatedText('Hello', 2).startsWith(text)).toBe(true);
  });
});

describe('stateful faults', () => {
  it.each(formats)(
    'should flap %s: 503 until T ms after the first hit, then healthy',
    async (format) => {
      const faultKey = `flap-${format}`;
      const first = await send(format, { fault: 'flap-120', faultKey, tokens: 1 });
      expect(first.status).toBe(503);
      await first.text();
      const second = await send(format, { fault: 'flap-120', faultKey, tokens: 1 });
      expect(second.status).toBe(503);
      await second.text();
      const firstHit = sim.attempts.find((a) => a.faultKey === faultKey)!.time;
      let res = await send(format, { fault: 'flap-120', faultKey, tokens: 1 });
      for (let i = 0; res.status === 503 && i < 30; i++) {
        await res.text();
        await new Promise((resolve) => setTimeout(resolve, 15));
        res = await send(format, { fault: 'flap-120', faultKey, tokens: 1 });
      }
      expect(res.status).toBe(200);
      await res.text();
      const healthy = await lastAttempt();
      expect(healthy.time - firstHit).toBeGreaterThanOrEqual(120);
      const downs = sim.attempts.filter((a) => a.faultKey === faultKey && a.status === 503);
      expect(downs.every((a) => a.time - firstHit < 120)).toBe(true);
    },
  );

  it.each(formats)(
    'should fail %s with 503 until the Nth attempt of succeed-on-N',
    async (format) => {
      const faultKey = `succeed-${format}`;
      const statuses: number[] = [];
      for (let i = 0; i < 4; i++) {
        const res = await send(format, { fault: 'succeed-on-3', faultKey, tokens: 1 });
        statuses.push(res.status);
        await res.text();
      }
      expect(statuses).toEqual([503, 503, 200, 200]);
    },
  );

  it('should keep separate counters per fault key, and share them by default', async () => {
    const statuses: number[] = [];
    for (const faultKey of ['a', 'b', undefined, undefined]) {
      const res = await send('openai', {
        model: 'sim-fault-succeed-on-2',
        tokens: 1,
        ...(faultKey === undefined ? {} : { faultKey }),
      });
      statuses.push(res.status);
      await res.text();
    }
    expect(statuses).toEqual([503, 503, 503, 200]);
  });

  it.each(formats)('should reject a %s prefill with the invalid-request error', async (format) => {
    const res = await send(format, { fault: 'reject-prefill', prefill: simulatedText('Hello', 2) });
    expect(res.status).toBe(400);
    const text = await res.text();
    expect(text).toMatch(format === 'google' ? /INVALID_ARGUMENT/ : /invalid_request_error/);
    expect(text).toMatch(/prefill|user/);
    const plain = await send(format, { fault: 'reject-prefill', tokens: 1 });
    expect(plain.status).toBe(200);
    await plain.text();
  });
});

describe('faults on non-streaming answers', () => {
  it('should stall, then answer', async () => {
    const res = await send('google', { stream: false, fault: 'stall-first-token-60' });
    expect(res.status).toBe(200);
    await res.json();
    expect((await attemptOf(res)).stalls[0]).toMatchObject({ kind: 'first-token', ms: 60 });
  });

  it('should cut the JSON for malformed-at and no-terminal', async () => {
    for (const fault of ['malformed-at-1', 'no-terminal']) {
      const res = await send('anthropic', { stream: false, fault });
      expect(res.status).toBe(200);
      const text = await res.text();
      expect(() => {
        JSON.parse(text);
      }).toThrow();
    }
  });

  it('should answer 200 with the error object for inband-error-after', async () => {
    const res = await send('openai', { stream: false, fault: 'inband-error-after-0' });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ error: { type: 'server_error' } });
    expect(await attemptOf(res)).toMatchObject({ outcome: 'inband-error' });
  });
});
