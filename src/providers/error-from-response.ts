import type { RouterError } from '../errors/router-error';
import { classifyProviderError } from './classify-error';
import { retryAfterFromHeaders, retryAfterFromMessage, type HeaderBag } from './retry-after';
import { parseGoogleRetryDelay } from './google/parse-retry-delay';
import { asRecord, asString } from './stream-decoder';

/** A provider's non-success HTTP answer, with its (bounded) body text. */
export interface ErrorResponse {
  provider: string;
  status: number;
  headers: HeaderBag;
  /** The body, already cut to a bounded size. */
  body: string;
  /** Secrets (API keys) to scrub from any text that ends up in the error message. */
  secrets?: readonly string[];
  nowMs?: number;
}

function scrub(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) {
    if (secret.length >= 8) out = out.split(secret).join('[redacted]');
  }
  return out;
}

/**
 * Turns a provider's error response into a typed error. It understands the error bodies of
 * OpenAI (`{error: {message, type, param, code}}`), Anthropic (`{type: "error", error: {type,
 * message}}`) and Google (`{error: {code, message, status, details}}`, sometimes inside an
 * array), reads the retry hint from `retry-after-ms`, `Retry-After`, Google's
 * `RetryInfo.retryDelay` or the message, and scrubs secrets from the text it quotes.
 */
export function errorFromResponse(response: ErrorResponse): RouterError {
  const { provider, status, headers, secrets = [], nowMs } = response;
  let json: unknown;
  try {
    json = JSON.parse(response.body) as unknown;
  } catch {
    json = undefined;
  }
  const root = asRecord(Array.isArray(json) ? json[0] : json);
  const error = asRecord(root?.error) ?? (root?.type === 'error' ? undefined : root);
  // Scrubbed before it is cut for quoting: a key straddling the cut would leak its first part.
  const bodyText = scrub(response.body.trim(), secrets);
  const rawMessage =
    asString(error?.message) ??
    (bodyText === '' ? undefined : bodyText.length > 300 ? `${bodyText.slice(0, 300)}…` : bodyText);
  const message = rawMessage === undefined ? undefined : scrub(rawMessage, secrets);
  const retryAfterMs =
    retryAfterFromHeaders(headers, nowMs) ??
    parseGoogleRetryDelay(error) ??
    retryAfterFromMessage(message);
  return classifyProviderError({
    provider,
    status,
    type: asString(error?.type) ?? asString(error?.status),
    code: asString(error?.code),
    message,
    retryAfterMs,
  });
}
