import { z } from 'zod';
import type { SchedulerLike } from 'rxjs';
import type { Pricing } from '../cost/pricing';
import type { TokenEstimator } from '../cost/token-estimator';
import { ValidationError } from '../errors/validation-error';
import type { StreamBreakerOptions } from '../operators/create-stream-breaker';
import type { Provider } from '../providers/provider';
import type { ChatRequest } from '../request/chat-request';
import { formatPath } from '../request/validate-chat-request';

/** The strategies, in documentation order. */
export const ROUTING_STRATEGIES = [
  'priority',
  'round-robin',
  'weighted',
  'least-latency',
  'cheapest',
] as const;

/** How a route orders its candidates for each request. */
export type RoutingStrategy = (typeof ROUTING_STRATEGIES)[number];

/** Passes the requested model name through to the candidate's provider. */
export const PASS_THROUGH_MODEL = '$model';

/** One provider + model a route may send a request to. */
export interface CandidateConfig {
  /** The key of the provider in {@link RouterConfig.providers}. */
  provider: string;
  /** The model to ask that provider for, or `'$model'` for the requested name. */
  model: string;
  /** Relative share of first picks under the `weighted` strategy. Default 1. */
  weight?: number | undefined;
  /** The model's context window in tokens: a request that cannot fit is not sent to it. */
  contextWindow?: number | undefined;
}

/** Per-attempt retries of one candidate (see `retryBackoff`). `false` disables them. */
export interface RouteRetryOptions {
  /** Attempts per candidate, the first included. Default 2. */
  maxAttempts?: number | undefined;
  /** First backoff, ms. Default 250. */
  initialDelayMs?: number | undefined;
  /** Backoff cap, ms. Default 2000. */
  maxDelayMs?: number | undefined;
  /** A longer Retry-After than this fails over at once instead of waiting. Default 5000. */
  maxRetryAfterMs?: number | undefined;
  /** Jitter of the backoff. Default `'full'`. */
  jitter?: 'full' | 'equal' | 'none' | undefined;
}

/**
 * Stream timeouts, ms (see `timeouts`): `firstTokenMs` and `idleMs` apply to each attempt,
 * `totalMs` to the whole answer, failovers included. A field left out takes its default
 * (`ROUTER_TIMEOUT_DEFAULTS`: 30 s, 30 s and 10 min).
 */
export interface RouteTimeoutOptions {
  firstTokenMs?: number | undefined;
  idleMs?: number | undefined;
  totalMs?: number | undefined;
}

/** Options set globally ({@link RouterConfig.defaults}) and overridden per route. */
export interface RouteOptions {
  /** Default `'priority'`. */
  strategy?: RoutingStrategy | undefined;
  /** Default `{ maxAttempts: 2, ... }`; `false`: no retries. */
  retry?: RouteRetryOptions | false | undefined;
  /** Default: first token 30 s, idle 30 s, total 10 min. */
  timeouts?: RouteTimeoutOptions | undefined;
  /** What a cut answer does: `'error'` (default) or `'resume'` on the next candidate. */
  failover?: 'error' | 'resume' | undefined;
  /** Stop a request whose cost passes this many USD (`BudgetExceededError`). */
  budgetUsd?: number | undefined;
}

/** A route: ordered candidates and their options. */
export interface RouteConfig extends RouteOptions {
  candidates: CandidateConfig[];
}

/** Circuit-breaker options of every candidate (one breaker per provider + model). */
export type RouterBreakerOptions = Omit<StreamBreakerOptions, 'provider' | 'name'>;

/** Structural logger: a winston `Logger` fits. Nothing else is assumed. */
export interface RouterLogger {
  debug(message: string, meta?: Record<string, unknown>): unknown;
  info(message: string, meta?: Record<string, unknown>): unknown;
  warn(message: string, meta?: Record<string, unknown>): unknown;
  error(message: string, meta?: Record<string, unknown>): unknown;
}

/** Active health probes. */
export interface ProbeOptions {
  /** How often each candidate is probed, ms. */
  intervalMs: number;
  /** A probe slower than this fails, ms. Default 10 000. */
  timeoutMs?: number | undefined;
  /**
   * `'healthCheck'` calls the provider's `healthCheck()` when it has one (else a request);
   * `'request'` (default) streams a one-token request to the candidate's model.
   */
  kind?: 'request' | 'healthCheck' | undefined;
  /** Closes an open breaker when a probe succeeds. Default true. */
  closeBreakerOnSuccess?: boolean | undefined;
}

/** Health statistics and probes. */
export interface HealthOptions {
  /** How often `health$` emits, ms. Default 1000. */
  intervalMs?: number | undefined;
  /** The rolling window of the counts, ms. Default 60 000. */
  windowMs?: number | undefined;
  /** How many recent times to first token the percentiles are taken over. Default 200. */
  latencySamples?: number | undefined;
  /** Active probes; omitted: none. */
  probes?: ProbeOptions | undefined;
}

/** Session retention. */
export interface SessionOptions {
  /** How many finished sessions are kept for `list()`, `get()` and `attach()`. Default 100. */
  maxFinished?: number | undefined;
  /** How long a finished session is kept, ms. Default 5 minutes. */
  finishedTtlMs?: number | undefined;
  /** How long an upstream keeps running after its last viewer left, ms. Default 0. */
  keepAliveMs?: number | undefined;
}

/** Configuration of {@link createRouter}. */
export interface RouterConfig {
  /** The providers, by the name routes refer to them with. */
  providers: Readonly<Record<string, Provider>>;
  /**
   * Routes by requested model: an exact alias (`fast`), or a glob (`claude-*`, `*`). An exact
   * alias wins; otherwise the first matching glob, in insertion order. A bare array is a route
   * with default options.
   */
  routes: Readonly<Record<string, RouteConfig | CandidateConfig[]>>;
  /** Options of every route, each overridable per route. */
  defaults?: RouteOptions | undefined;
  /** Breaker options of every candidate. */
  breaker?: RouterBreakerOptions | undefined;
  /** How long a 429 without Retry-After cools its provider, ms. Default 1000. */
  cooldownMs?: number | undefined;
  /** Prices for `cheapest`, cost and budgets. Default: the bundled catalog. */
  pricing?: Pricing | undefined;
  /** Token estimator for cost before usage arrives and for context-window checks. */
  estimateTokens?: TokenEstimator | undefined;
  sessions?: SessionOptions | undefined;
  health?: HealthOptions | undefined;
  logger?: RouterLogger | undefined;
  /** Time source and timers (retries, timeouts, health, cooldowns). Default `asyncScheduler`. */
  scheduler?: SchedulerLike | undefined;
  /** Random numbers in [0, 1) for `weighted` and retry jitter. Default `Math.random`. */
  random?: (() => number) | undefined;
  /** Call each provider's `close()` on `router.close()`. Default true. */
  closeProviders?: boolean | undefined;
}

// ---------------------------------------------------------------------------------------------
// Schemas. Exported so the gateway's file config shares them.

const positiveInt = z.number().int().positive();
const nonNegative = z.number().nonnegative();

export const candidateConfigSchema = z.strictObject({
  provider: z.string().min(1),
  model: z.string().min(1),
  weight: z.number().positive().optional(),
  contextWindow: positiveInt.optional(),
});

export const routeRetrySchema = z.union([
  z.literal(false),
  z.strictObject({
    maxAttempts: positiveInt.max(10).optional(),
    initialDelayMs: nonNegative.optional(),
    maxDelayMs: nonNegative.optional(),
    maxRetryAfterMs: nonNegative.optional(),
    jitter: z.enum(['full', 'equal', 'none']).optional(),
  }),
]);

export const routeTimeoutsSchema = z.strictObject({
  firstTokenMs: positiveInt.optional(),
  idleMs: positiveInt.optional(),
  totalMs: positiveInt.optional(),
});

export const routeOptionsShape = {
  strategy: z.enum(ROUTING_STRATEGIES).optional(),
  retry: routeRetrySchema.optional(),
  timeouts: routeTimeoutsSchema.optional(),
  failover: z.enum(['error', 'resume']).optional(),
  budgetUsd: z.number().positive().optional(),
};

export const routeOptionsSchema = z.strictObject(routeOptionsShape);

const routeArraySchema = z
  .array(candidateConfigSchema)
  .min(1, 'a route needs at least one candidate');
const routeObjectSchema = z.strictObject({
  ...routeOptionsShape,
  candidates: z.array(candidateConfigSchema).min(1, 'a route needs at least one candidate'),
});

/**
 * A route: an array of candidates, or `{ candidates, ...options }`. Checked with the schema its
 * shape asks for, so an error names the field (`routes.fast.strategy`), not just the union.
 */
export const routeConfigSchema = z
  .unknown()
  .transform((value, ctx): z.infer<typeof routeArraySchema> | z.infer<typeof routeObjectSchema> => {
    const result = Array.isArray(value)
      ? routeArraySchema.safeParse(value)
      : routeObjectSchema.safeParse(value);
    if (result.success) return result.data;
    for (const issue of result.error.issues) {
      ctx.addIssue({ code: 'custom', message: issue.message, path: issue.path });
    }
    return z.NEVER;
  });

const providerSchema = z.custom<Provider>(
  (value) =>
    typeof value === 'object' &&
    value !== null &&
    typeof (value as Partial<Provider>).name === 'string' &&
    typeof (value as Partial<Provider>).stream === 'function',
  { message: 'expected a Provider (an object with a name and stream(request))' },
);

/** {@link SessionOptions}, checked. */
export const sessionOptionsSchema = z.strictObject({
  maxFinished: z.number().int().nonnegative().optional(),
  finishedTtlMs: nonNegative.optional(),
  keepAliveMs: nonNegative.optional(),
});

/** {@link HealthOptions}, checked. */
export const healthOptionsSchema = z.strictObject({
  intervalMs: positiveInt.optional(),
  windowMs: positiveInt.optional(),
  latencySamples: positiveInt.optional(),
  probes: z
    .strictObject({
      intervalMs: positiveInt,
      timeoutMs: positiveInt.optional(),
      kind: z.enum(['request', 'healthCheck']).optional(),
      closeBreakerOnSuccess: z.boolean().optional(),
    })
    .optional(),
});

const routerConfigSchema = z.looseObject({
  providers: z.record(z.string().min(1), providerSchema),
  routes: z.record(z.string().min(1), routeConfigSchema),
  defaults: routeOptionsSchema.optional(),
  breaker: z.looseObject({}).optional(),
  cooldownMs: nonNegative.optional(),
  sessions: sessionOptionsSchema.optional(),
  health: healthOptionsSchema.optional(),
});

/**
 * Checks a {@link RouterConfig}: its shape, and that every candidate names a provider that
 * exists. Throws a {@link ValidationError} naming each path, e.g.
 * `routes.fast[1].provider: unknown provider "anthropc" (known: openai, anthropic)`.
 */
export function validateRouterConfig(config: RouterConfig): void {
  const result = routerConfigSchema.safeParse(config);
  const issues = result.success
    ? []
    : result.error.issues.map((i) => ({ path: formatPath(i.path), message: i.message }));
  if (result.success) {
    const known = Object.keys(config.providers);
    if (Object.keys(config.routes).length === 0) {
      issues.push({ path: 'routes', message: 'at least one route is required' });
    }
    for (const [key, route] of Object.entries(config.routes)) {
      const list = Array.isArray(route) ? route : route.candidates;
      list.forEach((c, i) => {
        if (!Object.hasOwn(config.providers, c.provider)) {
          issues.push({
            path: formatPath([
              'routes',
              key,
              ...(Array.isArray(route) ? [] : ['candidates']),
              i,
              'provider',
            ]),
            message: `unknown provider ${JSON.stringify(c.provider)} (known: ${known.join(', ') || 'none'})`,
          });
        }
      });
    }
  }
  if (issues.length > 0) throw new ValidationError(issues, { subject: 'router config' });
}

/** The request fields of per-request fallbacks, stripped before a request is sent upstream. */
export const FALLBACK_FIELDS = ['models', 'fallbacks'] as const;

/** What a router needs to know about a request beyond {@link ChatRequest}. */
export type RoutedRequest = ChatRequest & {
  /** OpenRouter's ordered model list: tried after `model`. */
  models?: readonly string[];
  /** LiteLLM's and Bifrost's fallbacks: model names, tried after `model`. */
  fallbacks?: readonly (string | { model: string })[];
};
