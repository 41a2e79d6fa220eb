import type { Usage } from '../chunk/streaming-chunk';

/** Where a session is in its life. */
export type SessionState = 'pending' | 'streaming' | 'completed' | 'failed' | 'cancelled';

/** A serializable view of an error (no stack, no cause chain). */
export interface SessionError {
  code: string | undefined;
  message: string;
  provider: string | undefined;
  status: number | undefined;
}

/** A snapshot of one routed stream. */
export interface SessionInfo {
  id: string;
  /** The model the request asked for. */
  requestedModel: string;
  /** The route key that matched (`fast`, `claude-*`). */
  route: string;
  /** The candidate serving the answer now (or last), e.g. `anthropic/claude-sonnet-4-5`. */
  candidate: string | undefined;
  provider: string | undefined;
  model: string | undefined;
  state: SessionState;
  /** `scheduler.now()` at the start. */
  startedAt: number;
  /** When it reached a final state. */
  endedAt: number | undefined;
  /** ms from the start to the first content chunk. */
  ttftMs: number | undefined;
  /** Chunks emitted so far: the index `attach(id, { fromIndex })` continues from. */
  chunks: number;
  /** Completion tokens so far: the provider's count once usage arrived, an estimate before. */
  completionTokens: number;
  /** Cost so far in USD; `null` when the model is unpriced. */
  costUsd: number | null;
  /** Whether `completionTokens` and `costUsd` are still estimates. */
  estimated: boolean;
  /** The final usage, summed over every leg that was billed. */
  usage: Usage | undefined;
  /** Calls made, retries included (skipped candidates are not calls). */
  attempts: number;
  retries: number;
  failovers: number;
  lastError: SessionError | undefined;
  /** How many viewers attached in all: the first subscriber plus each `attach()` (never goes down). */
  viewers: number;
}
