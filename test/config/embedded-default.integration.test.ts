import { lastValueFrom, toArray } from 'rxjs';
import { buildRouterConfig } from '../../src/config/build-router-config';
import { startEmbeddedDefault, type EmbeddedDefault } from '../../src/config/embedded-default';
import { loadGatewayConfig } from '../../src/config/load-gateway-config';
import { createRouter } from '../../src/router/create-router';
import type { Router } from '../../src/router/router';
import { expectedText } from '../../src/simulator/plan-answer';
import {
  captureUnhandledRejections,
  countHandles,
  expectNoLeakedHandles,
  type HandleCounts,
  type RejectionCapture,
} from '../helpers/leaks';

let embedded: EmbeddedDefault;
let router: Router;
let baseline: HandleCounts;
let rejections: RejectionCapture;

beforeAll(async () => {
  baseline = countHandles();
  rejections = captureUnhandledRejections();
  embedded = await startEmbeddedDefault({ tokensPerSecond: Infinity });
  router = createRouter(buildRouterConfig(embedded.config));
});

afterAll(async () => {
  await router.close();
  await embedded.close();
  rejections.stop();
  await expectNoLeakedHandles(baseline);
});

const request = (model: string): Record<string, unknown> => ({
  model,
  messages: [{ role: 'user', content: 'What is a cold Observable?' }],
});

describe('the embedded default (built-in simulator)', () => {
  it.each([
    ['fast', 'openai', 'gpt-4o-mini'],
    ['smart', 'openai', 'gpt-4o'],
    ['gpt-4.1-nano', 'openai', 'gpt-4.1-nano'],
    ['claude-sonnet-4-5', 'anthropic', 'claude-sonnet-4-5'],
    ['gemini-2.5-flash', 'google', 'gemini-2.5-flash'],
  ])('should route %s to %s/%s', async (model, provider, served) => {
    const chunks = await lastValueFrom(router.stream(request(model)).pipe(toArray()));
    const text = chunks.map((c) => c.choices[0]?.delta.content ?? '').join('');
    expect(text).toBe(expectedText('openai', request(model)));
    expect(new Set(chunks.map((c) => c.provider))).toEqual(new Set([provider]));
    expect(chunks.at(-1)?.model).toBe(served);
  });

  it('should resume a cut answer on anthropic for sim-fault-* models, exactly', async () => {
    const chunks = await lastValueFrom(
      router.stream(request('sim-fault-reset-after-5')).pipe(toArray()),
    );
    const text = chunks.map((c) => c.choices[0]?.delta.content ?? '').join('');
    expect(text).toBe(expectedText('openai', request('sim-fault-reset-after-5')));
    expect(chunks.find((c) => c.provider === 'anthropic')).toBeDefined();
    expect(
      embedded.simulator.attempts
        .filter((a) => a.endpoint === 'chat')
        .map((a) => a.format)
        .slice(-2),
    ).toEqual(['openai', 'anthropic']);
  });

  it('should list its routes in order', () => {
    expect(router.models().map((m) => m.id)).toEqual([
      'fast',
      'smart',
      'gpt-*',
      'claude-*',
      'gemini-*',
      'sim-fault-*',
    ]);
  });

  it('should be what loadGatewayConfig starts when no config file is found', async () => {
    const loaded = await loadGatewayConfig({ cwd: __dirname, env: {} });
    try {
      expect(loaded.source).toBe('built-in simulator');
      expect(loaded.simulator?.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(loaded.config.providers.openai?.baseUrl).toBe(`${loaded.simulator?.url ?? ''}/v1`);
    } finally {
      await loaded.close();
    }
  });
});
