import type { CostState } from '../cost/cost-state';
import type { CandidateAttempt } from '../errors/all-providers-failed-error';
import type { ChatRequest } from '../request/chat-request';
import type { SessionRecord } from '../sessions/session-registry';
import type { CandidateState } from './candidate-registry';
import type { RouteRetryOptions, RouteTimeoutOptions } from './router-config';

/** What one routed request keeps while it runs. */
export interface RequestContext {
  readonly session: SessionRecord;
  /** Per candidate considered: called and failed, or skipped. */
  readonly attempts: Map<string, CandidateAttempt>;
  started: boolean;
  promptTokens: number | undefined;
  readonly request: ChatRequest;
  /** The running cost of each call that streamed content (failed calls before content cost nothing). */
  readonly legs: LegCost[];
}

/** The running cost of one call, priced at the model that served it. */
export interface LegCost {
  /** Token counts so far (mutated per chunk), priced when needed. */
  state: CostState;
}

/** A route's options with the router's defaults filled in. */
export interface ResolvedOptions {
  retry: Required<RouteRetryOptions> | false;
  timeouts: RouteTimeoutOptions;
  failover: 'error' | 'resume';
  budgetUsd: number | undefined;
}

/** What happened to a candidate, for `AllProvidersFailedError.attempts`. */
export function attemptRecord(
  state: CandidateState,
  outcome: CandidateAttempt['outcome'],
  error: unknown,
): CandidateAttempt {
  return { candidate: state.key, provider: state.providerKey, model: state.model, outcome, error };
}
