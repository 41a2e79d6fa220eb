import { Agent, request as undiciRequest, type Dispatcher } from 'undici';
import type { StreamingChunk } from '../chunk/streaming-chunk';
import { IncompleteStreamError } from '../errors/incomplete-stream-error';
import { NetworkError } from '../errors/network-error';
import { ParseError } from '../errors/parse-error';
import { isRouterError } from '../errors/router-error';
import { classifyProviderError } from '../providers/classify-error';
import { errorFromResponse } from '../providers/error-from-response';
import { readBounded } from '../providers/http/read-bounded';
import { asRecord, asString } from '../providers/stream-decoder';
import type { SessionInfo } from '../sessions/session-info';
import { createSseDecoder, type SseEvent } from '../sse/sse-decoder';

/** Options of {@link createGatewayClient}. */
export interface GatewayClientOptions {
  /** The gateway: `http://127.0.0.1:8787` (a trailing `/v1` is accepted). */
  url: string;
  /** Sent as `Authorization: Bearer <key>` when the gateway requires a key. */
  apiKey?: string | undefined;
}

/** A streamed answer from the gateway. */
export interface GatewayAnswer {
  /** The router session of the answer (`x-session-id`), for `GET /v1/sessions/:id`. */
  readonly sessionId: string | undefined;
  /**
   * The chunks as the gateway sent them (each names its provider and model). Ends after
   * `[DONE]`; throws the gateway's in-band error, or an `IncompleteStreamError` when the stream
   * ends without `[DONE]`.
   */
  readonly chunks: AsyncIterable<StreamingChunk>;
}

/** A small client of the gateway's chat and session endpoints, over its own undici agent. */
export interface GatewayClient {
  /** Posts a streaming chat request; resolves once the status and headers arrived. */
  stream(body: Record<string, unknown>, signal?: AbortSignal): Promise<GatewayAnswer>;
  /** The router's snapshot of a session, or undefined if the gateway has none (any failure). */
  session(id: string): Promise<SessionInfo | undefined>;
  /** Closes the client's connections. */
  close(): Promise<void>;
}

const PROVIDER = 'gateway';

/** `http://host:port`, without a trailing `/` or `/v1`; throws on anything but http(s). */
export function gatewayBase(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new TypeError(
      `--url: expected the gateway's URL (http://host:port), got ${JSON.stringify(url)}.`,
    );
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new TypeError(`--url: expected http: or https:, got ${parsed.protocol}`);
  }
  return `${parsed.origin}${parsed.pathname.replace(/\/+$/, '').replace(/\/v1$/, '')}`;
}

function inBandError(payload: Record<string, unknown>, chunks: number): Error {
  const error = asRecord(payload.error);
  const cause = classifyProviderError({
    provider: PROVIDER,
    type: asString(error?.type),
    code: asString(error?.code),
    message: asString(error?.message),
  });
  return new IncompleteStreamError(
    `The answer broke off after ${chunks} chunk${chunks === 1 ? '' : 's'}: ${asString(error?.message) ?? 'the gateway sent an error'}`,
    { provider: PROVIDER, cause },
  );
}

async function* decodeAnswer(
  body: Dispatcher.ResponseData['body'],
): AsyncGenerator<StreamingChunk> {
  const events: SseEvent[] = [];
  const bare: unknown[] = [];
  const decoder = createSseDecoder(
    {
      onEvent: (event) => events.push(event),
      onBareJson: (value) => bare.push(value),
    },
    { maxEventSize: 4 * 1024 * 1024 },
  );
  const state = { done: false };
  let count = 0;
  body.on('error', () => undefined);
  const drain = function* (): Generator<StreamingChunk> {
    for (const value of bare.splice(0)) {
      const record = asRecord(value);
      if (record?.error !== undefined) throw inBandError(record, count);
    }
    for (const event of events.splice(0)) {
      if (state.done) continue;
      if (event.data === '[DONE]') {
        state.done = true;
        continue;
      }
      let value: unknown;
      try {
        value = JSON.parse(event.data);
      } catch (cause) {
        throw new ParseError(
          `The gateway sent an event that is not JSON: ${event.data.slice(0, 120)}`,
          {
            cause,
            excerpt: event.data,
          },
        );
      }
      const record = asRecord(value);
      if (record?.error !== undefined) throw inBandError(record, count);
      if (record === undefined || !Array.isArray(record.choices)) {
        throw new ParseError(
          `The gateway sent an event that is not a chunk: ${event.data.slice(0, 120)}`,
          {
            excerpt: event.data,
          },
        );
      }
      count++;
      yield record as unknown as StreamingChunk;
    }
  };
  try {
    try {
      for await (const piece of body as AsyncIterable<Buffer>) {
        decoder.feed(piece);
        yield* drain();
      }
    } catch (error) {
      if (isRouterError(error)) throw error;
      throw new IncompleteStreamError(
        `The connection to the gateway broke off after ${count} chunks: ${error instanceof Error ? error.message : String(error)}`,
        { provider: PROVIDER, cause: error },
      );
    }
    decoder.end();
    yield* drain();
    if (!state.done) {
      throw new IncompleteStreamError(
        `The gateway closed the stream after ${count} chunks without [DONE]: the answer is incomplete.`,
        { provider: PROVIDER },
      );
    }
  } finally {
    if (!body.destroyed) body.destroy();
  }
}

/**
 * A client of a running gateway for `chat --url`: streams `POST /v1/chat/completions`, decodes
 * its SSE (chunks, in-band errors, the `[DONE]` that proves the answer complete) and reads
 * sessions. Errors are typed: an HTTP error status becomes the matching `RouterError` (its
 * OpenAI error body's message included), a cut stream an `IncompleteStreamError`.
 */
export function createGatewayClient(options: GatewayClientOptions): GatewayClient {
  const base = gatewayBase(options.url);
  const agent = new Agent({ keepAliveTimeout: 1000, connections: 2 });
  const secrets = options.apiKey === undefined ? [] : [options.apiKey];
  const auth: Record<string, string> =
    options.apiKey === undefined ? {} : { authorization: `Bearer ${options.apiKey}` };

  return {
    async stream(body, signal) {
      let response: Dispatcher.ResponseData;
      try {
        response = await undiciRequest(`${base}/v1/chat/completions`, {
          method: 'POST',
          dispatcher: agent,
          headers: { 'content-type': 'application/json', accept: 'text/event-stream', ...auth },
          body: JSON.stringify(body),
          signal,
        });
      } catch (error) {
        if (signal?.aborted === true) throw signal.reason;
        throw new NetworkError(
          `Cannot reach the gateway at ${base}: ${error instanceof Error ? error.message : String(error)}. Is \`rx-llm-router serve\` running?`,
          { provider: PROVIDER, cause: error },
        );
      }
      if (response.statusCode !== 200) {
        const text = await readBounded(response.body);
        throw errorFromResponse({
          provider: PROVIDER,
          status: response.statusCode,
          headers: response.headers,
          body: text,
          secrets,
        });
      }
      const id = response.headers['x-session-id'];
      return {
        sessionId: typeof id === 'string' ? id : undefined,
        chunks: decodeAnswer(response.body),
      };
    },
    async session(id) {
      try {
        const response = await undiciRequest(`${base}/v1/sessions/${encodeURIComponent(id)}`, {
          dispatcher: agent,
          headers: auth,
          signal: AbortSignal.timeout(2000),
        });
        const text = await readBounded(response.body, 256 * 1024);
        if (response.statusCode !== 200) return undefined;
        return JSON.parse(text) as SessionInfo;
      } catch {
        return undefined;
      }
    },
    async close() {
      await agent.close();
    },
  };
}
