/**
 * Faults the simulator can inject, as typed values and as the spec strings that select them
 * (`x-simulator-fault: status-429-retry-2`, model `sim-fault-reset-after-5`).
 */

/** Answer with an HTTP error status and the provider's real error body for it. */
export interface StatusFault {
  type: 'status';
  /** 400–599. */
  status: number;
  /**
   * A retry hint, in ms: `Retry-After` (seconds, rounded up) and, when given in ms,
   * `retry-after-ms` for OpenAI and Anthropic; `RetryInfo.retryDelay` in Gemini's body.
   */
  retryAfterMs?: number;
  /** Whether the hint was given in ms (`status-429-retry-ms-150`): adds `retry-after-ms`. */
  retryInMs?: boolean;
}

/** Reset the TCP connection (RST) before any response byte. */
export interface ResetBeforeHeadersFault {
  type: 'reset-before-headers';
}

/** Reset the TCP connection after `tokens` tokens were streamed (and flushed). */
export interface ResetAfterFault {
  type: 'reset-after';
  tokens: number;
}

/** Wait `ms` before the response headers (on top of `latencyMs`). */
export interface StallHeadersFault {
  type: 'stall-headers';
  ms: number;
}

/** Send the headers, then wait `ms` before the first token (on top of `firstTokenMs`). */
export interface StallFirstTokenFault {
  type: 'stall-first-token';
  ms: number;
}

/** Pause `ms` after `tokens` tokens, then continue normally. */
export interface StallAfterFault {
  type: 'stall-after';
  tokens: number;
  ms: number;
}

/** Send one event with truncated JSON after `tokens` tokens, then continue normally. */
export interface MalformedFault {
  type: 'malformed-at';
  tokens: number;
}

/** Stream every token, then end the body without the finish reason or terminal event. */
export interface NoTerminalFault {
  type: 'no-terminal';
}

/** After `tokens` tokens, send the provider's in-band error event and end the body. */
export interface InbandErrorFault {
  type: 'inband-error-after';
  tokens: number;
  /** The error's status: 503/529 overloaded (default), 429 rate limit, 500 server error, ... */
  status: number;
}

/** Write the body in tiny pieces (`bytes` each, splitting events and characters) `ms` apart. */
export interface SlowDripFault {
  type: 'slow-drip';
  bytes: number;
  ms: number;
}

/** One extra text event of `bytes` bytes after the first token. */
export interface HugeEventFault {
  type: 'huge-event';
  bytes: number;
}

/** One extra text event containing invalid UTF-8 bytes, after `tokens` tokens. */
export interface InvalidUtf8Fault {
  type: 'invalid-utf8';
  tokens: number;
}

/** Answer 503 until `ms` after the first request with this fault key, then answer normally. */
export interface FlapFault {
  type: 'flap';
  ms: number;
}

/** Answer 503 to attempts 1 … attempt − 1 with this fault key, then answer normally. */
export interface SucceedOnFault {
  type: 'succeed-on';
  attempt: number;
}

/** Answer 400 (the provider's invalid-request error) when the request has a prefill. */
export interface RejectPrefillFault {
  type: 'reject-prefill';
}

/** One fault. A request may carry several (`stall-first-token-100,reset-after-5`). */
export type FaultSpec =
  | StatusFault
  | ResetBeforeHeadersFault
  | ResetAfterFault
  | StallHeadersFault
  | StallFirstTokenFault
  | StallAfterFault
  | MalformedFault
  | NoTerminalFault
  | InbandErrorFault
  | SlowDripFault
  | HugeEventFault
  | InvalidUtf8Fault
  | FlapFault
  | SucceedOnFault
  | RejectPrefillFault;

/** The `type`s of {@link FaultSpec}. */
export type FaultType = FaultSpec['type'];

/** The prefix of a model name that selects faults: `sim-fault-status-503`. */
export const faultModelPrefix = 'sim-fault-';

/** A spec string that does not parse. */
export class FaultSpecError extends Error {
  override readonly name = 'FaultSpecError';
  /** The spec as given. */
  readonly spec: string;
  constructor(spec: string, message: string) {
    super(message);
    this.spec = spec;
  }
}

const maxMs = 3_600_000;
const maxTokens = 10_000_000;
const maxHugeBytes = 64 * 1024 * 1024;

const grammar =
  'status-<N>[-retry-<s>|-retry-ms-<ms>], reset-before-headers, reset-after-<K>, stall-headers-<ms>, ' +
  'stall-first-token-<ms>, stall-after-<K>-<ms>, malformed-at-<K>, no-terminal, ' +
  'inband-error-after-<K>[-<status>], slow-drip[-<bytes>-<ms>], huge-event[-<bytes>], ' +
  'invalid-utf8[-at-<K>], flap-<ms>, succeed-on-<N>, reject-prefill';

/**
 * Parses a fault spec string: one fault, or several joined by `,` or `+`
 * (`stall-first-token-100,reset-after-5`). Throws {@link FaultSpecError} naming the spec and
 * listing the grammar when it does not parse.
 */
export function parseFaultSpec(spec: string): FaultSpec[] {
  const parts = spec
    .split(/[,+]/)
    .map((part) => part.trim())
    .filter((part) => part !== '');
  if (parts.length === 0) {
    throw new FaultSpecError(
      spec,
      `Empty fault spec ${JSON.stringify(spec)}. Use one of: ${grammar}.`,
    );
  }
  return parts.map((part) => parseOne(part, spec));
}

function parseOne(part: string, whole: string): FaultSpec {
  const fail = (why: string): never => {
    throw new FaultSpecError(
      whole,
      `Unknown fault spec ${JSON.stringify(part)}${why === '' ? '' : ` (${why})`}. Use one of: ${grammar}.`,
    );
  };
  const int = (text: string | undefined, what: string, min: number, max: number): number => {
    const value = text === undefined ? NaN : Number(text);
    if (!Number.isInteger(value) || value < min || value > max) {
      return fail(`${what} must be an integer from ${min} to ${max}`);
    }
    return value;
  };
  const s = part.toLowerCase();
  let m: RegExpExecArray | null;
  if ((m = /^status-(\d+)(?:-retry-(ms-)?(\d+))?$/.exec(s)) !== null) {
    const fault: StatusFault = { type: 'status', status: int(m[1], 'the status', 400, 599) };
    if (m[3] !== undefined) {
      const inMs = m[2] !== undefined;
      const amount = int(m[3], 'the retry delay', 0, inMs ? maxMs : maxMs / 1000);
      fault.retryAfterMs = inMs ? amount : amount * 1000;
      if (inMs) fault.retryInMs = true;
    }
    return fault;
  }
  if (s === 'reset-before-headers') return { type: 'reset-before-headers' };
  if ((m = /^reset-after-(\d+)$/.exec(s)) !== null) {
    return { type: 'reset-after', tokens: int(m[1], 'K', 0, maxTokens) };
  }
  if ((m = /^stall-(?:before-)?headers-(\d+)$/.exec(s)) !== null) {
    return { type: 'stall-headers', ms: int(m[1], 'the stall', 0, maxMs) };
  }
  if ((m = /^stall-first-token-(\d+)$/.exec(s)) !== null) {
    return { type: 'stall-first-token', ms: int(m[1], 'the stall', 0, maxMs) };
  }
  if ((m = /^stall-after-(\d+)-(\d+)$/.exec(s)) !== null) {
    return {
      type: 'stall-after',
      tokens: int(m[1], 'K', 0, maxTokens),
      ms: int(m[2], 'the stall', 0, maxMs),
    };
  }
  if ((m = /^malformed-at-(\d+)$/.exec(s)) !== null) {
    return { type: 'malformed-at', tokens: int(m[1], 'K', 0, maxTokens) };
  }
  if (s === 'no-terminal') return { type: 'no-terminal' };
  if ((m = /^inband-error-after-(\d+)(?:-(\d+))?$/.exec(s)) !== null) {
    return {
      type: 'inband-error-after',
      tokens: int(m[1], 'K', 0, maxTokens),
      status: m[2] === undefined ? 503 : int(m[2], 'the status', 400, 599),
    };
  }
  if ((m = /^slow-drip(?:-(\d+)-(\d+))?$/.exec(s)) !== null) {
    return {
      type: 'slow-drip',
      bytes: m[1] === undefined ? 16 : int(m[1], 'the piece size', 1, 1_048_576),
      ms: m[2] === undefined ? 2 : int(m[2], 'the delay', 0, 60_000),
    };
  }
  if ((m = /^huge-event(?:-(\d+))?$/.exec(s)) !== null) {
    return {
      type: 'huge-event',
      bytes: m[1] === undefined ? 1_048_576 : int(m[1], 'the size', 1, maxHugeBytes),
    };
  }
  if ((m = /^invalid-utf8(?:-at-(\d+))?$/.exec(s)) !== null) {
    return { type: 'invalid-utf8', tokens: m[1] === undefined ? 1 : int(m[1], 'K', 0, maxTokens) };
  }
  if ((m = /^flap-(\d+)$/.exec(s)) !== null) {
    return { type: 'flap', ms: int(m[1], 'the down time', 0, maxMs) };
  }
  if ((m = /^succeed-on-(\d+)$/.exec(s)) !== null) {
    return { type: 'succeed-on', attempt: int(m[1], 'N', 1, 1_000_000) };
  }
  if (s === 'reject-prefill') return { type: 'reject-prefill' };
  return fail('');
}

/** The canonical spec string of one fault: `parseFaultSpec(formatFaultSpec(f))` gives `f` back. */
export function formatFaultSpec(fault: FaultSpec): string {
  switch (fault.type) {
    case 'status':
      if (fault.retryAfterMs === undefined) return `status-${fault.status}`;
      return fault.retryInMs === true
        ? `status-${fault.status}-retry-ms-${fault.retryAfterMs}`
        : `status-${fault.status}-retry-${Math.ceil(fault.retryAfterMs / 1000)}`;
    case 'reset-before-headers':
    case 'no-terminal':
    case 'reject-prefill':
      return fault.type;
    case 'reset-after':
      return `reset-after-${fault.tokens}`;
    case 'stall-headers':
      return `stall-headers-${fault.ms}`;
    case 'stall-first-token':
      return `stall-first-token-${fault.ms}`;
    case 'stall-after':
      return `stall-after-${fault.tokens}-${fault.ms}`;
    case 'malformed-at':
      return `malformed-at-${fault.tokens}`;
    case 'inband-error-after':
      return fault.status === 503
        ? `inband-error-after-${fault.tokens}`
        : `inband-error-after-${fault.tokens}-${fault.status}`;
    case 'slow-drip':
      return `slow-drip-${fault.bytes}-${fault.ms}`;
    case 'huge-event':
      return `huge-event-${fault.bytes}`;
    case 'invalid-utf8':
      return `invalid-utf8-at-${fault.tokens}`;
    case 'flap':
      return `flap-${fault.ms}`;
    case 'succeed-on':
      return `succeed-on-${fault.attempt}`;
  }
}

/** The canonical spec string of a list of faults, joined by `,`. */
export function formatFaultSpecs(faults: readonly FaultSpec[]): string {
  return faults.map(formatFaultSpec).join(',');
}
