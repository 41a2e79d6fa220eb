import { asArray, asNumber, asRecord } from '../stream-decoder';

// A protobuf JSON Duration: whole seconds, up to nine fractional digits, then `s` ("34.4s").
const durationPattern = /^(\d+)(?:\.(\d{1,9}))?s$/;

/**
 * Reads the retry hint Google puts in an error's `details`: the `google.rpc.RetryInfo` entry's
 * `retryDelay` (`"34.4s"`), in milliseconds, rounded up so the wait is never shorter than asked.
 *
 * 1. Accepts the whole error body (`{"error": {"details": [...]}}`), its `error` object, or the
 *    `details` array itself, so the HTTP layer and the stream decoder share it.
 * 2. Takes the first detail with a readable `retryDelay`: the protobuf JSON string form
 *    (`"34s"`, `"0.5s"`), or the `{seconds, nanos}` object form.
 * 3. Returns `undefined` when there is no such detail or it cannot be read.
 *
 * ```ts
 * parseGoogleRetryDelay({ error: { details: [{ '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: '34.4s' }] } });
 * // 34400
 * ```
 *
 * @param error A Gemini error body, its `error` object, or its `details` array.
 * @return The delay in milliseconds, or `undefined`.
 */
export function parseGoogleRetryDelay(error: unknown): number | undefined {
  let details = asArray(error);
  if (details === undefined) {
    const record = asRecord(error);
    details = asArray(record?.details) ?? asArray(asRecord(record?.error)?.details);
  }
  if (details === undefined) return undefined;
  for (const detail of details) {
    const delay = asRecord(detail)?.retryDelay;
    if (delay === undefined) continue;
    const ms = parseDuration(delay);
    if (ms !== undefined) return ms;
  }
  return undefined;
}

function parseDuration(value: unknown): number | undefined {
  if (typeof value === 'string') {
    const match = durationPattern.exec(value.trim());
    if (match === null) return undefined;
    const fraction = match[2];
    const nanos = fraction === undefined ? 0 : Number(fraction.padEnd(9, '0'));
    return Number(match[1]) * 1000 + Math.ceil(nanos / 1e6);
  }
  const duration = asRecord(value);
  if (duration === undefined) return undefined;
  // int64 seconds arrive as a string in protobuf JSON, but accept a number too.
  const rawSeconds = duration.seconds;
  const seconds =
    typeof rawSeconds === 'string' && /^\d+$/.test(rawSeconds)
      ? Number(rawSeconds)
      : (asNumber(rawSeconds) ?? (rawSeconds === undefined ? 0 : -1));
  const nanos = asNumber(duration.nanos) ?? 0;
  if (seconds < 0 || nanos < 0) return undefined;
  return seconds * 1000 + Math.ceil(nanos / 1e6);
}
