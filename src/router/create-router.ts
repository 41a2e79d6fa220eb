import {
  EMPTY,
  Observable,
  Subject,
  Subscription,
  asyncScheduler,
  catchError,
  defer,
  identity,
  map,
  takeUntil,
  timer,
} from 'rxjs';
import type { ChatCompletion } from '../chunk/chat-completion';
import { toCompletion } from '../chunk/collect-completion';
import type { StreamingChunk } from '../chunk/streaming-chunk';
import { computeCost } from '../cost/compute-cost';
import type { CostSnapshot } from '../cost/cost-snapshot';
import { snapshotCostState } from '../cost/cost-state';
import { estimatePromptTokens } from '../cost/estimate-prompt-tokens';
import { defaultPricing } from '../cost/pricing';
import { NO_TOKENS } from '../cost/token-counts';
import { estimateTokensByChars } from '../cost/token-estimator';
import { AllProvidersFailedError } from '../errors/all-providers-failed-error';
import { BudgetExceededError } from '../errors/budget-exceeded-error';
import { CancelledError } from '../errors/cancelled-error';
import { hasErrorCode, isRouterError } from '../errors/router-error';
import { UnknownModelError } from '../errors/unknown-model-error';
import { ValidationError } from '../errors/validation-error';
import { toAsyncIterable, type BufferedAsyncIterable } from '../flow/to-async-iterable';
import type { HealthSnapshot } from '../health/health-snapshot';
import { createStreamBreaker } from '../operators/create-stream-breaker';
import { failover, isFailoverableError, type FailoverCandidate } from '../operators/failover';
import { isContentChunk } from '../operators/is-content-chunk';
import { compactChunkRecording } from '../chunk/compact-chunk-recording';
import { SharedStream } from '../operators/share-stream';
import { createCandidateStream } from './candidate-stream';
import { observe } from './observe';
import type { RequestContext, ResolvedOptions } from './request-context';
import { timeouts } from '../operators/timeouts';
import { SessionRegistry } from '../sessions/session-registry';
import { CandidateRegistry } from './candidate-registry';
import { orderCandidates, type StrategyContext } from './order-candidates';
import type {
  ModelListing,
  RouteStreamOptions,
  Router,
  Sessions,
  StreamChatCompletionOptions,
} from './router';
import {
  validateRouterConfig,
  type RouteOptions,
  type RouteRetryOptions,
  type RouteTimeoutOptions,
  type RouterConfig,
} from './router-config';
import type { RouterEvent } from './router-events';
import { startHealthProbes } from './health-probes';
import { newSessionId, prepareRequest } from './prepare-request';
import { RouteTable, type ResolvedCandidate, type ResolvedRoute } from './route-table';

/** Retries of each candidate when neither the route nor the defaults say otherwise. */
export const ROUTER_RETRY_DEFAULTS = {
  maxAttempts: 2,
  initialDelayMs: 250,
  maxDelayMs: 2000,
  maxRetryAfterMs: 5000,
  jitter: 'full',
} as const satisfies Required<RouteRetryOptions>;

/** Timeouts of each attempt (first token, idle) and of the whole answer (total). */
export const ROUTER_TIMEOUT_DEFAULTS = {
  firstTokenMs: 30_000,
  idleMs: 30_000,
  totalMs: 600_000,
} as const satisfies Required<RouteTimeoutOptions>;

/**
 * Creates a router: one streaming API over every provider, with routes, strategies, a breaker
 * per candidate, 429 cooldowns, retries, timeouts, failover (restart or resume), cost, budgets,
 * sessions and health.
 *
 * 1. `stream(request)` validates the request (a `ValidationError` names the field), resolves its
 *    route (an exact alias, else the first matching glob; `UnknownModelError` lists the routes),
 *    appends per-request fallbacks (OpenRouter's `models`, LiteLLM's `fallbacks`), and orders the
 *    candidates by the route's strategy.
 * 2. Each candidate is skipped **before** it is called when its breaker is open, its provider is
 *    cooling down after a 429, or the prompt cannot fit its `contextWindow`.
 * 3. Each call goes through: timeouts (first token, idle) → its breaker → retries of the same
 *    candidate (before content only, honouring Retry-After up to `maxRetryAfterMs`). Then
 *    failover across candidates, the total timeout, cost, the budget, and the session.
 * 4. When no candidate could start the answer, the error is an `AllProvidersFailedError` with
 *    each candidate's error and the soonest retry time. Validation, content-filter, budget and
 *    cancel errors are passed on as they are. A cut answer is an `IncompleteStreamError` (policy
 *    `error`) or is resumed on the next candidate (policy `resume`).
 * 5. Each subscription is a session (`router.sessions`): listed, watched, cancelled, and
 *    attachable by other viewers with no second upstream call.
 *
 * ```ts
 * const router = createRouter({
 *   providers: { openai: openai({ apiKey }), anthropic: anthropic({ apiKey: key2 }) },
 *   routes: {
 *     fast: { candidates: [{ provider: 'openai', model: 'gpt-4o-mini' }, { provider: 'anthropic', model: 'claude-3-5-haiku-latest' }], failover: 'resume' },
 *     'gpt-*': [{ provider: 'openai', model: '$model' }],
 *   },
 * });
 * router.stream({ model: 'fast', messages }).subscribe((chunk) => render(chunk));
 * ```
 */
export function createRouter(config: RouterConfig): Router {
  validateRouterConfig(config);
  checkBreakerOptions(config.breaker);
  const {
    defaults = {},
    breaker: breakerOptions = {},
    cooldownMs = 1000,
    pricing = defaultPricing,
    estimateTokens = estimateTokensByChars,
    sessions: sessionOptions = {},
    health: healthOptions = {},
    logger,
    scheduler = asyncScheduler,
    random = Math.random,
    closeProviders = true,
  } = config;
  const now = (): number => scheduler.now();
  const table = new RouteTable(config);
  const pinned = new Set(table.staticCandidates().keys());
  const events = new Subject<RouterEvent>();
  const closed$ = new Subject<void>();
  let closed = false;

  const emit = (event: RouterEvent): void => {
    if (events.observed) events.next(event);
  };

  const registry = new CandidateRegistry({
    breaker: breakerOptions,
    windowMs: healthOptions.windowMs ?? 60_000,
    latencySamples: healthOptions.latencySamples ?? 200,
    scheduler,
    emit: (event) => {
      if (event.type === 'breaker') {
        logger?.warn(`breaker ${event.state}`, { candidate: event.candidate });
      } else if (event.type === 'cooldown') {
        logger?.warn('provider cooling down after a 429', {
          provider: event.provider,
          untilMs: event.until,
        });
      }
      emit(event);
    },
  });

  const sessionRegistry = new SessionRegistry({
    maxFinished: sessionOptions.maxFinished ?? 100,
    finishedTtlMs: sessionOptions.finishedTtlMs ?? 300_000,
    now,
  });

  const turns = new Map<string, number>();
  const strategyContext = (ctx: RequestContext): StrategyContext => ({
    nextTurn(routeKey) {
      const turn = turns.get(routeKey) ?? 0;
      turns.set(routeKey, turn + 1);
      return turn;
    },
    random,
    latency: (key) => registry.peek(key)?.ewmaTtftMs,
    cost(c) {
      const price = pricing.resolve(c.provider.name, c.model);
      if (!price.priced) return undefined;
      const output = ctx.request.max_completion_tokens ?? ctx.request.max_tokens ?? 256;
      return computeCost({ ...NO_TOKENS, input: promptTokensOf(ctx), output }, price.price).total;
    },
  });

  const promptTokensOf = (ctx: RequestContext): number =>
    (ctx.promptTokens ??= estimatePromptTokens(ctx.request, estimateTokens));

  // -------------------------------------------------------------------------------------------
  // One request: candidates, failover, total timeout, cost, budget, session.

  const answer = (
    ctx: RequestContext,
    routes: readonly ResolvedRoute[],
    options: ResolvedOptions,
  ): Observable<StreamingChunk> => {
    const { session, request } = ctx;
    const seen = new Set<string>();
    const ordered: ResolvedCandidate[] = [];
    for (const route of routes) {
      const strategy = route.options.strategy ?? defaults.strategy ?? 'priority';
      for (const c of orderCandidates(
        strategy,
        route.key,
        route.candidates,
        strategyContext(ctx),
      )) {
        if (seen.has(c.key)) continue;
        seen.add(c.key);
        ordered.push(c);
      }
    }
    const legs: FailoverCandidate[] = ordered.map((c) => ({
      name: c.key,
      model: c.model,
      provider: c.providerKey,
      stream: (req) => candidateStream(ctx, c, req, options),
    }));
    const [first, ...rest] = legs as [FailoverCandidate, ...FailoverCandidate[]];
    return first.stream(request).pipe(
      failover(rest, {
        request,
        policy: options.failover,
        source: { name: first.name, model: first.model, provider: first.provider },
        estimateTokens: (text) => Math.ceil(estimateTokens(text, request.model)),
        onFailover: ({ from, to, error, mode }) => {
          session.failovers++;
          sessionRegistry.changed(session);
          const code = isRouterError(error) ? error.code : undefined;
          const reason = error instanceof Error ? error.message : String(error);
          logger?.warn('failover', { sessionId: session.id, from, to, mode, code });
          emit({
            type: 'failover',
            at: now(),
            sessionId: session.id,
            from,
            to,
            mode,
            code,
            reason,
          });
        },
      }),
      catchError((error: unknown) => {
        if (!ctx.started && ctx.attempts.size > 0 && isFailoverableError(error)) {
          throw new AllProvidersFailedError(
            session.requestedModel,
            [...ctx.attempts.values()],
            soonestRetry(ctx),
          );
        }
        throw error;
      }),
      options.timeouts.totalMs === undefined
        ? identity
        : timeouts({ total: options.timeouts.totalMs, scheduler }),
      observe<StreamingChunk>({
        next(chunk) {
          // Wire keep-alives served the idle timeouts; consumers do not need them.
          if (chunk.choices.length === 0 && chunk.usage === undefined) return false;
          session.chunks++;
          if (chunk.usage !== undefined) session.usage = chunk.usage;
          if (session.state === 'pending' && isContentChunk(chunk)) {
            // Chunks reach here synchronously from failover: the catchError above sees this.
            ctx.started = true;
            session.state = 'streaming';
            session.ttftMs = now() - session.startedAt;
          }
          sessionRegistry.changed(session);
        },
        complete: () => {
          sessionRegistry.finish(session, 'completed');
        },
        error: (error: unknown) => {
          if (hasErrorCode(error, 'RXLLM_BUDGET_EXCEEDED')) {
            const spent = (error as { spentUsd?: unknown }).spentUsd;
            emit({
              type: 'budget',
              at: now(),
              sessionId: session.id,
              maxUsd: options.budgetUsd ?? 0,
              spentUsd: typeof spent === 'number' ? spent : (session.costUsd ?? 0),
            });
          }
          const cancelled =
            hasErrorCode(error, 'RXLLM_CANCELLED') || hasErrorCode(error, 'RXLLM_ROUTER_CLOSED');
          sessionRegistry.finish(session, cancelled ? 'cancelled' : 'failed', error);
          return error;
        },
        teardown() {
          sessionRegistry.finish(session, 'cancelled');
        },
      }),
    );
  };

  /**
   * Sums the cost of the calls that streamed content, each priced at its own model, into the
   * session. Returns the snapshot of a call that has no price, if any.
   */
  const priceSession = (ctx: RequestContext): CostSnapshot | undefined => {
    const { session } = ctx;
    if (ctx.legs.length === 0) return undefined; // nothing billed yet: the cost stays unknown
    let sum = 0;
    let tokens = 0;
    let estimated = false;
    let unpriced: CostSnapshot | undefined;
    for (const leg of ctx.legs) {
      const cost = snapshotCostState(leg.state, pricing);
      tokens += cost.tokens.output + cost.tokens.reasoning;
      estimated ||= cost.estimated;
      if (cost.totalUsd === null) unpriced ??= cost;
      else sum += cost.totalUsd;
    }
    session.costUsd = unpriced === undefined ? sum : null;
    session.completionTokens = tokens;
    session.estimated = estimated;
    return unpriced;
  };

  /** {@link priceSession}, then the budget on the sum. */
  const chargeSession = (ctx: RequestContext, options: ResolvedOptions): void => {
    const unpriced = priceSession(ctx);
    const max = options.budgetUsd;
    if (max === undefined) return;
    if (unpriced !== undefined) {
      throw new ValidationError(
        [
          {
            path: 'model',
            message: `${unpriced.unpricedReason ?? `no price for ${unpriced.provider}/${unpriced.model}`} A budget needs prices: add a pricing override for it.`,
          },
        ],
        { subject: 'budget', provider: unpriced.provider },
      );
    }
    const total = ctx.session.costUsd;
    if (total !== null && total > max) {
      throw new BudgetExceededError(max, total, { provider: ctx.session.provider });
    }
  };

  const soonestRetry = (ctx: RequestContext): number | undefined => {
    let soonest: number | undefined;
    for (const { error } of ctx.attempts.values()) {
      const ms = isRouterError(error) ? error.retryAfterMs : undefined;
      if (ms !== undefined && (soonest === undefined || ms < soonest)) soonest = ms;
    }
    return soonest;
  };

  // One candidate: skip checks, then calls with timeouts, breaker and retries (used by `answer`).
  const candidateStream = createCandidateStream({
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
  });

  // -------------------------------------------------------------------------------------------
  // The public API.

  const stream = (input: unknown, options: RouteStreamOptions = {}): Observable<StreamingChunk> =>
    defer(() => {
      if (closed) {
        throw new CancelledError('The router is closed.', { code: 'RXLLM_ROUTER_CLOSED' });
      }
      const { signal } = options;
      if (signal?.aborted === true) throw abortReason(signal);
      const { request, fallbackModels } = prepareRequest(input);
      const routes: ResolvedRoute[] = [];
      const main = table.resolve(request.model);
      if (main === undefined) throw new UnknownModelError(request.model, table.keys());
      routes.push(main);
      fallbackModels.forEach(({ model, path }) => {
        const route = table.resolve(model);
        if (route === undefined) {
          throw new ValidationError([
            {
              path,
              message: `unknown model ${JSON.stringify(model)}; routes: ${table.keys().join(', ')}`,
            },
          ]);
        }
        routes.push(route);
      });
      const id = options.sessionId ?? newSessionId();
      if (sessionRegistry.isLive(id)) {
        throw new ValidationError([
          { path: 'sessionId', message: `${JSON.stringify(id)} is already a live session` },
        ]);
      }
      const session = sessionRegistry.create(id, request.model, main.key);
      const ctx: RequestContext = {
        session,
        attempts: new Map(),
        started: false,
        promptTokens: undefined,
        request,
        legs: [],
      };
      // Cost is priced when the session is read, not per chunk.
      session.refresh = () => {
        priceSession(ctx);
      };
      const shared = new SharedStream(answer(ctx, routes, resolveOptions(main.options)), {
        keepAliveMs: sessionOptions.keepAliveMs ?? 0,
        scheduler,
        upstreamFlow: 'first',
        recording: compactChunkRecording,
      });
      session.shared = shared;
      session.viewers = 1;
      const viewer$ = shared.attach(0);
      if (signal === undefined) return viewer$;
      return new Observable<StreamingChunk>((subscriber) => {
        const onAbort = (): void => {
          sessionRegistry.cancel(id, abortReason(signal));
        };
        signal.addEventListener('abort', onAbort, { once: true });
        const sub = viewer$.subscribe(subscriber);
        return () => {
          signal.removeEventListener('abort', onAbort);
          sub.unsubscribe();
        };
      });
    });

  // Per route's options object (the route table keeps one per route): resolved once, not per
  // request.
  const resolvedOptions = new WeakMap<RouteOptions, ResolvedOptions>();
  const resolveOptions = (route: RouteOptions): ResolvedOptions => {
    let resolved = resolvedOptions.get(route);
    if (resolved === undefined) {
      resolved = mergeOptions(route);
      resolvedOptions.set(route, resolved);
    }
    return resolved;
  };
  const mergeOptions = (route: RouteOptions): ResolvedOptions => {
    const retry = route.retry ?? defaults.retry;
    return {
      retry:
        retry === false
          ? false
          : {
              ...ROUTER_RETRY_DEFAULTS,
              ...stripUndefined(defaults.retry || {}),
              ...stripUndefined(retry ?? {}),
            },
      timeouts: {
        ...ROUTER_TIMEOUT_DEFAULTS,
        ...stripUndefined(defaults.timeouts ?? {}),
        ...stripUndefined(route.timeouts ?? {}),
      },
      failover: route.failover ?? defaults.failover ?? 'error',
      budgetUsd: route.budgetUsd ?? defaults.budgetUsd,
    };
  };

  const probes =
    healthOptions.probes === undefined
      ? new Subscription()
      : startHealthProbes({ options: healthOptions.probes, table, registry, scheduler, emit });

  const health = (): HealthSnapshot => ({ at: now(), candidates: registry.snapshot() });

  const sessions: Sessions = {
    list: () => sessionRegistry.list(),
    get: (id) => sessionRegistry.get(id),
    cancel: (id) => sessionRegistry.cancel(id),
    attach: (id, options = {}) => sessionRegistry.attach(id, options.fromIndex ?? 0),
    changes$: sessionRegistry.changes$,
    watch: (id) => sessionRegistry.watch(id),
  };

  const router: Router = {
    stream,
    streamChatCompletion(
      request: unknown,
      options: StreamChatCompletionOptions = {},
    ): BufferedAsyncIterable<StreamingChunk> {
      const { highWaterMark = 16, ...rest } = options;
      return toAsyncIterable(stream(request, rest), { highWaterMark });
    },
    complete(request: unknown, options?: RouteStreamOptions): Promise<ChatCompletion> {
      return toCompletion(stream(request, options));
    },
    events$: events.asObservable(),
    sessions,
    health$: defer(() =>
      closed
        ? EMPTY
        : timer(0, healthOptions.intervalMs ?? 1000, scheduler).pipe(
            map(health),
            takeUntil(closed$),
          ),
    ),
    health,
    models: (): ModelListing[] => table.listing(),
    resolve(model: string) {
      const route = table.resolve(model);
      return route === undefined
        ? undefined
        : { route: route.key, candidates: route.candidates.map((c) => c.key) };
    },
    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      probes.unsubscribe();
      sessionRegistry.cancelAll(
        new CancelledError('The router was closed before the answer finished.', {
          code: 'RXLLM_ROUTER_CLOSED',
        }),
      );
      registry.shutdown();
      closed$.next();
      closed$.complete();
      events.complete();
      sessionRegistry.complete();
      if (closeProviders) {
        const unique = new Set(Object.values(config.providers));
        const closing: Promise<void>[] = [];
        for (const p of unique) if (p.close !== undefined) closing.push(p.close());
        await Promise.all(closing);
      }
    },
    get closed() {
      return closed;
    },
  };
  return router;
}

/** Builds (and shuts) one breaker, so that bad breaker options fail `createRouter`, naming the field. */
function checkBreakerOptions(options: RouterConfig['breaker']): void {
  try {
    createStreamBreaker(options ?? {}).shutdown();
  } catch (error) {
    throw new ValidationError(
      [{ path: 'breaker', message: error instanceof Error ? error.message : String(error) }],
      { subject: 'router config', cause: error },
    );
  }
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

function abortReason(signal: AbortSignal): unknown {
  const reason: unknown = signal.reason;
  return reason instanceof Error
    ? reason
    : new CancelledError('The stream was aborted through its signal.', { cause: reason });
}
