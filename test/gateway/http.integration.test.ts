import { request as httpRequest } from 'node:http';
import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib';
import OpenAI from 'openai';
import { Registry } from 'prom-client';
import { startGateway, type Gateway, type GatewayOptions } from '../../src/gateway/index';
import { createLogger } from '../../src/logging/index';
import { simulatedText } from '../../src/simulator/index';
import {
  chatBody,
  parseSse,
  postChat,
  sseText,
  useGateway,
  type SseEvent,
} from './gateway-fixtures';

/** The gateway's HTTP surface: input checks, endpoints, SSE framing, usage, auth and CORS. */
const env = useGateway({ gateway: { bodyLimitBytes: 4096 } });
const TEXT = simulatedText('Hello', 24);

/** Extra gateways on the same router, closed after the file (before the router). */
const extra: Gateway[] = [];
async function anotherGateway(options: Omit<GatewayOptions, 'router'>): Promise<Gateway> {
  const gateway = await startGateway({
    router: env.router,
    port: 0,
    logger: createLogger({ silent: true }),
    ...options,
  });
  extra.push(gateway);
  return gateway;
}
env.onTeardown(async () => {
  for (const gateway of extra) await gateway.close({ graceMs: 0 });
});

/**
 * POSTs a chunked body (no Content-Length): `first`, then `piece` every 2 ms until the answer
 * comes (64 KB at most, in case it never does). Resolves with the status and the bytes of pieces
 * sent.
 */
function sendUntilAnswered(
  headers: Record<string, string>,
  first: string,
  piece: string | Buffer,
): Promise<{ status: number; sent: number }> {
  return new Promise((resolve, reject) => {
    let sent = 0;
    const req = httpRequest(
      `${env.url}/v1/chat/completions`,
      { method: 'POST', headers },
      (res) => {
        res.resume();
        resolve({ status: res.statusCode ?? 0, sent });
      },
    );
    req.on('error', reject);
    if (first !== '') req.write(first);
    const timer = setInterval(() => {
      if (sent > 64 * 1024) {
        clearInterval(timer);
        req.end();
        return;
      }
      req.write(piece);
      sent += piece.length;
    }, 2);
    req.on('response', () => {
      clearInterval(timer);
      req.destroy();
    });
  });
}

/** How many chat calls the simulator has seen. */
const chatAttempts = (): number => env.sim.attempts.filter((a) => a.endpoint === 'chat').length;

async function errorOf(res: Response): Promise<Record<string, unknown>> {
  const body = (await res.json()) as { error: Record<string, unknown> };
  return body.error;
}

describe('bad input', () => {
  it('should answer invalid JSON with a 400 naming the problem', async () => {
    const res = await postChat(env.url, '{"model": "fast", "messages": [');
    expect(res.status).toBe(400);
    const error = await errorOf(res);
    expect(error).toMatchObject({
      type: 'invalid_request_error',
      code: 'invalid_json',
      param: null,
    });
    expect(error.message).toMatch(/not valid JSON \(.+\)/);
  });

  it.each([
    ['an empty body', '', /empty/],
    ['an array', '[1, 2]', /must be a JSON object, got an array/],
    ['a string', '"hi"', /must be a JSON object, got a string/],
    ['null', 'null', /must be a JSON object, got null/],
  ])('should answer %s with a 400 saying what it is', async (_label, body, message) => {
    const res = await postChat(env.url, body);
    expect(res.status).toBe(400);
    expect((await errorOf(res)).message).toMatch(message);
  });

  it.each([
    ['a missing messages', { model: 'fast' }, 'messages'],
    ['messages of the wrong type', { model: 'fast', messages: 'hi' }, 'messages'],
    [
      'a bad role',
      chatBody('fast', { messages: [{ role: 'robot', content: 'x' }] }),
      'messages[0].role',
    ],
    ['a stream that is not a boolean', chatBody('fast', { stream: 'yes' }), 'stream'],
    ['a missing model', { messages: [{ role: 'user', content: 'x' }] }, 'model'],
    ['a temperature out of range', chatBody('fast', { temperature: 7 }), 'temperature'],
  ])('should answer %s with a 400 naming the field', async (_label, body, field) => {
    const res = await postChat(env.url, body);
    expect(res.status).toBe(400);
    const error = await errorOf(res);
    expect(error).toMatchObject({ type: 'invalid_request_error', param: field });
    expect(error.message).toContain(field);
    expect(env.sim.attempts.filter((a) => a.endpoint === 'chat')).toEqual([]);
  });

  it('should answer a body over the limit with a 413 and close the connection', async () => {
    const res = await postChat(env.url, chatBody('fast', {}, 'x'.repeat(5000)));
    expect(res.status).toBe(413);
    expect(res.headers.get('connection')).toBe('close');
    const error = await errorOf(res);
    expect(error).toMatchObject({ code: 'request_too_large' });
    expect(error.message).toContain('4096 bytes');
  });

  it('should stop reading a chunked body once it passes the limit', async () => {
    // No Content-Length: the body arrives in pieces and the gateway counts them.
    const { status, sent } = await sendUntilAnswered(
      { 'content-type': 'application/json' },
      '{"model":"fast","messages":[{"role":"user","content":"',
      'x'.repeat(1024),
    );
    expect(status).toBe(413);
    // The answer came soon after the limit, not after the whole body.
    expect(sent).toBeLessThan(32 * 1024);
  });

  it.each([
    ['gzip', gzipSync],
    ['deflate', deflateSync],
    ['br', brotliCompressSync],
  ])('should read a %s-encoded body', async (encoding, compress) => {
    const body = compress(Buffer.from(JSON.stringify(chatBody('fast'))));
    const res = await postChat(env.url, body, { 'content-encoding': encoding });
    expect(res.status).toBe(200);
    const completion = (await res.json()) as { choices: { message: { content: string } }[] };
    expect(completion.choices[0]?.message.content).toBe(TEXT);
  });

  it('should answer a compressed body that inflates past the limit with a 413', async () => {
    // About 100 bytes on the wire, 100 KB decoded: the limit counts what is decoded.
    const body = gzipSync(Buffer.from(JSON.stringify(chatBody('fast', {}, 'x'.repeat(100_000)))));
    expect(body.length).toBeLessThan(4096);
    const calls = chatAttempts();
    const res = await postChat(env.url, body, { 'content-encoding': 'gzip' });
    expect(res.status).toBe(413);
    expect(res.headers.get('connection')).toBe('close');
    expect(await errorOf(res)).toMatchObject({ code: 'request_too_large' });
    expect(chatAttempts()).toBe(calls);
  });

  it('should bound the encoded bytes of a chunked compressed body too', async () => {
    // Empty gzip members decode to nothing: only the count of encoded bytes can stop them.
    const member = gzipSync(Buffer.alloc(0));
    const { status } = await sendUntilAnswered(
      { 'content-type': 'application/json', 'content-encoding': 'gzip' },
      '',
      Buffer.concat(Array(50).fill(member) as Buffer[]), // about 1 KB
    );
    expect(status).toBe(413);
  });

  it('should answer a corrupt gzip body with a 400, and an unknown encoding with a 415', async () => {
    const calls = chatAttempts();
    const corrupt = await postChat(env.url, Buffer.from('not gzip at all'), {
      'content-encoding': 'gzip',
    });
    expect(corrupt.status).toBe(400);
    const error = await errorOf(corrupt);
    expect(error).toMatchObject({ code: 'invalid_encoding', type: 'invalid_request_error' });
    expect(error.message).toContain('not valid gzip');

    const unknown = await postChat(env.url, chatBody('fast'), { 'content-encoding': 'zstd' });
    expect(unknown.status).toBe(415);
    const refusal = await errorOf(unknown);
    expect(refusal).toMatchObject({ code: 'unsupported_encoding' });
    expect(refusal.message).toContain('"zstd"');
    expect(refusal.message).toContain('gzip, deflate or br');
    expect(chatAttempts()).toBe(calls);
  });

  it('should answer an unknown model with a 404 listing the models', async () => {
    const res = await postChat(env.url, chatBody('gpt4-typo-model', { stream: true }));
    expect(res.status).toBe(404);
    const error = await errorOf(res);
    expect(error).toMatchObject({ code: 'model_not_found', param: 'model' });
    for (const model of ['fast', 'gpt-*', 'claude-*', 'gemini-*']) {
      expect(error.message).toContain(model);
    }
  });

  it('should answer an unknown path with a 404 listing the endpoints, and a wrong method with 405', async () => {
    const notFound = await fetch(`${env.url}/v2/nothing`);
    expect(notFound.status).toBe(404);
    expect((await errorOf(notFound)).message).toContain('POST /v1/chat/completions');
    const wrongMethod = await fetch(`${env.url}/v1/chat/completions`);
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.get('allow')).toBe('POST');
    await wrongMethod.arrayBuffer();
  });
});

describe('POST /v1/chat/completions with stream: true', () => {
  async function streamOf(
    body: Record<string, unknown>,
  ): Promise<{ res: Response; events: SseEvent[]; raw: string }> {
    const res = await postChat(env.url, body);
    const raw = await res.text();
    return { res, events: parseSse(raw), raw };
  }

  it('should send SSE with chunk indexes as ids, then [DONE], and an x-session-id', async () => {
    const { res, events, raw } = await streamOf(chatBody('fast', { stream: true }));
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    expect(res.headers.get('x-session-id')).toMatch(/^sess_[0-9a-f-]{36}$/);
    expect(res.headers.get('x-request-id')).toMatch(/^req_/);
    expect(raw.endsWith('data: [DONE]\n\n')).toBe(true);
    const chunks = events.slice(0, -1);
    expect(chunks.map((e) => e.id)).toEqual(chunks.map((_e, i) => String(i)));
    expect(sseText(events)).toBe(TEXT);
    for (const { data } of chunks) {
      expect(data).toMatchObject({
        object: 'chat.completion.chunk',
        provider: 'openai',
        model: 'gpt-4o-mini',
      });
      expect((data as { usage?: unknown }).usage).toBeUndefined();
    }
  });

  it('should send OpenAI usage chunk for Gemini (usage carried by the finish chunk) only when asked', async () => {
    const asked = await streamOf(
      chatBody('gemini-2.5-flash', { stream: true, stream_options: { include_usage: true } }),
    );
    const usageChunk = asked.events.at(-2)!;
    expect(usageChunk.id).toBeUndefined();
    expect(usageChunk.data).toMatchObject({
      choices: [],
      provider: 'google',
      usage: { completion_tokens: 24 },
    });
    expect(
      asked.events.slice(0, -2).every((e) => (e.data as { usage?: unknown }).usage === undefined),
    ).toBe(true);

    const notAsked = await streamOf(chatBody('gemini-2.5-flash', { stream: true }));
    expect(
      notAsked.events.every(
        (e) => e.data === '[DONE]' || (e.data as { usage?: unknown }).usage === undefined,
      ),
    ).toBe(true);
    expect(sseText(notAsked.events)).toBe(TEXT);
  });

  it('should drop the OpenAI usage-only chunk unless include_usage is set', async () => {
    const notAsked = await streamOf(chatBody('gpt-4o', { stream: true }));
    expect(
      notAsked.events.some((e) => (e.data as { choices?: unknown[] }).choices?.length === 0),
    ).toBe(false);
    const asked = await streamOf(
      chatBody('gpt-4o', { stream: true, stream_options: { include_usage: true } }),
    );
    const last = asked.events.at(-2)!;
    expect(last.id).toBe(String(asked.events.length - 2));
    expect(last.data).toMatchObject({ choices: [], usage: { completion_tokens: 24 } });
  });

  it('should send the usage by default with includeUsageByDefault, unless the client says false', async () => {
    const gateway = await anotherGateway({ includeUsageByDefault: true });
    const byDefault = parseSse(
      await (await postChat(gateway.url, chatBody('gpt-4o', { stream: true }))).text(),
    );
    expect(byDefault.at(-2)?.data).toMatchObject({ choices: [], usage: { completion_tokens: 24 } });
    const refused = parseSse(
      await (
        await postChat(
          gateway.url,
          chatBody('gpt-4o', { stream: true, stream_options: { include_usage: false } }),
        )
      ).text(),
    );
    expect(
      refused.some(
        (e) => (e.data as { usage?: unknown }).usage !== undefined && e.data !== '[DONE]',
      ),
    ).toBe(false);
  });

  it('should answer a failure before the first chunk with a status, a JSON error and Retry-After', async () => {
    const res = await postChat(
      env.url,
      chatBody('sim-fault-status-503-retry-ms-300', { stream: true }),
    );
    expect(res.status).toBe(503);
    expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(res.headers.get('retry-after')).toBe('1');
    expect(res.headers.get('retry-after-ms')).toBe('300');
    expect(await errorOf(res)).toMatchObject({
      type: 'server_error',
      // Every call failed the same way: the shared cause's code.
      code: 'overloaded',
    });
  });

  it('should send a failure after the first chunk in-band and end without [DONE]', async () => {
    const { res, events, raw } = await streamOf(
      chatBody('sim-fault-reset-after-3', { stream: true }),
    );
    expect(res.status).toBe(200);
    expect(raw).not.toContain('[DONE]');
    const last = events.at(-1)!;
    expect(last.id).toBeUndefined();
    expect(last.data).toMatchObject({ error: { type: 'server_error', code: 'incomplete_stream' } });
    expect(sseText(events.slice(0, -1))).toBe(simulatedText('Hello', 3));
  });
});

describe('the other endpoints', () => {
  it('should list the routes as OpenAI models with their candidates', async () => {
    const res = await fetch(`${env.url}/v1/models`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { object: string; data: Record<string, unknown>[] };
    expect(body.object).toBe('list');
    expect(body.data).toContainEqual({
      id: 'fast',
      object: 'model',
      created: 0,
      owned_by: 'rx-llm-router',
      glob: false,
      candidates: ['openai/gpt-4o-mini', 'anthropic/claude-sonnet-4-5'],
    });
    expect(body.data).toContainEqual(
      expect.objectContaining({ id: 'claude-*', glob: true, candidates: ['anthropic/$model'] }),
    );
  });

  it('should resolve one model, or 404 listing the routes', async () => {
    const found = await fetch(`${env.url}/v1/models/claude-opus-4`);
    expect(await found.json()).toMatchObject({
      id: 'claude-opus-4',
      object: 'model',
      route: 'claude-*',
      candidates: ['anthropic/claude-opus-4'],
    });
    const missing = await fetch(`${env.url}/v1/models/${encodeURIComponent('mistral/large')}`);
    expect(missing.status).toBe(404);
    expect((await errorOf(missing)).message).toContain('Unknown model "mistral/large"');
  });

  it('should answer liveness and the providers health snapshot', async () => {
    const live = await fetch(`${env.url}/health`);
    expect(live.status).toBe(200);
    expect(await live.json()).toEqual({ status: 'ok' });
    const health = (await (await fetch(`${env.url}/health/providers`)).json()) as {
      at: number;
      candidates: { candidate: string; breaker: string }[];
    };
    expect(typeof health.at).toBe('number');
    expect(health.candidates).toContainEqual(
      expect.objectContaining({ candidate: 'openai/gpt-4o-mini', breaker: 'closed' }),
    );
  });

  it('should echo a sane x-request-id and replace an insane one', async () => {
    const given = await fetch(`${env.url}/health`, { headers: { 'x-request-id': 'trace-42.a:b' } });
    expect(given.headers.get('x-request-id')).toBe('trace-42.a:b');
    const insane = await fetch(`${env.url}/health`, {
      headers: { 'x-request-id': 'bad id\twith spaces' },
    });
    expect(insane.headers.get('x-request-id')).toMatch(/^req_/);
  });
});

describe('auth keys', () => {
  let gateway: Gateway;
  beforeAll(async () => {
    gateway = await anotherGateway({ authKeys: ['gw-key-one', 'gw-key-two'] });
  });

  it('should answer a missing key with a 401 and leave /health open', async () => {
    const res = await postChat(gateway.url, chatBody('fast'));
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe('Bearer');
    expect(await errorOf(res)).toMatchObject({
      type: 'authentication_error',
      code: 'missing_api_key',
    });
    expect((await fetch(`${gateway.url}/health`)).status).toBe(200);
    for (const path of ['/v1/models', '/metrics', '/v1/sessions', '/health/providers']) {
      const denied = await fetch(`${gateway.url}${path}`);
      expect(denied.status).toBe(401);
      await denied.arrayBuffer();
    }
  });

  it('should answer a wrong key with a 401', async () => {
    for (const headers of [
      { authorization: 'Bearer gw-key-oneX' },
      { authorization: 'Bearer gw-key' },
      { authorization: 'Basic gw-key-one' },
      { 'x-api-key': 'nope' },
    ]) {
      const res = await postChat(gateway.url, chatBody('fast'), headers);
      expect(res.status).toBe(401);
      await res.arrayBuffer();
    }
  });

  it('should accept either key as a Bearer token or in x-api-key, with the SDK too', async () => {
    const bearer = await postChat(gateway.url, chatBody('fast'), {
      authorization: 'Bearer gw-key-two',
    });
    expect(bearer.status).toBe(200);
    await bearer.arrayBuffer();
    const apiKey = await postChat(gateway.url, chatBody('fast'), { 'x-api-key': 'gw-key-one' });
    expect(apiKey.status).toBe(200);
    await apiKey.arrayBuffer();
    const sdk = new OpenAI({ apiKey: 'gw-key-one', baseURL: `${gateway.url}/v1`, maxRetries: 0 });
    const completion = await sdk.chat.completions.create({
      model: 'fast',
      messages: [{ role: 'user', content: 'Hello' }],
    });
    expect(completion.choices[0]?.message.content).toBe(TEXT);
    const wrong = new OpenAI({
      apiKey: 'gw-key-three',
      baseURL: `${gateway.url}/v1`,
      maxRetries: 0,
    });
    await expect(wrong.models.list()).rejects.toBeInstanceOf(OpenAI.AuthenticationError);
  });
});

describe('CORS', () => {
  it('should add nothing when disabled', async () => {
    const res = await fetch(`${env.url}/health`, { headers: { origin: 'https://app.example' } });
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('should answer preflights and allow any origin with cors: true', async () => {
    const gateway = await anotherGateway({ cors: true, authKeys: ['k'] });
    const preflight = await fetch(`${gateway.url}/v1/chat/completions`, {
      method: 'OPTIONS',
      headers: {
        origin: 'https://app.example',
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'authorization, content-type, x-stainless-os',
      },
    });
    // The preflight needs no key.
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe('*');
    expect(preflight.headers.get('access-control-allow-methods')).toContain('POST');
    expect(preflight.headers.get('access-control-allow-headers')).toBe(
      'authorization, content-type, x-stainless-os',
    );
    const res = await postChat(gateway.url, chatBody('fast'), {
      origin: 'https://app.example',
      authorization: 'Bearer k',
    });
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
    expect(res.headers.get('access-control-expose-headers')).toContain('x-session-id');
    await res.arrayBuffer();
  });

  it('should allow only the listed origins', async () => {
    const gateway = await anotherGateway({ cors: { origins: ['https://ok.example'] } });
    const ok = await fetch(`${gateway.url}/health`, { headers: { origin: 'https://ok.example' } });
    expect(ok.headers.get('access-control-allow-origin')).toBe('https://ok.example');
    expect(ok.headers.get('vary')).toBe('Origin');
    const other = await fetch(`${gateway.url}/health`, {
      headers: { origin: 'https://evil.example' },
    });
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
    const preflight = await fetch(`${gateway.url}/v1/models`, {
      method: 'OPTIONS',
      headers: { origin: 'https://evil.example', 'access-control-request-method': 'GET' },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-methods')).toBeNull();
  });
});

describe('startGateway', () => {
  it('should use its own registry unless given one, and reject bad options', async () => {
    const registry = new Registry();
    const gateway = await anotherGateway({ registry });
    expect(gateway.registry).toBe(registry);
    expect(env.gateway.registry).not.toBe(registry);
    expect(registry.getSingleMetric('rxllm_requests_total')).toBeDefined();
    await expect(anotherGateway({ bodyLimitBytes: 0 })).rejects.toThrow(/bodyLimitBytes/);
    await expect(anotherGateway({ authKeys: [''] })).rejects.toThrow(/authKeys/);
  });

  it('should reject when the port is taken', async () => {
    await expect(
      startGateway({
        router: env.router,
        port: env.gateway.port,
        logger: createLogger({ silent: true }),
      }),
    ).rejects.toThrow(/EADDRINUSE/);
  });
});
