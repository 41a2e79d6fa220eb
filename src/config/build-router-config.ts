import { createPricing } from '../cost/pricing';
import type { PriceOverride, PriceTier, TokenPrices } from '../cost/model-price';
import { anthropic } from '../providers/http/anthropic-provider';
import type { HttpProvider, HttpProviderOptions } from '../providers/http/create-http-provider';
import { google } from '../providers/http/google-provider';
import { openaiCompatible } from '../providers/http/openai-compatible-provider';
import { openai } from '../providers/http/openai-provider';
import type { RouterBreakerOptions, RouterConfig, RouterLogger } from '../router/router-config';
import type {
  BreakerFileConfig,
  GatewayFileConfig,
  PriceFileConfig,
  ProviderFileConfig,
} from './gateway-file-config';

/** Options of {@link buildRouterConfig}. */
export interface BuildRouterConfigOptions {
  /** The router's logger (a winston `Logger` fits). */
  logger?: RouterLogger | undefined;
}

/** A copy of `value` without its `undefined` properties (for `exactOptionalPropertyTypes`). */
type Defined<T> = { [K in keyof T]?: Exclude<T[K], undefined> };

function defined<T extends object>(value: T): Defined<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Defined<T>;
}

/**
 * Builds one provider instance from its `providers:` entry, with the entry's key as its name
 * (the name routes use and chunks carry).
 *
 * @param name The provider's key in the config.
 * @param config Its entry.
 * @return An HTTP provider over undici; `close()` it when done.
 */
export function createProviderFromConfig(name: string, config: ProviderFileConfig): HttpProvider {
  const http: HttpProviderOptions = defined({
    headers: config.headers,
    connections: config.connections,
    keepAliveTimeoutMs: config.keepAliveTimeoutMs,
  });
  const apiKey = config.apiKey ?? '';
  switch (config.type) {
    case 'openai':
      return openai({
        ...http,
        name,
        apiKey,
        ...defined({
          baseURL: config.baseUrl,
          organization: config.organization,
          project: config.project,
        }),
      });
    case 'anthropic':
      return anthropic({
        ...http,
        name,
        apiKey,
        ...defined({
          baseURL: config.baseUrl,
          version: config.version,
          defaultMaxTokens: config.defaultMaxTokens,
        }),
      });
    case 'google':
      return google({ ...http, name, apiKey, ...defined({ baseURL: config.baseUrl }) });
    case 'openai-compatible':
      return openaiCompatible({
        ...http,
        name,
        baseURL: config.baseUrl ?? '',
        ...defined({ apiKey: config.apiKey }),
      });
  }
}

function toPrices(prices: Omit<PriceFileConfig, 'tiers'>): Partial<TokenPrices> {
  return defined(prices);
}

function toPriceOverride(entry: PriceFileConfig): PriceOverride {
  const { tiers, ...prices } = entry;
  const override: PriceOverride = toPrices(prices);
  if (tiers !== undefined) {
    return {
      ...override,
      tiers: tiers.map((t): PriceTier => ({
        aboveInputTokens: t.aboveInputTokens,
        prices: toPrices(t.prices),
      })),
    };
  }
  return override;
}

function toBreaker(breaker: BreakerFileConfig): RouterBreakerOptions {
  return defined(breaker);
}

/**
 * Turns a validated config file into a `RouterConfig` for `createRouter`: one provider instance
 * per `providers:` entry (named by its key), the routes as written (file order kept), the
 * defaults, breaker, cooldown, sessions and health options, and a `Pricing` with the file's
 * overrides on top of the bundled catalog.
 *
 * The router closes the providers on `router.close()`. If building a provider throws, the ones
 * already built are closed first.
 *
 * ```ts
 * const router = createRouter(buildRouterConfig(await loadConfigFile('rx-llm-router.yaml'), { logger }));
 * ```
 *
 * @param config A config from `parseConfig` or `loadConfigFile`.
 * @param options The router's logger.
 * @return The router's config, with live provider instances.
 */
export function buildRouterConfig(
  config: GatewayFileConfig,
  options: BuildRouterConfigOptions = {},
): RouterConfig {
  const providers: Record<string, HttpProvider> = {};
  try {
    for (const [name, entry] of Object.entries(config.providers)) {
      providers[name] = createProviderFromConfig(name, entry);
    }
  } catch (error) {
    for (const provider of Object.values(providers)) void provider.close().catch(() => undefined);
    throw error;
  }
  const routerConfig: RouterConfig = {
    providers,
    routes: config.routes,
    defaults: config.defaults,
    cooldownMs: config.cooldownMs,
    sessions: config.sessions,
    health: config.health,
    logger: options.logger,
  };
  if (config.breaker !== undefined) routerConfig.breaker = toBreaker(config.breaker);
  if (config.pricing !== undefined) {
    routerConfig.pricing = createPricing({
      models: Object.fromEntries(
        Object.entries(config.pricing).map(([key, entry]) => [key, toPriceOverride(entry)]),
      ),
    });
  }
  return routerConfig;
}
