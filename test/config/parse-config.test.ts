import { ValidationError } from '../../src/errors/validation-error';
import { parseConfig } from '../../src/config/parse-config';
import type { ConfigEnv } from '../../src/config/interpolate-env';

const env: ConfigEnv = { OPENAI_API_KEY: 'sk-test-openai', ANTHROPIC_API_KEY: 'sk-ant-test' };

const yamlConfig = `
providers:
  openai:
    type: openai
    apiKey: \${OPENAI_API_KEY}
  anthropic:
    type: anthropic
    apiKey: \${ANTHROPIC_API_KEY}
routes:
  fast:
    - { provider: openai, model: gpt-4o-mini }
    - { provider: anthropic, model: claude-3-5-haiku-latest }
  z-*:
    - { provider: openai, model: $model }
  claude-*:
    - { provider: anthropic, model: $model }
  a-*:
    candidates:
      - { provider: openai, model: gpt-4o }
    failover: resume
    timeouts: { firstTokenMs: 5000, idleMs: 10000, totalMs: 60000 }
  "*":
    - { provider: openai, model: $model }
`;

/** The ValidationError `parseConfig` throws for `text`, or a failure if it does not throw. */
function errorOf(
  text: string,
  options: { format?: 'yaml' | 'json'; env?: ConfigEnv } = {},
): ValidationError {
  try {
    parseConfig(text, {
      format: options.format ?? 'yaml',
      env: options.env ?? env,
      source: 'test.yaml',
    });
  } catch (error) {
    if (error instanceof ValidationError) return error;
    throw error;
  }
  throw new Error('expected parseConfig to throw');
}

/** The `path: message` lines of the error for `text`. */
function problems(
  text: string,
  options: { format?: 'yaml' | 'json'; env?: ConfigEnv } = {},
): string[] {
  return errorOf(text, options).issues.map((i) =>
    i.path === '' ? i.message : `${i.path}: ${i.message}`,
  );
}

const minimal = (extra: string): string => `
providers:
  openai: { type: openai, apiKey: sk-literal }
routes:
  fast: [{ provider: openai, model: gpt-4o-mini }]
${extra}`;

describe('parseConfig', () => {
  it('should parse a YAML config, substituting environment variables', () => {
    const config = parseConfig(yamlConfig, { format: 'yaml', env, source: 'x.yaml' });
    expect(config.providers.openai).toEqual({ type: 'openai', apiKey: 'sk-test-openai' });
    expect(config.providers.anthropic?.apiKey).toBe('sk-ant-test');
    expect(config.routes.fast).toEqual([
      { provider: 'openai', model: 'gpt-4o-mini' },
      { provider: 'anthropic', model: 'claude-3-5-haiku-latest' },
    ]);
    expect(config.routes['a-*']).toEqual({
      candidates: [{ provider: 'openai', model: 'gpt-4o' }],
      failover: 'resume',
      timeouts: { firstTokenMs: 5000, idleMs: 10000, totalMs: 60000 },
    });
  });

  it('should keep the routes in file order, so glob precedence is the file order', () => {
    const config = parseConfig(yamlConfig, { format: 'yaml', env });
    expect(Object.keys(config.routes)).toEqual(['fast', 'z-*', 'claude-*', 'a-*', '*']);
  });

  it('should parse the same config written as JSON, in the same order', () => {
    const json = JSON.stringify({
      providers: { openai: { type: 'openai', apiKey: '${OPENAI_API_KEY}' } },
      routes: {
        'z-*': [{ provider: 'openai', model: '$model' }],
        fast: [{ provider: 'openai', model: 'gpt-4o-mini' }],
        'a-*': [{ provider: 'openai', model: '$model' }],
      },
      server: { port: 9000, cors: { origins: ['http://localhost:3000'] } },
    });
    const config = parseConfig(json, { format: 'json', env });
    expect(config.providers.openai?.apiKey).toBe('sk-test-openai');
    expect(Object.keys(config.routes)).toEqual(['z-*', 'fast', 'a-*']);
    expect(config.server).toEqual({ port: 9000, cors: { origins: ['http://localhost:3000'] } });
  });

  it('should accept every section of the reference', () => {
    const config = parseConfig(
      minimal(`
defaults:
  strategy: least-latency
  retry: { maxAttempts: 3, initialDelayMs: 100, maxDelayMs: 1000, maxRetryAfterMs: 3000, jitter: equal }
  timeouts: { firstTokenMs: 10000 }
  failover: resume
  budgetUsd: 0.5
breaker: { errorThresholdPercentage: 40, volumeThreshold: 10, resetTimeout: 20000, rollingCountTimeout: 20000, rollingCountBuckets: 4, allowWarmUp: false }
cooldownMs: 2000
pricing:
  openai/gpt-4o-mini: { input: 0.1, output: 0.4 }
  my-model: { input: 1, output: 2, cachedInput: 0.5, cacheWrite: 1.25, reasoning: 2, tiers: [{ aboveInputTokens: 200000, prices: { input: 2 } }] }
sessions: { maxFinished: 50, finishedTtlMs: 60000, keepAliveMs: 1000 }
health: { intervalMs: 2000, windowMs: 30000, latencySamples: 100, probes: { intervalMs: 15000, timeoutMs: 5000, kind: healthCheck, closeBreakerOnSuccess: true } }
server: { host: 0.0.0.0, port: 8080, bodyLimitBytes: 1048576, cors: true, shutdownGraceMs: 5000, includeUsageByDefault: true }
auth: { keys: [key-one, key-two] }
logging: { level: debug, format: pretty }
`),
      { format: 'yaml', env: {} },
    );
    expect(config.defaults?.strategy).toBe('least-latency');
    expect(config.pricing?.['my-model']?.tiers).toEqual([
      { aboveInputTokens: 200000, prices: { input: 2 } },
    ]);
    expect(config.health?.probes?.kind).toBe('healthCheck');
    expect(config.server?.host).toBe('0.0.0.0');
    expect(config.auth?.keys).toEqual(['key-one', 'key-two']);
    expect(config.logging).toEqual({ level: 'debug', format: 'pretty' });
  });

  describe('environment variables', () => {
    it('should substitute ${VAR} in auth keys, headers and base URLs', () => {
      const config = parseConfig(
        `
providers:
  local:
    type: openai-compatible
    baseUrl: http://\${LOCAL_HOST}:11434/v1
    headers: { x-team: "\${TEAM}" }
routes:
  llama: [{ provider: local, model: llama3 }]
auth: { keys: ["\${GATEWAY_KEY}", literal-key] }
`,
        {
          format: 'yaml',
          env: { LOCAL_HOST: '127.0.0.1', TEAM: 'blue', GATEWAY_KEY: 'gw-secret' },
        },
      );
      expect(config.providers.local?.baseUrl).toBe('http://127.0.0.1:11434/v1');
      expect(config.providers.local?.headers).toEqual({ 'x-team': 'blue' });
      expect(config.auth?.keys).toEqual(['gw-secret', 'literal-key']);
    });

    it('should name the path and the variable when a variable is not set', () => {
      expect(problems(yamlConfig, { env: { ANTHROPIC_API_KEY: 'x' } })).toEqual([
        'providers.openai.apiKey: environment variable OPENAI_API_KEY is not set',
      ]);
    });

    it('should report an empty variable as empty, and every missing one at once', () => {
      expect(problems(yamlConfig, { env: { OPENAI_API_KEY: '' } })).toEqual([
        'providers.openai.apiKey: environment variable OPENAI_API_KEY is empty',
        'providers.anthropic.apiKey: environment variable ANTHROPIC_API_KEY is not set',
      ]);
    });

    it('should use the fallback of ${VAR:-fallback} and keep $${ and $model literal', () => {
      const config = parseConfig(
        minimal(`auth: { keys: ["\${MISSING:-dev-key}", "a$\${b}", "$model"] }`),
        { format: 'yaml', env: {} },
      );
      expect(config.auth?.keys).toEqual(['dev-key', 'a${b}', '$model']);
    });

    it('should reject a reference that is not a variable name', () => {
      expect(problems(minimal('auth: { keys: ["${1X}"] }'), { env: {} })).toEqual([
        'auth.keys[0]: ${1X} is not a valid environment variable reference (expected ${NAME} or ${NAME:-default})',
      ]);
    });

    it('should name the file in the error message', () => {
      const error = errorOf(yamlConfig, { env: {} });
      expect(error.message).toMatch(/^Invalid config file test\.yaml: providers\.openai\.apiKey: /);
      expect(error.code).toBe('RXLLM_VALIDATION');
    });
  });

  describe('error messages', () => {
    it('should name an unknown provider in a route, with "did you mean"', () => {
      const text = `
providers:
  openai: { type: openai, apiKey: k }
  anthropic: { type: anthropic, apiKey: k }
routes:
  fast:
    - { provider: openai, model: gpt-4o-mini }
    - { provider: anthropc, model: claude-3-5-haiku-latest }
`;
      expect(problems(text)).toEqual([
        'routes.fast[1].provider: unknown provider "anthropc" (did you mean "anthropic"?)',
      ]);
    });

    it('should list the known providers when no name is close, with the candidates path', () => {
      const text = `
providers:
  openai: { type: openai, apiKey: k }
routes:
  smart:
    candidates: [{ provider: mistral, model: large }]
    failover: resume
`;
      expect(problems(text)).toEqual([
        'routes.smart.candidates[0].provider: unknown provider "mistral" (known: openai)',
      ]);
    });

    it('should reject an unknown top-level key, suggesting the right one', () => {
      expect(problems(minimal('default: { strategy: priority }'))).toEqual([
        'default: unknown key (did you mean "defaults"?)',
      ]);
    });

    it('should reject an unknown nested key, suggesting the right one', () => {
      const text = `
providers:
  openai: { type: openai, apiKey: k, baseURL: "http://x/v1" }
routes:
  fast: [{ provider: openai, model: m, wieght: 2 }]
server: { prot: 80 }
`;
      expect(problems(text)).toEqual([
        'providers.openai.baseURL: unknown key (did you mean "baseUrl"?)',
        'routes.fast[0].wieght: unknown key (did you mean "weight"?)',
        'server.prot: unknown key (did you mean "port"?)',
      ]);
    });

    it('should list the accepted keys when an unknown key is not close to any', () => {
      expect(problems(minimal('logging: { colour: true }'))).toEqual([
        'logging.colour: unknown key (expected one of: level, format)',
      ]);
    });

    it('should reject a mistyped provider type, suggesting the right one', () => {
      const text = `
providers:
  openai: { type: opneai, apiKey: k }
routes:
  fast: [{ provider: openai, model: m }]
`;
      expect(problems(text)).toEqual([
        'providers.openai.type: expected one of "openai", "anthropic", "google", "openai-compatible", got "opneai" (did you mean "openai"?)',
      ]);
    });

    it('should reject a mistyped strategy and failover policy', () => {
      const text = minimal(`defaults: { strategy: round-robbin, failover: resum }`);
      expect(problems(text)).toEqual([
        'defaults.strategy: expected one of "priority", "round-robin", "weighted", "least-latency", "cheapest", got "round-robbin" (did you mean "round-robin"?)',
        'defaults.failover: expected one of "error", "resume", got "resum" (did you mean "resume"?)',
      ]);
    });

    it('should name wrong types and missing fields', () => {
      const text = `
providers:
  openai: { type: openai, apiKey: k }
routes:
  fast: [{ provider: openai }]
server: { port: "8080" }
`;
      expect(problems(text)).toEqual([
        'routes.fast[0].model: required (string)',
        'server.port: expected number, received string',
      ]);
    });

    it('should report problems inside an object route and its options', () => {
      const text = minimal(`
  slow:
    candidates: [{ provider: openai, model: m }]
    retry: { maxAttempts: 0 }
    timeouts: { firstTokenMs: -5 }
`).replace(
        'routes:\n  fast: [{ provider: openai, model: gpt-4o-mini }]\n',
        'routes:\n  fast: [{ provider: openai, model: gpt-4o-mini }]',
      );
      const lines = problems(text);
      expect(lines).toHaveLength(2);
      expect(lines[0]).toMatch(/^routes\.slow\.retry\.maxAttempts: Too small/);
      expect(lines[1]).toMatch(/^routes\.slow\.timeouts\.firstTokenMs: Too small/);
    });

    it('should explain a route that is neither a list nor an object', () => {
      expect(
        problems(
          minimal('').replace('fast: [{ provider: openai, model: gpt-4o-mini }]', 'fast: 42'),
        ),
      ).toEqual(['routes.fast: expected array or object, got number 42']);
    });

    it('should point at a misspelled candidates key of an object route', () => {
      const text = minimal(`
  slow:
    candidate: [{ provider: openai, model: m }]
    strategy: cheapest
`).replace(
        'routes:\n  fast: [{ provider: openai, model: gpt-4o-mini }]\n',
        'routes:\n  fast: [{ provider: openai, model: gpt-4o-mini }]',
      );
      expect(problems(text)).toEqual([
        'routes.slow.candidates: required (array)',
        'routes.slow.candidate: unknown key (did you mean "candidates"?)',
      ]);
    });

    it('should reject a route without candidates', () => {
      expect(
        problems(
          minimal('').replace('fast: [{ provider: openai, model: gpt-4o-mini }]', 'fast: []'),
        ),
      ).toEqual(['routes.fast: a route needs at least one candidate']);
    });

    it('should require an API key for openai, anthropic and google, naming a variable to use', () => {
      const text = `
providers:
  my-openai: { type: openai }
  google: { type: google, apiKey: k }
routes:
  fast: [{ provider: my-openai, model: m }]
`;
      expect(problems(text)).toEqual([
        'providers.my-openai.apiKey: required for type "openai" (e.g. apiKey: ${MY_OPENAI_API_KEY})',
      ]);
    });

    it('should require a base URL for openai-compatible and check every URL', () => {
      const text = `
providers:
  vllm: { type: openai-compatible }
  other: { type: openai, apiKey: k, baseUrl: "not a url" }
  ftp: { type: anthropic, apiKey: k, baseUrl: "ftp://host" }
  creds: { type: google, apiKey: k, baseUrl: "https://user:pw@host" }
routes:
  fast: [{ provider: vllm, model: m }]
`;
      expect(problems(text)).toEqual([
        'providers.vllm.baseUrl: required for type "openai-compatible" (e.g. http://localhost:11434/v1)',
        'providers.other.baseUrl: expected an absolute http(s) URL, got "not a url"',
        'providers.ftp.baseUrl: expected http: or https:, got ftp:',
        'providers.creds.baseUrl: credentials in the URL are not allowed (use apiKey or headers)',
      ]);
    });

    it('should reject options that belong to another provider type', () => {
      const text = `
providers:
  claude: { type: anthropic, apiKey: k, organization: org-1 }
  gpt: { type: openai, apiKey: k, version: "2023-06-01" }
routes:
  fast: [{ provider: gpt, model: m }]
`;
      expect(problems(text)).toEqual([
        'providers.claude.organization: only for type "openai", not "anthropic"',
        'providers.gpt.version: only for type "anthropic", not "openai"',
      ]);
    });

    it('should require providers and routes, and at least one of each', () => {
      expect(problems('logging: { level: info }')).toEqual([
        'providers: required (record)',
        'routes: required (record)',
      ]);
      expect(problems('providers: {}\nroutes: {}')).toEqual([
        'providers: at least one provider is required',
        'routes: at least one route is required',
      ]);
    });

    it('should reject negative prices and a bad log level', () => {
      const lines = problems(
        minimal('pricing: { gpt-4o: { input: -1 } }\nlogging: { level: loud }'),
      );
      expect(lines[0]).toMatch(/^pricing\.gpt-4o\.input: Too small/);
      expect(lines[1]).toBe(
        'logging.level: expected one of "error", "warn", "info", "http", "verbose", "debug", "silly", got "loud"',
      );
    });

    it('should explain a retry that is neither false nor an object', () => {
      expect(problems(minimal('defaults: { retry: true }'))).toEqual([
        'defaults.retry: expected false or object, got boolean true',
      ]);
    });
  });

  describe('syntax', () => {
    it('should report a YAML syntax error with its line', () => {
      const lines = problems('providers:\n  openai: { type: openai\nroutes: x\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(/^invalid YAML at line 3, column \d+: \S/);
    });

    it('should reject duplicate YAML keys', () => {
      const lines = problems(minimal('cooldownMs: 1\ncooldownMs: 2'));
      expect(lines[0]).toMatch(/^invalid YAML at line 7, column 1: Map keys must be unique$/);
    });

    it('should report invalid JSON', () => {
      expect(problems('{"providers": ', { format: 'json' })[0]).toMatch(/^invalid JSON: /);
    });

    it('should reject an empty file and a top level that is not a mapping', () => {
      expect(problems('')).toEqual(['the file is empty; expected at least providers and routes']);
      expect(problems('- a\n- b')).toEqual([
        'expected a mapping with providers, routes, ... at the top level',
      ]);
    });

    it('should ignore a byte-order mark', () => {
      const config = parseConfig(`\uFEFF${minimal('')}`, { format: 'yaml', env: {} });
      expect(Object.keys(config.routes)).toEqual(['fast']);
    });

    it('should keep a __proto__ key a plain (unknown) key', () => {
      const lines = problems('{"__proto__": {"x": 1}, "providers": {}, "routes": {}}', {
        format: 'json',
      });
      expect(lines).toContain(
        '__proto__: unknown key (expected one of: providers, routes, defaults, breaker, cooldownMs, pricing, sessions, health, server, auth, logging)',
      );
      expect(({} as Record<string, unknown>).x).toBeUndefined();
    });
  });
});
