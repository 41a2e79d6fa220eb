/** Header values as Node and undici hand them over. */
export type HeaderBag = Record<string, string | string[] | undefined>;

function header(headers: HeaderBag, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/**
 * Reads a provider's retry hint from response headers, in milliseconds: `retry-after-ms`
 * (OpenAI), then `Retry-After` as seconds or as an HTTP-date. Header names must be lower-case
 * (as undici and node:http give them). Undefined when there is no usable hint.
 */
export function retryAfterFromHeaders(
  headers: HeaderBag,
  nowMs: number = Date.now(),
): number | undefined {
  const ms = header(headers, 'retry-after-ms');
  if (ms !== undefined && ms.trim() !== '') {
    const value = Number(ms);
    if (Number.isFinite(value) && value >= 0) return Math.ceil(value);
  }
  const after = header(headers, 'retry-after')?.trim();
  if (after === undefined || after === '') return undefined;
  if (/^\d+(\.\d+)?$/.test(after)) return Math.ceil(Number(after) * 1000);
  const date = Date.parse(after);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - nowMs);
}

/**
 * Reads a retry hint written only in an error message, as OpenAI sometimes does:
 * "Please try again in 174ms", "try again in 1.5s", "retry after 20 seconds".
 */
export function retryAfterFromMessage(message: string | undefined): number | undefined {
  if (message === undefined) return undefined;
  const match =
    /(?:try again|retry) (?:in|after) (\d+(?:\.\d+)?)\s*(ms|milliseconds?|s|secs?|seconds?)\b/i.exec(
      message,
    );
  if (match === null) return undefined;
  const value = Number(match[1]);
  const unit = (match[2] ?? 's').toLowerCase();
  return Math.ceil(unit.startsWith('m') ? value : value * 1000);
}
