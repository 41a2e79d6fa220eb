import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildRouterConfig } from '../../src/config/build-router-config';
import { parseConfig } from '../../src/config/parse-config';
import type { HttpProvider } from '../../src/providers/http/create-http-provider';
import { validateRouterConfig } from '../../src/router/router-config';

// docs/config.md's full example must stay valid: it is parsed here as a user would load it.
const doc = readFileSync(join(__dirname, '..', '..', 'docs', 'config.md'), 'utf8');
const example = /## A full example[\s\S]*?```yaml\n([\s\S]*?)```/.exec(doc)?.[1] ?? '';

const env = {
  OPENAI_API_KEY: 'sk-doc-openai',
  ANTHROPIC_API_KEY: 'sk-ant-doc',
  GEMINI_API_KEY: 'AIza-doc',
  GATEWAY_KEY: 'gw-doc-key',
};

it('should parse the full example of docs/config.md and build a router config from it', async () => {
  expect(example).toContain('providers:');
  const config = parseConfig(example, { format: 'yaml', env, source: 'docs/config.md' });
  expect(Object.keys(config.providers)).toEqual(['openai', 'anthropic', 'google', 'local']);
  expect(config.providers.local?.baseUrl).toBe('http://127.0.0.1:11434/v1');
  expect(Object.keys(config.routes)).toEqual([
    'fast',
    'smart',
    'balanced',
    'gpt-*',
    'claude-*',
    'gemini-*',
    '*',
  ]);
  expect(config.auth?.keys).toEqual(['gw-doc-key']);
  const routerConfig = buildRouterConfig(config);
  try {
    expect(() => {
      validateRouterConfig(routerConfig);
    }).not.toThrow();
    expect(routerConfig.pricing?.resolve('local', 'llama3.1')).toMatchObject({ priced: true });
  } finally {
    await Promise.all(
      Object.values(routerConfig.providers).map((p) => (p as HttpProvider).close()),
    );
  }
});
