import type { Usage } from '../chunk/streaming-chunk';
import { isRouterError } from '../errors/router-error';
import type { SessionInfo } from '../sessions/session-info';
import type { RequestOutcome, RequestRecord } from './request-record';
import type { SseEnd, SsePipe } from './sse-stream';

/** What a handler knows about how an answer went, beside the router's session. */
export interface AnswerFacts {
  outcome: RequestOutcome;
  error?: unknown;
  provider?: string | undefined;
  model?: string | undefined;
  usage?: Usage | undefined;
  /** `performance.now()` of the first chunk sent, if one was. */
  firstChunkAt?: number | undefined;
}

/**
 * Fills a request's record from the router's session (attempts, retries, failovers, cost,
 * billed usage, serving candidate) and from what the handler saw itself (which wins for the
 * time to first token, measured from the request's arrival).
 */
export function completeRecord(
  record: RequestRecord,
  receivedAt: number,
  session: SessionInfo | undefined,
  facts: AnswerFacts,
): void {
  const { error } = facts;
  const cancelled =
    isRouterError(error) &&
    (error.code === 'RXLLM_CANCELLED' || error.code === 'RXLLM_ROUTER_CLOSED');
  record.outcome = cancelled ? 'cancelled' : facts.outcome;
  const provider = facts.provider ?? session?.provider;
  const model = facts.model ?? session?.model;
  if (provider !== undefined) record.provider = provider;
  if (model !== undefined) record.servedModel = model;
  if (facts.firstChunkAt !== undefined) record.ttftMs = round(facts.firstChunkAt - receivedAt);
  else if (session?.ttftMs !== undefined) record.ttftMs = round(session.ttftMs);
  const usage = session?.usage ?? facts.usage;
  if (usage !== undefined) {
    record.promptTokens = usage.prompt_tokens;
    record.completionTokens = usage.completion_tokens;
  } else if (session !== undefined) {
    record.completionTokens = session.completionTokens;
  }
  if (session !== undefined) {
    record.costUsd = session.costUsd;
    record.attempts = session.attempts;
    record.retries = session.retries;
    record.failovers = session.failovers;
  }
  if (error !== undefined) {
    record.errorCode = isRouterError(error) ? error.code : 'internal_error';
    record.errorMessage = error instanceof Error ? error.message : 'non-Error failure';
  }
}

function round(ms: number): number {
  return Math.round(ms * 100) / 100;
}

/** What a piped stream tells about its answer. */
export function factsOfPipe(pipe: SsePipe, end: SseEnd): AnswerFacts {
  const facts: AnswerFacts = {
    outcome:
      end.kind === 'completed'
        ? 'success'
        : end.kind === 'failed-before-start'
          ? 'error'
          : end.kind === 'failed-in-band'
            ? 'in_band_error'
            : 'cancelled',
    provider: pipe.provider,
    model: pipe.model,
    usage: pipe.usage,
    firstChunkAt: pipe.firstChunkAt,
  };
  if (end.kind === 'failed-before-start' || end.kind === 'failed-in-band') facts.error = end.error;
  return facts;
}
