import { buildRouterConfig, createProviderFromConfig } from '../../src/config/build-router-config';
import { embeddedDefaultConfig } from '../../src/config/embedded-default';
import { parseConfig } from '../../src/config/parse-config';
import type { HttpProvider } from '../../src/providers/http/create-http-provider';
import { validateRouterConfig } from '../../src/router/router-config';

const text = `
providers:
  openai: { type: openai, apiKey: sk-a, baseUrl: "http://127.0.0.1:1/v1", organization: org }
  claude: { type: anthropic, apiKey: sk-b, defaultMaxTokens: 512 }
  gemini: { type: google, apiKey: sk-c, connections: 4 }
  local: { type: openai-compatible, baseUrl: "http://127.0.0.1:2/v1", headers: { x-team: blue } }
routes:
  fast: [{ provider: openai, model: gpt-4o-mini }, { provider: claude, model: claude-3-5-haiku-latest }]
  claude-*: { candidates: [{ provider: claude, model: $model }], failover: resume }
  "*": [{ provider: local, model: $model }]
defaults: { strategy: priority, timeouts: { firstTokenMs: 5000 } }
breaker: { volumeThreshold: 3, resetTimeout: 1000 }
cooldownMs: 500
pricing:
  local/llama3: { input: 0, output: 0 }
  gpt-4o-mini: { output: 99 }
sessions: { maxFinished: 10 }
health: { intervalMs: 500 }
`;

const closeAll = async (providers: Readonly<Record<string, unknown>>): Promise<void> => {
  await Promise.all(Object.values(providers).map((p) => (p as HttpProvider).close()));
};

describe('buildRouterConfig', () => {
  it('should build one provider per entry, named by its key, and keep the rest', async () => {
    const logger = { debug: jest.fn(), info: jest.fn(), warn: jest.fn(), error: jest.fn() };
    const config = buildRouterConfig(parseConfig(text, { format: 'yaml', env: {} }), { logger });
    try {
      expect(Object.keys(config.providers)).toEqual(['openai', 'claude', 'gemini', 'local']);
      expect(Object.values(config.providers).map((p) => p.name)).toEqual([
        'openai',
        'claude',
        'gemini',
        'local',
      ]);
      expect(Object.keys(config.routes)).toEqual(['fast', 'claude-*', '*']);
      expect(config.defaults).toEqual({ strategy: 'priority', timeouts: { firstTokenMs: 5000 } });
      expect(config.breaker).toEqual({ volumeThreshold: 3, resetTimeout: 1000 });
      expect(config.cooldownMs).toBe(500);
      expect(config.sessions).toEqual({ maxFinished: 10 });
      expect(config.health).toEqual({ intervalMs: 500 });
      expect(config.logger).toBe(logger);
      expect(() => {
        validateRouterConfig(config);
      }).not.toThrow();
    } finally {
      await closeAll(config.providers);
    }
  });

  it('should put the pricing overrides on top of the catalog', async () => {
    const config = buildRouterConfig(parseConfig(text, { format: 'yaml', env: {} }));
    try {
      const local = config.pricing?.resolve('local', 'llama3');
      expect(local).toMatchObject({ priced: true, price: { source: 'override' } });
      expect(local?.priced === true && local.price.prices.output).toBe(0);
      const haiku = config.pricing?.resolve('openai', 'gpt-4o-mini');
      expect(haiku?.priced === true && haiku.price.prices.output).toBe(99);
      expect(config.pricing?.resolve('local', 'unknown-model-xyz').priced).toBe(false);
    } finally {
      await closeAll(config.providers);
    }
  });

  it('should leave pricing to the router default when the file sets none', async () => {
    const config = buildRouterConfig(embeddedDefaultConfig('http://127.0.0.1:9'));
    try {
      expect(config.pricing).toBeUndefined();
      expect(config.breaker).toBeUndefined();
      expect(Object.keys(config.providers)).toEqual(['openai', 'anthropic', 'google']);
    } finally {
      await closeAll(config.providers);
    }
  });

  it('should name the factory option when a provider cannot be built', () => {
    expect(() =>
      createProviderFromConfig('x', { type: 'openai-compatible', baseUrl: 'nope' }),
    ).toThrow('Invalid openaiCompatible() options: baseURL: expected an absolute http(s) URL');
  });
});

describe('embeddedDefaultConfig', () => {
  it('should pass its own validation and route the demo aliases', () => {
    const config = embeddedDefaultConfig('http://127.0.0.1:1234');
    const reparsed = parseConfig(JSON.stringify(config), { format: 'json', env: {} });
    expect(reparsed).toEqual(config);
    expect(Object.keys(config.routes)).toEqual([
      'fast',
      'smart',
      'gpt-*',
      'claude-*',
      'gemini-*',
      'sim-fault-*',
    ]);
    expect(config.providers.openai?.baseUrl).toBe('http://127.0.0.1:1234/v1');
    expect(config.routes.smart).toMatchObject({ failover: 'resume' });
  });
});
