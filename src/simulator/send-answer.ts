import type { OutgoingHttpHeaders } from 'node:http';
import type { AttemptContext } from './attempt-context';
import type { FaultSpec } from './fault-spec';
import { responseUsage, type AnswerPlans } from './plan-answer';
import type { Frame, Framer, WireEncoder } from './wire-frame';
import { anthropicErrorObject, googleErrorObject, openAIError } from './error-bodies';

/** Pacing of an answer. */
export interface Pacing {
  /** Wait between the headers and the first token. */
  firstTokenMs: number;
  /** Tokens per second after the first; Infinity sends as fast as the socket takes them. */
  tokensPerSecond: number;
}

/** A marker replaced by invalid UTF-8 bytes after serialization. */
const invalidMarker = 'SIMULATOR_INVALID_UTF8';
/** Bytes that are not UTF-8: a stray continuation byte, a bad pair, and two never-valid bytes. */
const invalidBytes = Buffer.from([0x80, 0xc3, 0x28, 0xff, 0xfe]);

/** Unpaced answers let I/O run every this many units, so a close is noticed at once. */
const yieldEvery = 16;

function withInvalidBytes(bytes: Buffer): Buffer {
  const at = bytes.indexOf(invalidMarker);
  if (at < 0) return bytes;
  return Buffer.concat([
    bytes.subarray(0, at),
    invalidBytes,
    bytes.subarray(at + invalidMarker.length),
  ]);
}

/** A text of exactly `bytes` ASCII bytes (for `huge-event`). */
function hugeText(bytes: number): string {
  return ' huge'.repeat(Math.ceil(bytes / 5)).slice(0, bytes);
}

/** The order of injections that fall on the same token count. */
const order: Partial<Record<FaultSpec['type'], number>> = {
  'stall-after': 0,
  'huge-event': 1,
  'invalid-utf8': 2,
  'malformed-at': 3,
  'inband-error-after': 4,
  'reset-after': 5,
};

/** Where a mid-stream fault strikes: after this many tokens. */
function position(fault: FaultSpec): number {
  switch (fault.type) {
    case 'stall-after':
    case 'reset-after':
    case 'malformed-at':
    case 'inband-error-after':
    case 'invalid-utf8':
      return fault.tokens;
    case 'huge-event':
      return 1;
    default:
      return -1;
  }
}

/**
 * Streams an answer, applying its mid-stream faults. Returns when the response has ended, was
 * reset, or the attempt was cut.
 *
 * 1. Headers and the encoder's opening events go out at once.
 * 2. Before the first token: `firstTokenMs` plus any `stall-first-token`.
 * 3. Then one unit (event) per token, paced by `tokensPerSecond` from the first token on.
 * 4. A fault "after K tokens" strikes before the unit that would make K + 1 (after all tokens
 *    when K is at least the answer's length, before the finish events).
 * 5. The finish events, unless `no-terminal`.
 */
export async function streamAnswer(
  context: AttemptContext,
  encoder: WireEncoder,
  framer: Framer,
  headers: OutgoingHttpHeaders,
  faults: readonly FaultSpec[],
  pacing: Pacing,
): Promise<void> {
  const { record } = context;
  const bytesOf = (frames: readonly Frame[]): Buffer =>
    Buffer.concat(frames.map((frame) => withInvalidBytes(framer.frame(frame))));
  const pending = faults
    .filter((fault) => position(fault) >= 0)
    .map((fault, index) => ({ fault, at: position(fault), index }))
    .sort(
      (a, b) =>
        a.at - b.at || (order[a.fault.type] ?? 9) - (order[b.fault.type] ?? 9) || a.index - b.index,
    );
  const firstTokenStall = faults.reduce(
    (sum, fault) => sum + (fault.type === 'stall-first-token' ? fault.ms : 0),
    0,
  );
  const noTerminal = faults.some((fault) => fault.type === 'no-terminal');

  /** Fires the faults due at `sent` tokens. Returns true when the response has ended. */
  const strike = async (sent: number): Promise<boolean> => {
    while (pending.length > 0 && (pending[0]?.at ?? Infinity) <= sent) {
      const next = pending.shift();
      if (next === undefined) break;
      const { fault } = next;
      switch (fault.type) {
        case 'stall-after':
          await context.stall('after', fault.ms);
          break;
        case 'huge-event':
          await context.write(bytesOf(encoder.extraText(hugeText(fault.bytes))));
          break;
        case 'invalid-utf8':
          await context.write(bytesOf(encoder.extraText(` ${invalidMarker}`)));
          break;
        case 'malformed-at':
          await context.write(
            Buffer.concat(encoder.extraText(' malformed').map((frame) => framer.malformed(frame))),
          );
          break;
        case 'inband-error-after':
          await context.write(bytesOf(encoder.inbandError(fault.status)));
          context.end('inband-error');
          return true;
        case 'reset-after':
          await context.flush();
          context.reset();
          return true;
        default:
          break;
      }
      if (context.isAborted()) return true;
    }
    return context.isAborted();
  };

  context.writeHead(200, headers);
  await context.write(bytesOf(encoder.open()));
  if (context.isAborted()) return;

  let sent = 0;
  let firstAt: number | undefined;
  let units = 0;
  const interval =
    Number.isFinite(pacing.tokensPerSecond) && pacing.tokensPerSecond > 0
      ? 1000 / pacing.tokensPerSecond
      : 0;
  const beforeUnit = async (): Promise<void> => {
    if (firstAt === undefined) {
      if (pacing.firstTokenMs > 0) await context.sleep(pacing.firstTokenMs);
      if (firstTokenStall > 0 && !context.isAborted())
        await context.stall('first-token', firstTokenStall);
      firstAt = context.now();
      return;
    }
    if (interval > 0) {
      const wait = firstAt + sent * interval - context.now();
      if (wait >= 1) {
        await context.sleep(wait);
        return;
      }
    }
    // Ahead of time or unpaced: still let I/O run now and then.
    if (++units % yieldEvery === 0) await context.yield();
  };

  for (const unit of encoder.units()) {
    if (await strike(sent)) return;
    await beforeUnit();
    if (context.isAborted()) return;
    await context.write(bytesOf(unit.frames));
    if (context.isAborted()) return;
    sent += unit.tokens;
    record.tokensSent = sent;
    // The moment the first token was released (pacing counts from it).
    record.firstTokenAt ??= firstAt;
    context.touch();
  }
  if (await strike(Infinity)) return;
  if (firstAt === undefined) {
    await beforeUnit();
    if (context.isAborted()) return;
  }
  if (noTerminal) {
    context.end('no-terminal', framer.end());
    return;
  }
  await context.write(bytesOf(encoder.finish()));
  if (context.isAborted()) return;
  context.end('completed', framer.end());
}

/**
 * Sends a non-streaming answer. Stream-time faults apply to the whole body: stalls and pacing
 * delay it; `huge-event` and `invalid-utf8` go into the text; `malformed-at` and `no-terminal`
 * cut the JSON in half; `reset-after` resets after half the body; `inband-error-after` answers
 * 200 with the provider's error object; `slow-drip` drips the body.
 */
export async function jsonAnswer(
  context: AttemptContext,
  encoder: WireEncoder,
  plans: AnswerPlans,
  headers: OutgoingHttpHeaders,
  faults: readonly FaultSpec[],
  pacing: Pacing,
  requestId: string,
): Promise<void> {
  const { record } = context;
  const { request } = plans[0];
  const format = request.format;
  const { completionTokens } = responseUsage(plans);
  let wait = pacing.firstTokenMs;
  if (Number.isFinite(pacing.tokensPerSecond) && pacing.tokensPerSecond > 0) {
    wait += (Math.max(0, completionTokens - 1) * 1000) / pacing.tokensPerSecond;
  }
  if (wait > 0) await context.sleep(wait);
  let suffix = '';
  let cut = false;
  let reset = false;
  let inband: number | undefined;
  for (const fault of faults) {
    switch (fault.type) {
      case 'stall-first-token':
        await context.stall('first-token', fault.ms);
        break;
      case 'stall-after':
        await context.stall('after', fault.ms);
        break;
      case 'huge-event':
        suffix += hugeText(fault.bytes);
        break;
      case 'invalid-utf8':
        suffix += ` ${invalidMarker}`;
        break;
      case 'malformed-at':
      case 'no-terminal':
        cut = true;
        break;
      case 'reset-after':
        reset = true;
        break;
      case 'inband-error-after':
        inband = fault.status;
        break;
      default:
        break;
    }
    if (context.isAborted()) return;
  }
  let body: Buffer;
  if (inband !== undefined) {
    const facts = { requestId, model: request.model };
    const object =
      format === 'openai'
        ? (JSON.parse(openAIError(inband, facts).body) as unknown)
        : format === 'anthropic'
          ? anthropicErrorObject(inband === 503 ? 529 : inband, facts)
          : googleErrorObject(inband, facts);
    body = Buffer.from(
      format === 'google' ? `${JSON.stringify(object, null, 2)}\n` : JSON.stringify(object),
    );
  } else {
    body = withInvalidBytes(Buffer.from(encoder.body(suffix), 'utf8'));
  }
  if (cut) body = body.subarray(0, Math.floor(body.length / 2));
  const chunked = reset || faults.some((fault) => fault.type === 'slow-drip');
  context.writeHead(
    200,
    chunked ? headers : { ...headers, 'content-length': body.length },
    chunked,
  );
  if (reset) {
    await context.write(body.subarray(0, Math.floor(body.length / 2)));
    await context.flush();
    context.reset();
    return;
  }
  await context.write(body);
  if (context.isAborted()) return;
  if (inband === undefined && !cut) {
    record.tokensSent = completionTokens;
    record.firstTokenAt = record.headersAt;
  }
  context.end(
    inband !== undefined
      ? 'inband-error'
      : cut && faults.some((f) => f.type === 'no-terminal')
        ? 'no-terminal'
        : 'completed',
  );
}
