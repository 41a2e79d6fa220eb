import { format, type Logform } from 'winston';

/** What replaces a secret in a log record. */
export const REDACTED = '[REDACTED]';

/**
 * Keys whose values are always secrets, compared case-insensitively with `-` and `_` ignored:
 * `apiKey`, `api_key`, `api-key`, `x-api-key`, `authorization`, `proxy-authorization`,
 * `x-goog-api-key`, and anything ending in `apikey`, `secret`, `password` or `token` that is not a
 * count (`completionTokens`, `max_tokens` stay).
 */
const SECRET_KEY = /(?:apikey|authorization|secret|password|accesstoken|refreshtoken|bearertoken)$/;

/** Values that look like API keys or bearer credentials, wherever they appear in a string. */
const SECRET_VALUE =
  /\b(?:sk-[A-Za-z0-9_-]{6,}|sk_[A-Za-z0-9_-]{6,}|AIza[A-Za-z0-9_-]{6,})|\bBearer\s+[A-Za-z0-9._~+/=-]{6,}/g;

/** How deep nested objects are walked; deeper values are replaced by a marker. */
const MAX_DEPTH = 8;

function isSecretKey(key: string): boolean {
  return SECRET_KEY.test(key.toLowerCase().replace(/[-_]/g, ''));
}

/** `value` with API-key-looking substrings replaced. Returns the same string when clean. */
export function redactString(value: string): string {
  SECRET_VALUE.lastIndex = 0;
  return SECRET_VALUE.test(value) ? value.replace(SECRET_VALUE, REDACTED) : value;
}

/**
 * A copy of `value` safe to log: every property whose key names a secret (any depth) is replaced
 * by {@link REDACTED}, and every string that looks like an API key (`sk-...`, `AIza...`,
 * `Bearer ...`) is masked. Errors become `{ name, message }` (redacted). Cycles and very deep
 * values are cut. The input is never modified; clean primitives are returned as they are.
 *
 * ```ts
 * redact({ headers: { Authorization: 'Bearer sk-abc123456' }, note: 'key sk-abc123456' });
 * // { headers: { Authorization: '[REDACTED]' }, note: 'key [REDACTED]' }
 * ```
 *
 * @param value Anything.
 * @return The redacted copy.
 */
export function redact(value: unknown): unknown {
  return walk(value, 0, new WeakSet());
}

function walk(value: unknown, depth: number, seen: WeakSet<object>): unknown {
  if (typeof value === 'string') return redactString(value);
  if (typeof value !== 'object' || value === null) return value;
  if (seen.has(value)) return '[Circular]';
  if (depth >= MAX_DEPTH) return '[Too deep]';
  seen.add(value);
  try {
    if (value instanceof Error) {
      return { name: value.name, message: redactString(value.message) };
    }
    if (Array.isArray(value)) return value.map((item: unknown) => walk(item, depth + 1, seen));
    if (value instanceof Date) return value;
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) {
      out[key] = isSecretKey(key) ? REDACTED : walk(item, depth + 1, seen);
    }
    return out;
  } finally {
    seen.delete(value);
  }
}

/**
 * A winston format that redacts every record (see {@link redact}): secret-named keys at any
 * depth and API-key-looking values, in the message and the metadata alike. winston's own symbol
 * keys (`level`, `message`, `splat`) are kept.
 */
export const redactFormat: Logform.FormatWrap = format((info) => {
  for (const key of Object.keys(info)) {
    const record = info as Record<string, unknown>;
    record[key] = isSecretKey(key) ? REDACTED : walk(record[key], 1, new WeakSet());
  }
  return info;
});
