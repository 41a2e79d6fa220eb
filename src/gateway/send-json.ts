import type { ServerResponse } from 'node:http';
import type { MappedError } from './openai-error';

/**
 * Sends `body` as a JSON response with its length. Headers set earlier on `res` (CORS,
 * `x-request-id`, `x-session-id`) are kept. Does nothing when the response has already started or
 * the connection is gone.
 */
export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  if (res.headersSent || res.destroyed) return;
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}

/** The `Retry-After` value for `ms`: whole seconds, rounded up. */
export function retryAfterSeconds(ms: number): string {
  return String(Math.max(0, Math.ceil(ms / 1000)));
}

/**
 * Sends an OpenAI error response `{ error: { message, type, param, code } }` with its status,
 * and, when the wait is known, `Retry-After` (seconds, rounded up) and `retry-after-ms` (which the
 * OpenAI SDKs prefer).
 */
export function sendError(res: ServerResponse, mapped: MappedError): void {
  if (res.headersSent || res.destroyed) return;
  if (mapped.retryAfterMs !== undefined && Number.isFinite(mapped.retryAfterMs)) {
    res.setHeader('retry-after', retryAfterSeconds(mapped.retryAfterMs));
    res.setHeader('retry-after-ms', String(Math.max(0, Math.ceil(mapped.retryAfterMs))));
  }
  sendJson(res, mapped.status, { error: mapped.error });
}
