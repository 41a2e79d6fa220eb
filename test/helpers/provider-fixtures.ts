import { createServer } from 'node:net';
import { lastValueFrom, tap, toArray, type Observable } from 'rxjs';
import type { StreamFormat, StreamingChunk } from '../../src/chunk/streaming-chunk';
import { isRouterError, type RouterError } from '../../src/errors/router-error';
import type { Provider } from '../../src/providers/provider';
import { anthropic } from '../../src/providers/http/anthropic-provider';
import type { HttpProviderOptions } from '../../src/providers/http/create-http-provider';
import { google } from '../../src/providers/http/google-provider';
import { openai } from '../../src/providers/http/openai-provider';
import { openaiCompatible } from '../../src/providers/http/openai-compatible-provider';
import type { ChatRequest } from '../../src/request/chat-request';
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
} from './leaks';

/**
 * Fixtures for the HTTP provider tests that run against the simulator: building each provider
 * pointed at it, starting and closing it with leak checks around the file, building requests and
 * collecting what a stream emitted.
 *
 * ```ts
 * const env = useProviderSimulator({ keys: keysPerProvider('faults') });
 *
 * it.each(PROVIDER_KINDS)('should stream (%s)', async (kind) => {
 *   const { error, text } = await runStream(env.provider(kind).stream(chatRequest('m')));
 *   expect(error).toBeUndefined();
 * });
 * ```
 */

/** The HTTP providers under test: the three native formats and a generic OpenAI-compatible one. */
export type ProviderKind = 'openai' | 'anthropic' | 'google' | 'openaiCompatible';

/** Every {@link ProviderKind}, for `it.each`. */
export const PROVIDER_KINDS: readonly ProviderKind[] = [
  'openai',
  'anthropic',
  'google',
  'openaiCompatible',
];

/** The wire format each kind of provider speaks. */
export const FORMAT_OF: Record<ProviderKind, StreamFormat> = {
  openai: 'openai',
  anthropic: 'anthropic',
  google: 'google',
  openaiCompatible: 'openai',
};

/** The API key each provider sends; the OpenAI-compatible one sends none unless given one. */
export type ProviderKeys = Record<StreamFormat, string> & { openaiCompatible?: string };

/**
 * Keys that look like each vendor's and name the test file: `sk-<tag>-<suffix>`,
 * `sk-ant-<tag>-<suffix>` and `AIza-<tag>-<suffix>`. The OpenAI-compatible provider gets none.
 */
export function keysPerProvider(tag: string, suffix = '0123456789'): ProviderKeys {
  return {
    openai: `sk-${tag}-${suffix}`,
    anthropic: `sk-ant-${tag}-${suffix}`,
    google: `AIza-${tag}-${suffix}`,
  };
}

/** The same key for every provider, the OpenAI-compatible one included. */
export function oneKeyForAll(apiKey: string): ProviderKeys {
  return { openai: apiKey, anthropic: apiKey, google: apiKey, openaiCompatible: apiKey };
}

/** How to build one provider of the tests. */
export interface TestProviderOptions extends HttpProviderOptions {
  /** The server's origin, without `/v1` (added for the OpenAI-style providers). */
  origin: string;
  keys: ProviderKeys;
  /** The name of the OpenAI-compatible provider. Default `compat`. */
  compatName?: string;
}

/** A provider of `kind` pointed at `origin`. The caller closes it. */
export function createTestProvider(kind: ProviderKind, options: TestProviderOptions): Provider {
  const { origin, keys, compatName = 'compat', ...http } = options;
  switch (kind) {
    case 'openai':
      return openai({ apiKey: keys.openai, baseURL: `${origin}/v1`, ...http });
    case 'anthropic':
      return anthropic({ apiKey: keys.anthropic, baseURL: origin, ...http });
    case 'google':
      return google({ apiKey: keys.google, baseURL: origin, ...http });
    case 'openaiCompatible':
      return openaiCompatible({
        name: compatName,
        baseURL: `${origin}/v1`,
        ...(keys.openaiCompatible === undefined ? {} : { apiKey: keys.openaiCompatible }),
        ...http,
      });
  }
}

/** Options of {@link useProviderSimulator}. */
export interface ProviderSimulatorOptions {
  /** The keys the providers of {@link ProviderSimulator.provider} send. */
  keys: ProviderKeys;
  /** The name of the OpenAI-compatible provider. Default `compat`. */
  compatName?: string;
  /** How to start the simulator. */
  simulator?: SimulatorOptions;
}

/** What {@link useProviderSimulator} gives a test file. */
export interface ProviderSimulator {
  /** The running simulator (from `beforeAll` on). */
  readonly sim: Simulator;
  /**
   * `performance.now()` just before and just after the simulator started: the origin of its
   * clock (`AttemptRecord.time` and the like) lies between the two.
   */
  readonly startedAfter: number;
  readonly startedBefore: number;
  /**
   * A provider of `kind` pointed at `origin` (the simulator by default), with the file's keys;
   * closed after the file.
   */
  provider(kind: ProviderKind, options?: HttpProviderOptions & { origin?: string }): Provider;
  /** Closes `provider` after the file, with the others. */
  track(provider: Provider): Provider;
  /** Runs `close` after the simulator closed, before the leak check (for extra servers). */
  onTeardown(close: () => Promise<void> | void): void;
}

/**
 * Registers the `beforeAll` and `afterAll` hooks of a provider test file: a handle baseline and
 * an unhandled-rejection capture, then the simulator; at the end, every provider it made is
 * closed, then the simulator, then whatever {@link ProviderSimulator.onTeardown} added, and the
 * file must have leaked no handle. Call it at the top of the file, before the file's own hooks.
 */
export function useProviderSimulator(options: ProviderSimulatorOptions): ProviderSimulator {
  let sim: Simulator | undefined;
  let startedAfter = 0;
  let startedBefore = 0;
  let baseline: HandleCounts;
  let rejections: RejectionCapture;
  const providers: Provider[] = [];
  const teardowns: (() => Promise<void> | void)[] = [];

  const env: ProviderSimulator = {
    get sim(): Simulator {
      if (sim === undefined) throw new Error('The simulator starts in beforeAll');
      return sim;
    },
    get startedAfter(): number {
      return startedAfter;
    },
    get startedBefore(): number {
      return startedBefore;
    },
    provider(kind, { origin = env.sim.url, ...http } = {}) {
      return env.track(
        createTestProvider(kind, {
          origin,
          keys: options.keys,
          ...(options.compatName === undefined ? {} : { compatName: options.compatName }),
          ...http,
        }),
      );
    },
    track(provider) {
      providers.push(provider);
      return provider;
    },
    onTeardown(close) {
      teardowns.push(close);
    },
  };

  beforeAll(async () => {
    baseline = countHandles();
    rejections = captureUnhandledRejections();
    startedAfter = performance.now();
    sim = await startSimulator(options.simulator);
    startedBefore = performance.now();
  });

  afterAll(async () => {
    await Promise.all(
      providers.map(async (provider) => {
        await provider.close?.();
      }),
    );
    await env.sim.close();
    for (const close of teardowns) await close();
    rejections.stop();
    await expectNoLeakedHandles(baseline);
  });

  return env;
}

/** A one-message chat request: the user says `prompt`. */
export function chatRequest(
  model: string,
  prompt = 'Hello',
  extra: Partial<ChatRequest> = {},
): ChatRequest {
  return { model, messages: [{ role: 'user', content: prompt }], ...extra };
}

/** The text a chunk carries, over all its choices. */
export function chunkText(chunk: StreamingChunk): string {
  return chunk.choices.map((choice) => choice.delta.content ?? '').join('');
}

/** What a stream emitted, and how it ended. */
export interface StreamOutcome {
  chunks: StreamingChunk[];
  /** The chunks that carried text. */
  contentChunks: number;
  text: string;
  /** Undefined when the stream completed. */
  error: RouterError | undefined;
  elapsedMs: number;
}

/**
 * Runs a stream to its end and reports what it emitted and how it ended. A failure that is not a
 * RouterError rejects.
 */
export async function runStream(stream$: Observable<StreamingChunk>): Promise<StreamOutcome> {
  const chunks: StreamingChunk[] = [];
  const started = performance.now();
  let error: RouterError | undefined;
  await lastValueFrom(
    stream$.pipe(
      tap((chunk) => chunks.push(chunk)),
      toArray(),
    ),
  ).catch((e: unknown) => {
    if (!isRouterError(e)) throw e;
    error = e;
  });
  const texts = chunks.map(chunkText);
  return {
    chunks,
    contentChunks: texts.filter((t) => t !== '').length,
    text: texts.join(''),
    error,
    elapsedMs: performance.now() - started,
  };
}

/** The error `stream$` fails with (or its last value, should it complete). */
export function streamError(stream$: Observable<StreamingChunk>): Promise<unknown> {
  return lastValueFrom(stream$).catch((e: unknown) => e);
}

/** The simulator's record of the latest attempt `predicate` holds for, once it has ended. */
export function latestEndedAttempt(
  sim: Simulator,
  predicate: (a: AttemptRecord) => boolean,
): Promise<AttemptRecord> {
  const last = [...sim.attempts].reverse().find(predicate);
  if (last === undefined) throw new Error('No such attempt');
  return sim.waitForAttempt((a) => a.id === last.id && a.outcome !== 'in-progress', {
    timeoutMs: 2000,
  });
}

/** A port nothing listens on: bound, then closed. */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

export const sleep = (ms: number): Promise<void> =>
  new Promise((resolve) => {
    setTimeout(resolve, ms);
  });
