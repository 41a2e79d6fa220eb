import { Writable } from 'node:stream';
import OpenAI from 'openai';
import type { Logger } from 'winston';
import { startGateway, type Gateway, type GatewayOptions } from '../../src/gateway/index';
import { createLogger } from '../../src/logging/index';
import type { Provider } from '../../src/providers/provider';
import { createRouter } from '../../src/router/create-router';
import type { Router } from '../../src/router/router';
import type { RouterConfig } from '../../src/router/router-config';
import {
  startSimulator,
  type AttemptRecord,
  type Simulator,
  type SimulatorOptions,
} from '../../src/simulator/index';
import {
  captureUnhandledRejections,
  countHandles,
  expectNoLeakedHandles,
  type HandleCounts,
  type RejectionCapture,
} from '../helpers/leaks';
import {
  createTestProvider,
  keysPerProvider,
  type ProviderKind,
} from '../helpers/provider-fixtures';

/**
 * Fixtures of the gateway tests: a simulator, a router whose providers point at it, the gateway
 * in front, the official OpenAI SDK pointed at the gateway, and the gateway's log lines captured.
 *
 * ```ts
 * const env = useGateway({ routes: { fast: [{ provider: 'openai', model: 'gpt-4o-mini' }] } });
 * it('should answer', async () => {
 *   const completion = await env.client.chat.completions.create({ model: 'fast', messages });
 * });
 * ```
 */

/** The provider keys of the gateway tests: secrets that must never reach a log line. */
export const PROVIDER_KEYS = keysPerProvider('gateway', 'SECRETSECRET');

/** The routes of most tests: an alias with two candidates, and globs passing the name through. */
export const DEFAULT_ROUTES: RouterConfig['routes'] = {
  fast: [
    { provider: 'openai', model: 'gpt-4o-mini' },
    { provider: 'anthropic', model: 'claude-sonnet-4-5' },
  ],
  'gpt-*': [{ provider: 'openai', model: '$model' }],
  'claude-*': [{ provider: 'anthropic', model: '$model' }],
  'gemini-*': [{ provider: 'google', model: '$model' }],
  'sim-fault-*': [{ provider: 'openai', model: '$model' }],
};

export interface UseGatewayOptions {
  simulator?: SimulatorOptions;
  routes?: RouterConfig['routes'];
  /** Router options beyond providers and routes. */
  router?: Omit<RouterConfig, 'providers' | 'routes'>;
  /** Extra providers (beyond openai, anthropic, google and compat on the simulator). */
  providers?: (sim: Simulator) => Record<string, Provider>;
  gateway?: Omit<GatewayOptions, 'router' | 'port' | 'logger'>;
  /** The gateway's log level. Default 'info'. */
  logLevel?: string;
}

export interface GatewayEnv {
  readonly sim: Simulator;
  readonly router: Router;
  readonly gateway: Gateway;
  readonly url: string;
  /** The OpenAI SDK, pointed at the gateway, never retrying. */
  readonly client: OpenAI;
  /** Every log line the gateway wrote, raw. */
  readonly logText: () => string;
  /** The log lines, parsed. */
  readonly logs: () => Record<string, unknown>[];
  /** The log line of the request with this `x-request-id` / session id, once written. */
  logFor(predicate: (line: Record<string, unknown>) => boolean): Promise<Record<string, unknown>>;
  /** Runs at the end of the file, before the gateway, the router and the simulator close. */
  onTeardown(fn: () => Promise<void> | void): void;
}

/** A writable that keeps what it is given, for a logger's `stream`. */
export function captureStream(): { stream: Writable; text: () => string } {
  const parts: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer | string, _encoding, callback) {
      parts.push(typeof chunk === 'string' ? chunk : chunk.toString('utf8'));
      callback();
    },
  });
  return { stream, text: () => parts.join('') };
}

/** The generation attempts the simulator saw for `model`, in order. */
export function attemptsFor(sim: Simulator, model: string): AttemptRecord[] {
  return sim.attempts.filter((a) => a.endpoint === 'chat' && a.model === model);
}

/** The gaps between successive attempts' arrival times, ms. */
export function gaps(attempts: readonly AttemptRecord[]): number[] {
  return attempts.slice(1).map((a, i) => a.time - attempts[i]!.time);
}

/** A provider of `kind` on the simulator with the test keys. */
export function simProvider(sim: Simulator, kind: ProviderKind): Provider {
  return createTestProvider(kind, { origin: sim.url, keys: PROVIDER_KEYS });
}

/**
 * Registers `beforeAll`/`afterAll`: leak baseline and rejection capture, then the simulator, the
 * router and the gateway; at the end the teardowns run, then the gateway, the router (and its
 * providers) and the simulator close, and no handle may be left.
 */
export function useGateway(options: UseGatewayOptions = {}): GatewayEnv {
  let sim: Simulator | undefined;
  let router: Router | undefined;
  let gateway: Gateway | undefined;
  let client: OpenAI | undefined;
  let baseline: HandleCounts;
  let rejections: RejectionCapture;
  const capture = captureStream();
  const teardowns: (() => Promise<void> | void)[] = [];
  const need = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error('The gateway starts in beforeAll');
    return value;
  };
  const parse = (): Record<string, unknown>[] =>
    capture
      .text()
      .split('\n')
      .filter((line) => line.trim() !== '')
      .map((line) => JSON.parse(line) as Record<string, unknown>);

  const env: GatewayEnv = {
    get sim() {
      return need(sim);
    },
    get router() {
      return need(router);
    },
    get gateway() {
      return need(gateway);
    },
    get url() {
      return need(gateway).url;
    },
    get client() {
      return need(client);
    },
    logText: () => capture.text(),
    logs: parse,
    async logFor(predicate) {
      for (let i = 0; i < 200; i++) {
        const line = parse().find(predicate);
        if (line !== undefined) return line;
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      throw new Error('No such log line');
    },
    onTeardown(fn) {
      teardowns.push(fn);
    },
  };

  beforeAll(async () => {
    baseline = countHandles();
    rejections = captureUnhandledRejections();
    sim = await startSimulator(options.simulator);
    const s = sim;
    const providers: Record<string, Provider> = {
      openai: simProvider(s, 'openai'),
      anthropic: simProvider(s, 'anthropic'),
      google: simProvider(s, 'google'),
      compat: simProvider(s, 'openaiCompatible'),
      ...options.providers?.(s),
    };
    router = createRouter({
      ...options.router,
      providers,
      routes: options.routes ?? DEFAULT_ROUTES,
    });
    const logger: Logger = createLogger({
      level: options.logLevel ?? 'info',
      stream: capture.stream,
    });
    gateway = await startGateway({ ...options.gateway, router, port: 0, logger });
    client = new OpenAI({
      apiKey: 'sk-client-key-0000',
      baseURL: `${gateway.url}/v1`,
      maxRetries: 0,
    });
  });

  afterAll(async () => {
    for (const fn of teardowns) await fn();
    await gateway?.close({ graceMs: 0 });
    await router?.close();
    await sim?.close();
    rejections.stop();
    await expectNoLeakedHandles(baseline);
  });

  return env;
}

/** A chat request body. */
export function chatBody(
  model: string,
  extra: Record<string, unknown> = {},
  prompt = 'Hello',
): Record<string, unknown> {
  return { model, messages: [{ role: 'user', content: prompt }], ...extra };
}

/** POSTs `body` (an object, or raw text or bytes) to the gateway's chat completions endpoint. */
export function postChat(
  url: string,
  body: unknown,
  headers: Record<string, string> = {},
  signal?: AbortSignal,
): Promise<Response> {
  return fetch(`${url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body:
      typeof body === 'string'
        ? body
        : body instanceof Uint8Array
          ? Uint8Array.from(body) // a copy over a plain ArrayBuffer, as BodyInit wants
          : JSON.stringify(body),
    ...(signal === undefined ? {} : { signal }),
  });
}

/** One server-sent event: its `id:` (if any) and parsed `data:` (or the raw `[DONE]`). */
export interface SseEvent {
  id: string | undefined;
  data: unknown;
}

/** Parses a whole SSE body into events. */
export function parseSse(text: string): SseEvent[] {
  return text
    .split('\n\n')
    .filter((block) => block.trim() !== '')
    .map((block) => {
      let id: string | undefined;
      const data: string[] = [];
      for (const line of block.split('\n')) {
        if (line.startsWith('id: ')) id = line.slice(4);
        else if (line.startsWith('data: ')) data.push(line.slice(6));
      }
      const joined = data.join('\n');
      return { id, data: joined === '[DONE]' ? '[DONE]' : (JSON.parse(joined) as unknown) };
    });
}

/** The text of the chunks among `events`. */
export function sseText(events: readonly SseEvent[]): string {
  return events
    .map((e) => {
      const choices = (e.data as { choices?: { delta?: { content?: string | null } }[] }).choices;
      return choices?.map((c) => c.delta?.content ?? '').join('') ?? '';
    })
    .join('');
}
