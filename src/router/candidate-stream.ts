import { defer, throwError, type Observable, type SchedulerLike } from 'rxjs';
import type { StreamingChunk } from '../chunk/streaming-chunk';
import { accumulateCostState, initialCostState } from '../cost/cost-state';
import { estimatePromptTokens } from '../cost/estimate-prompt-tokens';
import type { TokenEstimator } from '../cost/token-estimator';
import { CircuitOpenError } from '../errors/circuit-open-error';
import { ProviderError } from '../errors/provider-error';
import { refusalAsProviderError } from '../errors/provider-refusal';
import { RateLimitError } from '../errors/rate-limit-error';
import { hasErrorCode, isRouterError } from '../errors/router-error';
import { circuitBreaker } from '../operators/circuit-breaker';
import { getStreamBreakerControl } from '../operators/create-stream-breaker';
import { isContentChunk } from '../operators/is-content-chunk';
import { retryBackoff } from '../operators/retry-backoff';
import { timeouts } from '../operators/timeouts';
import type { ChatRequest } from '../request/chat-request';
import type { SessionRegistry } from '../sessions/session-registry';
import type { CandidateRegistry, CandidateState } from './candidate-registry';
import { observe } from './observe';
import {
  attemptRecord,
  type LegCost,
  type RequestContext,
  type ResolvedOptions,
} from './request-context';
import type { ResolvedCandidate } from './route-table';
import type { RouterLogger } from './router-config';
import type { RouterEvent } from './router-events';

/** What {@link createCandidateStream} needs of its router. */
export interface CandidateStreamDeps {
  registry: CandidateRegistry;
  sessionRegistry: SessionRegistry;
  /** The candidates of the config's routes, whose state is never evicted. */
  pinned: ReadonlySet<string>;
  scheduler: SchedulerLike;
  random: () => number;
  logger: RouterLogger | undefined;
  cooldownMs: number;
  estimateTokens: TokenEstimator;
  now: () => number;
  emit: (event: RouterEvent) => void;
  promptTokensOf: (ctx: RequestContext) => number;
  /** Prices the session and enforces its budget; throws `BudgetExceededError`. */
  chargeSession: (ctx: RequestContext, options: ResolvedOptions) => void;
}

/**
 * One candidate of a routed request: the skip checks (breaker open, provider cooling down after a
 * 429, prompt over the context window), then its calls with timeouts (first token, idle), its
 * breaker and retries, each recorded in the session, the candidate's health and the events.
 */
export function createCandidateStream(
  deps: CandidateStreamDeps,
): (
  ctx: RequestContext,
  c: ResolvedCandidate,
  request: ChatRequest,
  options: ResolvedOptions,
) => Observable<StreamingChunk> {
  const {
    registry,
    sessionRegistry,
    pinned,
    scheduler,
    random,
    logger,
    cooldownMs,
    estimateTokens,
    now,
    emit,
    promptTokensOf,
    chargeSession,
  } = deps;

  const skip = (
    ctx: RequestContext,
    state: CandidateState,
    reason: 'breaker-open' | 'cooldown' | 'context-window',
    error: unknown,
  ): Observable<never> => {
    state.record('rejection', now());
    ctx.attempts.set(state.key, {
      candidate: state.key,
      provider: state.providerKey,
      model: state.model,
      outcome: reason,
      error,
    });
    emit({ type: 'skip', at: now(), sessionId: ctx.session.id, candidate: state.key, reason });
    return throwError(() => error);
  };

  const candidateStream = (
    ctx: RequestContext,
    c: ResolvedCandidate,
    request: ChatRequest,
    options: ResolvedOptions,
  ): Observable<StreamingChunk> =>
    defer(() => {
      const state = registry.get(c.key, c.providerKey, c.provider, c.model, pinned.has(c.key));
      const provider = c.providerKey;
      if (c.contextWindow !== undefined) {
        const needed =
          promptTokensOf(ctx) + (request.max_completion_tokens ?? request.max_tokens ?? 0);
        if (needed > c.contextWindow) {
          return skip(
            ctx,
            state,
            'context-window',
            new ProviderError(
              'context_length_exceeded',
              `${c.key}: the request needs about ${needed} tokens, more than its ${c.contextWindow}-token context window, so it was not sent.`,
              // Retryable so that failover still tries this model elsewhere (a bigger window).
              { provider, status: 400, isRetryable: true },
            ),
          );
        }
      }
      const until = registry.cooldownUntil(provider);
      if (until !== undefined) {
        return skip(
          ctx,
          state,
          'cooldown',
          new RateLimitError(
            `${provider} is cooling down after a 429 for ${Math.ceil(until - now())} ms more, so ${c.key} was not called.`,
            { provider, retryAfterMs: until - now() },
          ),
        );
      }
      if (state.breaker.opened) {
        return skip(
          ctx,
          state,
          'breaker-open',
          new CircuitOpenError(
            `The circuit breaker of ${c.key} is open after recent failures, so it was not called.`,
            { provider, retryAfterMs: getStreamBreakerControl(state.breaker)?.retryAfterMs() },
          ),
        );
      }
      let attemptNo = 0;
      const attempts$ = defer(() => attempt(ctx, state, ++attemptNo, request, options));
      if (options.retry === false) return attempts$;
      return attempts$.pipe(
        retryBackoff({
          ...options.retry,
          scheduler,
          random,
          shouldRetry: (error) =>
            isRouterError(error) &&
            error.isRetryable &&
            !hasErrorCode(error, 'RXLLM_TIMEOUT') &&
            !hasErrorCode(error, 'RXLLM_CIRCUIT_OPEN'),
          onRetry: ({ attempt: next, delayMs, error }) => {
            ctx.session.retries++;
            sessionRegistry.changed(ctx.session);
            logger?.debug('retrying', { sessionId: ctx.session.id, candidate: c.key, delayMs });
            emit({
              type: 'retry',
              at: now(),
              sessionId: ctx.session.id,
              candidate: c.key,
              attempt: next,
              delayMs,
              code: isRouterError(error) ? error.code : undefined,
              message: error instanceof Error ? error.message : String(error),
            });
          },
        }),
      );
    });

  const attempt = (
    ctx: RequestContext,
    state: CandidateState,
    attemptNo: number,
    request: ChatRequest,
    options: ResolvedOptions,
  ): Observable<StreamingChunk> => {
    let called = false;
    let ended = false;
    const leg: LegCost = {
      state: initialCostState(
        request === ctx.request
          ? promptTokensOf(ctx)
          : estimatePromptTokens(request, estimateTokens),
      ),
    };
    let startedAt = 0;
    let firstAt: number | undefined;
    const call$ = defer(() => {
      called = true;
      startedAt = now();
      state.active++;
      const { session } = ctx;
      session.attempts++;
      session.candidate = state.key;
      session.provider = state.providerKey;
      session.model = state.model;
      sessionRegistry.changed(session);
      emit({
        type: 'attempt',
        at: startedAt,
        sessionId: session.id,
        candidate: state.key,
        provider: state.providerKey,
        model: state.model,
        attempt: attemptNo,
      });
      return state.provider.stream({ ...request, model: state.model }, { keepAliveChunks: true });
    });
    const end = (outcome: 'success' | 'failure' | 'cancelled', error?: unknown): void => {
      ended = true;
      const t = now();
      state.active--;
      const ttftMs = firstAt === undefined ? undefined : firstAt - startedAt;
      emit({
        type: 'attempt-end',
        at: t,
        sessionId: ctx.session.id,
        candidate: state.key,
        outcome,
        ...(isRouterError(error) ? { code: error.code } : {}),
        ...(ttftMs === undefined ? {} : { ttftMs }),
      });
    };
    return call$.pipe(
      timeouts({
        firstToken: options.timeouts.firstTokenMs,
        idle: options.timeouts.idleMs,
        provider: state.providerKey,
        scheduler,
      }),
      circuitBreaker(state.breaker),
      observe<StreamingChunk>({
        next(chunk) {
          accumulateCostState(leg.state, chunk, estimateTokens);
          if (firstAt === undefined && isContentChunk(chunk)) {
            firstAt = now();
            state.addTtft(firstAt - startedAt);
            ctx.legs.push(leg); // billed from its first content on
          }
          // Priced per chunk only to enforce a budget; otherwise when the session is read.
          if (firstAt !== undefined && options.budgetUsd !== undefined) {
            chargeSession(ctx, options);
          }
        },
        complete() {
          const t = now();
          state.record('success', t);
          if (firstAt !== undefined) {
            const tokens =
              leg.state.usage?.completion_tokens ??
              Math.ceil(leg.state.output + leg.state.reasoning);
            state.throughput.add(tokens, t - firstAt);
          }
          end('success');
        },
        error(raw: unknown) {
          const error = refusalAsProviderError(raw, state.providerKey);
          if (!called) {
            // The breaker refused at admission (a half-open trial already running).
            ctx.attempts.set(state.key, attemptRecord(state, 'breaker-open', error));
            state.record('rejection', now());
            emit({
              type: 'skip',
              at: now(),
              sessionId: ctx.session.id,
              candidate: state.key,
              reason: 'breaker-open',
            });
            return error;
          }
          ctx.attempts.set(state.key, attemptRecord(state, 'called', error));
          state.record(hasErrorCode(error, 'RXLLM_TIMEOUT') ? 'timeout' : 'failure', now());
          ctx.session.lastError = {
            code: isRouterError(error) ? error.code : undefined,
            message: error instanceof Error ? error.message : String(error),
            provider: state.providerKey,
            status: isRouterError(error) ? error.status : undefined,
          };
          end('failure', error);
          if (hasErrorCode(error, 'RXLLM_RATE_LIMITED')) {
            const retryAfterMs = isRouterError(error) ? error.retryAfterMs : undefined;
            registry.coolDown(
              state.providerKey,
              now() + (retryAfterMs ?? cooldownMs),
              retryAfterMs,
            );
          }
          // A 429 with no hint cools its provider for `cooldownMs`: a retry of this candidate
          // waits for that too, so nothing calls the provider while it cools down.
          if (
            error instanceof RateLimitError &&
            error.retryAfterMs === undefined &&
            error.isRetryable
          ) {
            return new RateLimitError(error.message, {
              provider: error.provider,
              status: error.status,
              retryAfterMs: cooldownMs,
              cause: error,
            });
          }
          return error;
        },
        teardown() {
          if (called && !ended) {
            state.record('cancel', now());
            end('cancelled');
          }
        },
      }),
    );
  };

  return candidateStream;
}
