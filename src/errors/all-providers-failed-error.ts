import { RouterError } from './router-error';

/** What happened to one candidate of a request that no candidate could answer. */
export interface CandidateAttempt {
  /** `provider/model`. */
  candidate: string;
  provider: string;
  model: string;
  /** `called`: the provider was called and failed; otherwise why it was skipped. */
  outcome: 'called' | 'breaker-open' | 'cooldown' | 'context-window';
  /** The error of the last call, or the skip's reason as an error. */
  error: unknown;
}

/**
 * No candidate of the route could answer: each was called and failed before sending any content,
 * or was skipped (breaker open, provider cooling down after a 429, prompt too long for it).
 *
 * - `attempts` holds each candidate's outcome and error, in the order they were considered.
 * - `retryAfterMs` is the soonest time any of them may answer again (a Retry-After, a cooldown's
 *   end, a breaker's reset), when one is known.
 * - `status` is the status every call shared (all 429: 429; all 400: 400), else 503.
 * - `isRetryable` is true when any candidate failed in a way a later retry may fix (a prompt too
 *   long for every context window is not).
 */
export class AllProvidersFailedError extends RouterError {
  override readonly name = 'AllProvidersFailedError';
  readonly model: string;
  readonly attempts: readonly CandidateAttempt[];

  constructor(model: string, attempts: readonly CandidateAttempt[], retryAfterMs?: number) {
    const parts = attempts.map((a) => `${a.candidate}: ${describe(a)}`);
    const wait =
      retryAfterMs === undefined ? '' : ` The soonest retry is in ${Math.ceil(retryAfterMs)} ms.`;
    const last = attempts.at(-1)?.error;
    super(
      'RXLLM_ALL_PROVIDERS_FAILED',
      `No candidate could answer model ${JSON.stringify(model)}: ${parts.join('; ')}.${wait}`,
      attempts.some(
        (a) =>
          a.outcome !== 'context-window' &&
          (a.error as { isRetryable?: unknown } | null)?.isRetryable === true,
      ),
      { status: sharedStatus(attempts), retryAfterMs, cause: last },
    );
    this.model = model;
    this.attempts = attempts;
  }

  override toJSON(): Record<string, unknown> {
    return {
      ...super.toJSON(),
      model: this.model,
      attempts: this.attempts.map((a) => ({
        candidate: a.candidate,
        outcome: a.outcome,
        code: (a.error as { code?: unknown } | null)?.code,
        status: (a.error as { status?: unknown } | null)?.status,
        message: messageOf(a.error),
      })),
    };
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function describe(a: CandidateAttempt): string {
  switch (a.outcome) {
    case 'called':
      return messageOf(a.error);
    case 'breaker-open':
      return 'skipped, its circuit breaker is open';
    case 'cooldown':
      return 'skipped, its provider is cooling down after a 429';
    case 'context-window':
      return 'skipped, the prompt does not fit its context window';
  }
}

function sharedStatus(attempts: readonly CandidateAttempt[]): number {
  const statuses = new Set(
    attempts.map((a) => {
      if (a.outcome === 'cooldown') return 429;
      const status = (a.error as { status?: unknown } | null)?.status;
      return typeof status === 'number' ? status : 503;
    }),
  );
  const [only] = statuses;
  return statuses.size === 1 && only !== undefined ? only : 503;
}
