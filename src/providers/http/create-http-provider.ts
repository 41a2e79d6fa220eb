import { defer, type Observable } from 'rxjs';
import { Pool } from 'undici';
import type { StreamFormat, StreamingChunk } from '../../chunk/streaming-chunk';
import { ValidationError } from '../../errors/validation-error';
import type { ChatRequest } from '../../request/chat-request';
import { validateChatRequest } from '../../request/validate-chat-request';
import type { Provider, ProviderStreamOptions } from '../provider';
import { errorFromResponse } from '../error-from-response';
import { httpStream, toNetworkError } from './http-stream';
import { readBounded } from './read-bounded';

/** Connection options every HTTP provider accepts. */
export interface HttpProviderOptions {
  /** Extra headers sent with every request. */
  headers?: Record<string, string>;
  /** Keep-alive connections to the provider, at most. Default 128. */
  connections?: number;
  /** How long an idle keep-alive connection is kept, in ms. Default 30 000. */
  keepAliveTimeoutMs?: number;
}

/** What a concrete provider tells the generic HTTP provider. */
export interface HttpProviderSpec {
  name: string;
  format: StreamFormat;
  baseURL: string;
  headers: Record<string, string>;
  secrets: readonly string[];
  /** Path (below the base URL's path) and JSON body of a streaming call. */
  buildCall(request: ChatRequest): { path: string; body: unknown; model: string };
  /** Path (below the base URL's path) of a cheap GET for health checks. */
  healthPath: string;
  options: HttpProviderOptions;
}

/** A provider over HTTP: health checks and `close()` are always there. */
export interface HttpProvider extends Provider {
  healthCheck(): Promise<void>;
  /** Closes the provider's connection pool (waits for requests in flight). */
  close(): Promise<void>;
}

/** Parses and checks a base URL, naming the option in the error. */
export function parseBaseURL(factory: string, value: string): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ValidationError(
      [
        {
          path: 'baseURL',
          message: `expected an absolute http(s) URL, got ${JSON.stringify(value)}`,
        },
      ],
      {
        subject: `${factory}() options`,
      },
    );
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ValidationError(
      [{ path: 'baseURL', message: `expected http: or https:, got ${url.protocol}` }],
      {
        subject: `${factory}() options`,
      },
    );
  }
  return url;
}

/** Checks that a required string option is present and non-empty. */
export function requireString(factory: string, field: string, value: unknown): string {
  if (typeof value !== 'string' || value.trim() === '') {
    throw new ValidationError([{ path: field, message: 'expected a non-empty string' }], {
      subject: `${factory}() options`,
    });
  }
  return value;
}

/**
 * Builds a {@link Provider} over undici: one keep-alive connection pool per provider, requests
 * validated, sent as JSON, streamed back through {@link httpStream}.
 */
export function createHttpProvider(spec: HttpProviderSpec): HttpProvider {
  const url = new URL(spec.baseURL);
  const origin = url.origin;
  const basePath = url.pathname.replace(/\/+$/, '');
  const {
    connections = 128,
    keepAliveTimeoutMs = 30_000,
    headers: extraHeaders = {},
  } = spec.options;
  const pool = new Pool(origin, {
    connections,
    keepAliveTimeout: keepAliveTimeoutMs,
    // Streams can be silent for long stretches (reasoning); our timeouts operator bounds them.
    bodyTimeout: 0,
    headersTimeout: 0,
  });
  const headers = {
    'content-type': 'application/json',
    accept: 'text/event-stream',
    ...extraHeaders,
    ...spec.headers,
  };

  return {
    name: spec.name,
    stream(request: ChatRequest, options: ProviderStreamOptions = {}): Observable<StreamingChunk> {
      return defer(() => {
        const valid = validateChatRequest(request);
        const call = spec.buildCall(valid);
        return httpStream({
          provider: spec.name,
          format: spec.format,
          dispatcher: pool,
          origin,
          path: `${basePath}${call.path}`,
          headers,
          body: JSON.stringify(call.body),
          model: call.model,
          signal: options.signal,
          keepAliveChunks: options.keepAliveChunks,
          secrets: spec.secrets,
        });
      });
    },
    async healthCheck(): Promise<void> {
      const { accept: _accept, 'content-type': _type, ...getHeaders } = headers;
      let response: Awaited<ReturnType<typeof pool.request>>;
      try {
        response = await pool.request({
          origin,
          path: `${basePath}${spec.healthPath}`,
          method: 'GET',
          headers: getHeaders,
        });
      } catch (error) {
        throw toNetworkError(spec.name, origin, error);
      }
      const text = await readBounded(response.body);
      if (response.statusCode >= 300) {
        throw errorFromResponse({
          provider: spec.name,
          status: response.statusCode,
          headers: response.headers,
          body: text,
          secrets: spec.secrets,
        });
      }
    },
    async close(): Promise<void> {
      await pool.close();
    },
  };
}
