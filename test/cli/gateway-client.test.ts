import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createGatewayClient, gatewayBase } from '../../src/cli/gateway-client';
import type { StreamingChunk } from '../../src/chunk/streaming-chunk';
import { IncompleteStreamError } from '../../src/errors/incomplete-stream-error';
import { isRouterError } from '../../src/errors/router-error';
import { textChunk } from '../../src/testing/chunk-builders';
import {
  captureUnhandledRejections,
  countHandles,
  expectNoLeakedHandles,
  type HandleCounts,
  type RejectionCapture,
} from '../helpers/leaks';

// A stand-in gateway answering each path with a scripted body, to test the client's decoding
// of every ending: [DONE], an in-band error, a cut, an HTTP error.
const frames = (chunks: StreamingChunk[]): string =>
  chunks.map((c, i) => `id: ${i}\ndata: ${JSON.stringify(c)}\n\n`).join('');

const hello = [
  textChunk('Hello', { provider: 'openai', model: 'gpt-4o-mini' }),
  textChunk(' world', { provider: 'anthropic', model: 'claude-3-5-haiku-latest' }),
];

let server: Server;
let url: string;
let seen: { path: string; auth: string | undefined; body: string }[];
let baseline: HandleCounts;
let rejections: RejectionCapture;

beforeAll(async () => {
  baseline = countHandles();
  rejections = captureUnhandledRejections();
  seen = [];
  server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (d: string) => (body += d));
    req.on('end', () => {
      seen.push({ path: req.url ?? '', auth: req.headers.authorization, body });
      const model = body === '' ? '' : (JSON.parse(body) as { model: string }).model;
      if (req.url?.startsWith('/v1/sessions/') === true) {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ id: 'sess_1', costUsd: 0.25, failovers: 1 }));
        return;
      }
      if (model === 'missing') {
        res.writeHead(404, { 'content-type': 'application/json' });
        res.end(
          JSON.stringify({
            error: {
              message: 'Unknown model "missing". Available: fast.',
              type: 'invalid_request_error',
              param: 'model',
              code: 'model_not_found',
            },
          }),
        );
        return;
      }
      res.writeHead(200, { 'content-type': 'text/event-stream', 'x-session-id': 'sess_1' });
      if (model === 'ok') res.end(`${frames(hello)}data: [DONE]\n\n`);
      else if (model === 'inband') {
        res.end(
          `${frames(hello)}data: {"error":{"message":"anthropic sent an error mid-stream: Overloaded","type":"overloaded_error","code":null}}\n\n`,
        );
      } else if (model === 'cut') res.end(frames(hello));
      else if (model === 'garbage') res.end('data: {not json\n\n');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => {
    server.close(() => {
      resolve();
    });
  });
  rejections.stop();
  await expectNoLeakedHandles(baseline);
});

async function collect(
  model: string,
  apiKey?: string,
): Promise<{ chunks: StreamingChunk[]; error: unknown; sessionId: string | undefined }> {
  const client = createGatewayClient({ url: `${url}/v1/`, apiKey });
  const chunks: StreamingChunk[] = [];
  let error: unknown;
  let sessionId: string | undefined;
  try {
    const answer = await client.stream({ model, messages: [{ role: 'user', content: 'Hi' }] });
    sessionId = answer.sessionId;
    for await (const chunk of answer.chunks) chunks.push(chunk);
  } catch (e) {
    error = e;
  } finally {
    await client.close();
  }
  return { chunks, error, sessionId };
}

describe('createGatewayClient', () => {
  it('should yield the chunks as sent, with their provider, and end at [DONE]', async () => {
    const { chunks, error, sessionId } = await collect('ok', 'gw-key');
    expect(error).toBeUndefined();
    expect(sessionId).toBe('sess_1');
    expect(chunks.map((c) => [c.provider, c.choices[0]?.delta.content])).toEqual([
      ['openai', 'Hello'],
      ['anthropic', ' world'],
    ]);
    expect(seen.at(-1)).toMatchObject({ path: '/v1/chat/completions', auth: 'Bearer gw-key' });
  });

  it('should throw the in-band error after the chunks before it', async () => {
    const { chunks, error } = await collect('inband');
    expect(chunks).toHaveLength(2);
    expect(error).toBeInstanceOf(IncompleteStreamError);
    expect((error as Error).message).toBe(
      'The answer broke off after 2 chunks: anthropic sent an error mid-stream: Overloaded',
    );
    expect((error as Error).cause).toMatchObject({ code: 'RXLLM_PROVIDER_OVERLOADED' });
  });

  it('should never pass off a stream without [DONE] as complete', async () => {
    const { chunks, error } = await collect('cut');
    expect(chunks).toHaveLength(2);
    expect(error).toBeInstanceOf(IncompleteStreamError);
    expect((error as Error).message).toContain('without [DONE]');
  });

  it('should turn an HTTP error into a typed error with the gateway message', async () => {
    const { error } = await collect('missing');
    expect(isRouterError(error) && error.status).toBe(404);
    expect((error as Error).message).toContain('Unknown model "missing". Available: fast.');
  });

  it('should reject an event that is not JSON', async () => {
    const { error } = await collect('garbage');
    expect(isRouterError(error) && error.code).toBe('RXLLM_PARSE');
  });

  it('should read a session, and say undefined when the gateway is unreachable', async () => {
    const client = createGatewayClient({ url });
    await expect(client.session('sess_1')).resolves.toMatchObject({ costUsd: 0.25 });
    await client.close();
    const gone = createGatewayClient({ url: 'http://127.0.0.1:1' });
    await expect(gone.session('x')).resolves.toBeUndefined();
    await expect(gone.stream({ model: 'ok' })).rejects.toThrow(
      /Cannot reach the gateway at http:\/\/127\.0\.0\.1:1: .*Is `rx-llm-router serve` running\?/,
    );
    await gone.close();
  });

  it('should accept the URL with or without /v1 and reject other schemes', () => {
    expect(gatewayBase('http://127.0.0.1:8787')).toBe('http://127.0.0.1:8787');
    expect(gatewayBase('http://127.0.0.1:8787/v1/')).toBe('http://127.0.0.1:8787');
    expect(gatewayBase('https://gw.example.com/llm/v1')).toBe('https://gw.example.com/llm');
    expect(() => gatewayBase('ftp://x')).toThrow('--url: expected http: or https:, got ftp:');
    expect(() => gatewayBase('localhost')).toThrow("--url: expected the gateway's URL");
  });
});
