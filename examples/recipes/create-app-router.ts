import { asyncScheduler } from 'rxjs';
import {
  createPricing,
  createRouter,
  estimateTokensByChars,
  type Provider,
  type Router,
  type RouterLogger,
} from './rx-llm-router';

/** The providers the app routes to, by the names its routes use. */
export type AppProviders = Record<'openai' | 'anthropic' | 'google', Provider>;

/** The app's router: every option of `createRouter`, the global ones at their defaults. */
export function createAppRouter(providers: AppProviders, logger?: RouterLogger): Router {
  return createRouter({
    providers,
    routes: {
      // Exact aliases win over globs.
      fast: {
        candidates: [
          { provider: 'openai', model: 'gpt-4o-mini', contextWindow: 128_000 },
          { provider: 'anthropic', model: 'claude-3-5-haiku-latest', contextWindow: 200_000 },
          { provider: 'google', model: 'gemini-2.5-flash' },
        ],
        strategy: 'least-latency',
        failover: 'resume', // a cut answer is continued by the next candidate
        timeouts: { firstTokenMs: 10_000 },
      },
      smart: {
        candidates: [
          { provider: 'anthropic', model: 'claude-sonnet-4-5', weight: 3 },
          { provider: 'openai', model: 'gpt-4o', weight: 1 },
        ],
        strategy: 'weighted',
        budgetUsd: 0.5, // BudgetExceededError past 50 cents
      },
      // Globs, tried in this order when no alias matches; '$model' passes the name through.
      'gpt-*': [{ provider: 'openai', model: '$model' }],
      'claude-*': [{ provider: 'anthropic', model: '$model' }],
      'gemini-*': { candidates: [{ provider: 'google', model: '$model' }], retry: false },
    },
    defaults: {
      strategy: 'priority',
      retry: {
        maxAttempts: 2,
        initialDelayMs: 250,
        maxDelayMs: 2_000,
        maxRetryAfterMs: 5_000, // a longer Retry-After fails over at once
        jitter: 'full',
      },
      timeouts: { firstTokenMs: 30_000, idleMs: 30_000, totalMs: 600_000 },
      failover: 'error',
    },
    breaker: {
      errorThresholdPercentage: 50,
      volumeThreshold: 5,
      resetTimeout: 30_000,
      rollingCountTimeout: 30_000,
      rollingCountBuckets: 6,
    },
    cooldownMs: 1_000, // a 429 without Retry-After cools its provider this long
    pricing: createPricing({ models: { 'gpt-4o': { output: 8 } } }), // the catalog, one override
    estimateTokens: estimateTokensByChars,
    sessions: { maxFinished: 100, finishedTtlMs: 300_000, keepAliveMs: 0 },
    health: {
      intervalMs: 1_000,
      windowMs: 60_000,
      latencySamples: 200,
      // Off by default: each probe of a candidate is a one-token request.
      probes: {
        intervalMs: 30_000,
        timeoutMs: 10_000,
        kind: 'request',
        closeBreakerOnSuccess: true,
      },
    },
    logger, // a winston Logger fits
    scheduler: asyncScheduler,
    random: Math.random,
    closeProviders: true,
  });
}
