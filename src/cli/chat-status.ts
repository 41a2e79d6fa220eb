import type { StreamingChunk } from '../chunk/streaming-chunk';
import type { SessionInfo } from '../sessions/session-info';

/** One move of the answer to another candidate, as the status line shows it. */
export interface FailoverNote {
  from: string;
  to: string;
  /** Why: the error's code or message, when known. */
  reason?: string | undefined;
}

/** What the status line of `chat` knows about the answer so far. */
export interface ChatStatus {
  /** The provider and model serving the answer now (from the chunks or the session). */
  provider: string | undefined;
  model: string | undefined;
  /** Completion tokens so far: content chunks until a count arrives, then the count. */
  tokens: number;
  /** Cost so far in USD; `null`: the model is unpriced; undefined: not known (yet). */
  costUsd: number | null | undefined;
  /** Whether `costUsd` and `tokens` are still estimates. */
  estimated: boolean;
  failovers: FailoverNote[];
  /** Failovers counted by the router, when it is known (some may have no note). */
  failoverCount: number;
  retries: number;
  /** Clock readings (ms): start, first content chunk, latest content chunk, end. */
  startedAt: number;
  firstTokenAt: number | undefined;
  lastTokenAt: number | undefined;
}

/** A fresh status at `now`. */
export function createChatStatus(now: number): ChatStatus {
  return {
    provider: undefined,
    model: undefined,
    tokens: 0,
    costUsd: undefined,
    estimated: true,
    failovers: [],
    failoverCount: 0,
    retries: 0,
    startedAt: now,
    firstTokenAt: undefined,
    lastTokenAt: undefined,
  };
}

function hasContent(chunk: StreamingChunk): boolean {
  return chunk.choices.some(
    (c) =>
      (c.delta.content ?? '') !== '' ||
      (c.delta.reasoning ?? '') !== '' ||
      (c.delta.refusal ?? '') !== '' ||
      (c.delta.tool_calls?.length ?? 0) > 0,
  );
}

/**
 * Updates the status with one chunk: who served it, one more token per content chunk, and the
 * usage when the chunk carries it. A change of provider or model after content is a failover
 * (a resumed answer), noted unless the router already reported it.
 */
export function applyChunk(status: ChatStatus, chunk: StreamingChunk, now: number): void {
  const from =
    status.provider === undefined ? undefined : `${status.provider}/${status.model ?? ''}`;
  const to = `${chunk.provider}/${chunk.model}`;
  const content = hasContent(chunk);
  if (content && from !== undefined && from !== to && status.firstTokenAt !== undefined) {
    const last = status.failovers.at(-1);
    if (last?.to !== to) status.failovers.push({ from, to });
    status.failoverCount = Math.max(status.failoverCount, status.failovers.length);
  }
  if (chunk.provider !== '') status.provider = chunk.provider;
  if (chunk.model !== '') status.model = chunk.model;
  if (content) {
    status.firstTokenAt ??= now;
    status.lastTokenAt = now;
    if (status.estimated) status.tokens += 1;
  }
  if (chunk.usage !== undefined) {
    status.tokens = chunk.usage.completion_tokens;
    status.estimated = false;
  }
}

/** Updates the status from the router's session snapshot (tokens, cost, failovers, retries). */
export function applySession(status: ChatStatus, session: SessionInfo): void {
  if (session.provider !== undefined) status.provider = session.provider;
  if (session.model !== undefined) status.model = session.model;
  status.tokens = session.completionTokens;
  status.costUsd = session.costUsd;
  status.estimated = session.estimated;
  status.failoverCount = session.failovers;
  status.retries = session.retries;
}

/** `$0.000123` under a dollar, `$1.2345` above. */
export function formatUsd(usd: number): string {
  return `$${usd.toFixed(usd >= 1 ? 4 : 6)}`;
}

/**
 * The status as one line: `openai/gpt-4o-mini · 24 tokens · 46.2 tok/s · $0.000014`, then the
 * failovers and retries when there were any. The final line adds the elapsed time.
 */
export function formatChatStatus(
  status: ChatStatus,
  now: number,
  options: { final?: boolean } = {},
): string {
  const parts: string[] = [];
  const final = options.final === true;
  if (status.provider !== undefined) parts.push(`${status.provider}/${status.model ?? '?'}`);
  else parts.push(final ? 'no answer' : 'waiting for the first token');
  const count = Math.round(status.tokens);
  const tokens = `${status.estimated && count > 0 ? '~' : ''}${count} token${count === 1 ? '' : 's'}`;
  parts.push(final ? `${tokens} in ${((now - status.startedAt) / 1000).toFixed(2)} s` : tokens);
  const span =
    status.firstTokenAt === undefined
      ? 0
      : ((final ? (status.lastTokenAt ?? now) : now) - status.firstTokenAt) / 1000;
  if (count > 1 && span > 0) parts.push(`${(status.tokens / span).toFixed(1)} tok/s`);
  if (status.costUsd === null) parts.push('cost unknown (unpriced model)');
  else if (status.costUsd !== undefined) {
    parts.push(`${status.estimated ? '~' : ''}${formatUsd(status.costUsd)}`);
  }
  const failovers = Math.max(status.failoverCount, status.failovers.length);
  if (failovers > 0) {
    const notes = status.failovers.map(
      (f) => `${f.from} → ${f.to}${f.reason === undefined ? '' : ` (${f.reason})`}`,
    );
    parts.push(
      `${failovers} failover${failovers === 1 ? '' : 's'}${notes.length > 0 ? `: ${notes.join(', ')}` : ''}`,
    );
  }
  if (status.retries > 0) parts.push(`${status.retries} retr${status.retries === 1 ? 'y' : 'ies'}`);
  return parts.join(' · ');
}
