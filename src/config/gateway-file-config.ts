import { z } from 'zod';
import {
  candidateConfigSchema,
  healthOptionsSchema,
  routeOptionsSchema,
  routeOptionsShape,
  sessionOptionsSchema,
  type CandidateConfig,
  type HealthOptions,
  type RouteConfig,
  type RouteOptions,
  type SessionOptions,
} from '../router/router-config';

/** The provider types a config file can declare, each built by its factory. */
export type ProviderType = 'openai' | 'anthropic' | 'google' | 'openai-compatible';

/** The provider types, in documentation order. */
export const PROVIDER_TYPES: readonly ProviderType[] = [
  'openai',
  'anthropic',
  'google',
  'openai-compatible',
];

/** One entry of `providers:`: which factory, where, and with which key. */
export interface ProviderFileConfig {
  type: ProviderType;
  /**
   * The API's base URL: with `/v1` for `openai` and `openai-compatible` (required there), the
   * origin for `anthropic` and `google`. Default: the provider's public API.
   */
  baseUrl?: string | undefined;
  /** The API key, usually `${ENV_VAR}`. Required except for `openai-compatible`. */
  apiKey?: string | undefined;
  /** Keep-alive connections to the provider, at most. Default 128. */
  connections?: number | undefined;
  /** How long an idle keep-alive connection is kept, ms. Default 30 000. */
  keepAliveTimeoutMs?: number | undefined;
  /** Extra headers sent with every request (values may use `${ENV_VAR}`). */
  headers?: Record<string, string> | undefined;
  /** `openai` only: sent as `OpenAI-Organization`. */
  organization?: string | undefined;
  /** `openai` only: sent as `OpenAI-Project`. */
  project?: string | undefined;
  /** `anthropic` only: sent as `anthropic-version`. Default `2023-06-01`. */
  version?: string | undefined;
  /** `anthropic` only: `max_tokens` when a request sets none. Default 4096. */
  defaultMaxTokens?: number | undefined;
}

/** One entry of `pricing:`, USD per million tokens (see `createPricing`). */
export interface PriceFileConfig {
  input?: number | undefined;
  output?: number | undefined;
  cachedInput?: number | undefined;
  cacheWrite?: number | undefined;
  reasoning?: number | undefined;
  /** Higher prices above a prompt size (replaces the catalog's tiers). */
  tiers?:
    | {
        aboveInputTokens: number;
        prices: Omit<PriceFileConfig, 'tiers'>;
      }[]
    | undefined;
}

/** The `breaker:` section: every candidate's circuit breaker. */
export interface BreakerFileConfig {
  /** Error rate in percent above which a breaker opens. Default 50. */
  errorThresholdPercentage?: number | undefined;
  /** Streams recorded in the window before the rate can open it. Default 5. */
  volumeThreshold?: number | undefined;
  /** How long it stays open before one trial stream, ms. Default 30 000. */
  resetTimeout?: number | undefined;
  /** The rolling window, ms. Default 30 000. */
  rollingCountTimeout?: number | undefined;
  /** Buckets of the window. Default 6. */
  rollingCountBuckets?: number | undefined;
  /** Ignore failures during the first window. Default false. */
  allowWarmUp?: boolean | undefined;
}

/** The `server:` section: where and how the gateway listens. */
export interface ServerFileConfig {
  /** Default `127.0.0.1`. `--host` wins. */
  host?: string | undefined;
  /** Default 8787; 0 picks a free port. `--port` wins. */
  port?: number | undefined;
  /** Largest request body, bytes; larger ones get 413. */
  bodyLimitBytes?: number | undefined;
  /** `true`: any origin; `{ origins }`: those origins only. Default off. */
  cors?: boolean | { origins: string[] } | undefined;
  /** How long open streams may finish after SIGTERM, ms. */
  shutdownGraceMs?: number | undefined;
  /** Send the usage chunk even when the request did not ask (`stream_options.include_usage`). */
  includeUsageByDefault?: boolean | undefined;
}

/** The winston log levels. */
export type LogLevel = 'error' | 'warn' | 'info' | 'http' | 'verbose' | 'debug' | 'silly';

/**
 * A validated config file (`rx-llm-router.yaml`, `.yml` or `.json`), environment variables
 * already substituted. {@link buildRouterConfig} turns it into a `RouterConfig`; the `server`,
 * `auth` and `logging` sections configure the gateway.
 */
export interface GatewayFileConfig {
  /** Providers by name; routes refer to them by this name, and it is stamped on chunks. */
  providers: Record<string, ProviderFileConfig>;
  /**
   * Routes by requested model: exact aliases or globs (`gpt-*`, `*`). An exact alias wins; else
   * the first matching glob in file order. A list is a route with default options.
   */
  routes: Record<string, RouteConfig | CandidateConfig[]>;
  /** Options of every route (strategy, retry, timeouts, failover, budgetUsd). */
  defaults?: RouteOptions | undefined;
  breaker?: BreakerFileConfig | undefined;
  /** How long a 429 without Retry-After cools its provider, ms. Default 1000. */
  cooldownMs?: number | undefined;
  /** Price overrides, USD per million tokens, by `provider/model` or `model`. */
  pricing?: Record<string, PriceFileConfig> | undefined;
  sessions?: SessionOptions | undefined;
  health?: HealthOptions | undefined;
  server?: ServerFileConfig | undefined;
  /** Bearer keys the gateway accepts (`Authorization: Bearer <key>`). Omitted: no auth. */
  auth?: { keys: string[] } | undefined;
  logging?: { level?: LogLevel | undefined; format?: 'json' | 'pretty' | undefined } | undefined;
}

const positiveInt = z.number().int().positive();
const nonNegative = z.number().nonnegative();
const price = nonNegative.optional();

// The route schema is assembled here from the router's pieces, as a plain union: parsed in one
// pass, so the config's messages (unknown keys with "did you mean", missing fields) reach inside.
const candidatesSchema = z
  .array(candidateConfigSchema)
  .min(1, 'a route needs at least one candidate');
const routeFileConfigSchema = z.union([
  candidatesSchema,
  z.strictObject({ ...routeOptionsShape, candidates: candidatesSchema }),
]);

const providerFileConfigSchema = z.strictObject({
  type: z.enum(['openai', 'anthropic', 'google', 'openai-compatible']),
  baseUrl: z.string().min(1).optional(),
  apiKey: z.string().min(1).optional(),
  connections: positiveInt.optional(),
  keepAliveTimeoutMs: positiveInt.optional(),
  headers: z.record(z.string().min(1), z.string()).optional(),
  organization: z.string().min(1).optional(),
  project: z.string().min(1).optional(),
  version: z.string().min(1).optional(),
  defaultMaxTokens: positiveInt.optional(),
});

const tokenPricesShape = {
  input: price,
  output: price,
  cachedInput: price,
  cacheWrite: price,
  reasoning: price,
};

const priceOverrideSchema = z.strictObject({
  ...tokenPricesShape,
  tiers: z
    .array(
      z.strictObject({
        aboveInputTokens: z.number().int().nonnegative(),
        prices: z.strictObject(tokenPricesShape),
      }),
    )
    .optional(),
});

/**
 * The schema of a config file, after `${ENV_VAR}` substitution. Strict everywhere: an unknown
 * key is an error, so a typo cannot pass silently. Route and option schemas are the router's.
 * Cross-references (a route naming an unknown provider) are checked by `parseConfig`.
 */
export const gatewayFileConfigSchema: z.ZodType<GatewayFileConfig> = z.strictObject({
  providers: z.record(z.string().min(1), providerFileConfigSchema),
  routes: z.record(z.string().min(1), routeFileConfigSchema),
  defaults: routeOptionsSchema.optional(),
  breaker: z
    .strictObject({
      errorThresholdPercentage: z.number().min(0).max(100).optional(),
      volumeThreshold: z.number().int().nonnegative().optional(),
      resetTimeout: positiveInt.optional(),
      rollingCountTimeout: positiveInt.optional(),
      rollingCountBuckets: positiveInt.optional(),
      allowWarmUp: z.boolean().optional(),
    })
    .optional(),
  cooldownMs: nonNegative.optional(),
  pricing: z.record(z.string().min(1), priceOverrideSchema).optional(),
  sessions: sessionOptionsSchema.optional(),
  health: healthOptionsSchema.optional(),
  server: z
    .strictObject({
      host: z.string().min(1).optional(),
      port: z.number().int().min(0).max(65535).optional(),
      bodyLimitBytes: positiveInt.optional(),
      cors: z
        .union([z.boolean(), z.strictObject({ origins: z.array(z.string().min(1)).min(1) })])
        .optional(),
      shutdownGraceMs: nonNegative.optional(),
      includeUsageByDefault: z.boolean().optional(),
    })
    .optional(),
  auth: z.strictObject({ keys: z.array(z.string().min(1)).min(1) }).optional(),
  logging: z
    .strictObject({
      level: z.enum(['error', 'warn', 'info', 'http', 'verbose', 'debug', 'silly']).optional(),
      format: z.enum(['json', 'pretty']).optional(),
    })
    .optional(),
});
