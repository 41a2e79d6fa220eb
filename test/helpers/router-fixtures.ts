import type { IncomingMessage } from 'node:http';
import { lastValueFrom, tap, toArray, type Observable, type Subscription } from 'rxjs';
import type { StreamingChunk } from '../../src/chunk/streaming-chunk';
import type { HttpProviderOptions } from '../../src/providers/http/create-http-provider';
import type { Provider } from '../../src/providers/provider';
import { createRouter } from '../../src/router/create-router';
import type { Router } from '../../src/router/router';
import type { RouterConfig } from '../../src/router/router-config';
import type { RouterEvent } from '../../src/router/router-events';
import type { CandidateHealth } from '../../src/health/health-snapshot';
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
import {
  chunkText,
  createTestProvider,
  type ProviderKeys,
  type ProviderKind,
} from './provider-fixtures';

/**
 * Fixtures for the router's integration tests: one simulator per file, routers whose providers
 * point at it, and the checks every test ends with (router closed, no connection left on the
 * simulator, no handle left beyond the simulator's own).
 *
 * ```ts
 * const env = useRouterSimulator({ keys: keysPerProvider('router-x') });
 *
 * it('should ...', async () => {
 *   const t = env.router({
 *     providers: { openai: env.provider('openai'), anthropic: env.provider('anthropic') },
 *     routes: { fast: [{ provider: 'openai', model: 'sim-fault-status-503' }, { provider: 'anthropic', model: 'claude-sonnet-4-5' }] },
 *   });
 *   const run = await runRouted(t.router.stream(chatRequest('fast')));
 *   // ... assertions on run, env.sim.attempts, t.events, t.router.health() ...
 *   await env.closeRouter(t); // no socket, no timer left
 * });
 * ```
 */

/** A router made by {@link RouterSimulator.router}, with every event it emitted. */
export interface TestRouter {
  readonly router: Router;
  /** Every `router.events$` event, oldest first (recorded from creation to `close()`). */
  readonly events: RouterEvent[];
}

/** Options of {@link useRouterSimulator}. */
export interface RouterSimulatorOptions {
  /** The keys the providers of {@link RouterSimulator.provider} send. */
  keys: ProviderKeys;
  /** How to start the simulator. */
  simulator?: SimulatorOptions;
}

/** What {@link useRouterSimulator} gives a test file. */
export interface RouterSimulator {
  /** The running simulator (from `beforeAll` on). */
  readonly sim: Simulator;
  /**
   * A provider of `kind` pointed at the simulator, with the file's keys. It is not tracked: give
   * it to a router made by {@link RouterSimulator.router}, which closes it.
   */
  provider(kind: ProviderKind, options?: HttpProviderOptions): Provider;
  /** `createRouter(config)`, its events recorded; closed after the test if the test did not. */
  router(config: RouterConfig): TestRouter;
  /**
   * Closes the router (and its providers), then fails unless the simulator has no connection
   * left and no handle is open beyond those the file had with the simulator idle.
   */
  closeRouter(t: TestRouter): Promise<void>;
}

/**
 * Registers the hooks of a router test file: a handle baseline and an unhandled-rejection
 * capture, then the simulator, then a second baseline (the simulator listening, no connection)
 * that {@link RouterSimulator.closeRouter} checks each test against. After each test, routers
 * left open are closed; after the file, the simulator is closed and nothing may be left.
 */
export function useRouterSimulator(options: RouterSimulatorOptions): RouterSimulator {
  let sim: Simulator | undefined;
  let fileBaseline: HandleCounts;
  let idleBaseline: HandleCounts;
  let rejections: RejectionCapture;
  const open = new Map<TestRouter, Subscription>();

  const close = async (t: TestRouter): Promise<void> => {
    await t.router.close();
    open.get(t)?.unsubscribe();
    open.delete(t);
  };

  const env: RouterSimulator = {
    get sim(): Simulator {
      if (sim === undefined) throw new Error('The simulator starts in beforeAll');
      return sim;
    },
    provider(kind, http = {}) {
      return createTestProvider(kind, { origin: env.sim.url, keys: options.keys, ...http });
    },
    router(config) {
      const router = createRouter(config);
      const t: TestRouter = { router, events: [] };
      open.set(
        t,
        router.events$.subscribe((event) => t.events.push(event)),
      );
      return t;
    },
    async closeRouter(t) {
      await close(t);
      await expectNoConnections(env.sim);
      await expectNoLeakedHandles(idleBaseline);
    },
  };

  beforeAll(async () => {
    fileBaseline = countHandles();
    rejections = captureUnhandledRejections();
    sim = await startSimulator(options.simulator);
    idleBaseline = countHandles();
  });

  afterEach(async () => {
    await Promise.all([...open.keys()].map(close));
  });

  afterAll(async () => {
    await Promise.all([...open.keys()].map(close));
    await env.sim.close();
    rejections.stop();
    await expectNoLeakedHandles(fileBaseline);
  });

  return env;
}

/** How many connections the simulator's server has open now. */
export function simulatorConnections(sim: Simulator): Promise<number> {
  return new Promise((resolve, reject) => {
    sim.server.getConnections((error, count) => {
      if (error) reject(error);
      else resolve(count);
    });
  });
}

/**
 * Fails unless, within `timeoutMs`, the simulator has no open connection: every socket the
 * providers opened was closed, and the simulator saw it close.
 */
export async function expectNoConnections(
  sim: Simulator,
  { timeoutMs = 2000 }: { timeoutMs?: number } = {},
): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  let count = await simulatorConnections(sim);
  while (count > 0 && performance.now() < deadline) {
    await new Promise((resolve) => setImmediate(resolve));
    count = await simulatorConnections(sim);
  }
  if (count > 0) {
    throw new Error(`The simulator still has ${count} open connection(s) after ${timeoutMs} ms.`);
  }
}

/** What a routed stream emitted, and how it ended. */
export interface RoutedRun {
  chunks: StreamingChunk[];
  /** The text of every chunk, joined. */
  text: string;
  /** Undefined when the stream completed. */
  error: unknown;
  /** `provider/model` of each chunk that carried text, without repeats, in order of appearance. */
  servedBy: string[];
  elapsedMs: number;
}

/** Runs a routed stream to its end (completion or error) and reports what it emitted. */
export async function runRouted(stream$: Observable<StreamingChunk>): Promise<RoutedRun> {
  const chunks: StreamingChunk[] = [];
  const started = performance.now();
  let error: unknown;
  await lastValueFrom(
    stream$.pipe(
      tap((chunk) => chunks.push(chunk)),
      toArray(),
    ),
  ).catch((e: unknown) => {
    error = e;
  });
  return {
    chunks,
    text: chunks.map(chunkText).join(''),
    error,
    servedBy: servedBy(chunks),
    elapsedMs: performance.now() - started,
  };
}

/** `provider/model` of each chunk that carried text, without repeats, in order of appearance. */
export function servedBy(chunks: readonly StreamingChunk[]): string[] {
  const seen: string[] = [];
  for (const chunk of chunks) {
    if (chunkText(chunk) === '') continue;
    const who = `${chunk.provider}/${chunk.model}`;
    if (!seen.includes(who)) seen.push(who);
  }
  return seen;
}

/** The simulator's generation attempts (model lists excluded), optionally for one model. */
export function chatAttempts(sim: Simulator, model?: string): AttemptRecord[] {
  return sim.attempts.filter(
    (a) => a.endpoint === 'chat' && (model === undefined || a.model === model),
  );
}

/** Waits until at least `count` generation attempts have ended, and returns them all. */
export async function endedChatAttempts(
  sim: Simulator,
  count: number,
  { timeoutMs = 3000 }: { timeoutMs?: number } = {},
): Promise<AttemptRecord[]> {
  const ended = (): number => chatAttempts(sim).filter((a) => a.outcome !== 'in-progress').length;
  if (ended() < count) {
    await sim
      .waitForAttempt(() => ended() >= count, { timeoutMs })
      .catch(() => {
        const seen = chatAttempts(sim)
          .map((a) => `${a.model ?? '?'} ${a.outcome} ${String(a.status)}`)
          .join('; ');
        throw new Error(
          `Expected ${count} ended generation attempts within ${timeoutMs} ms; the simulator saw: ${seen || 'none'}.`,
        );
      });
  }
  return chatAttempts(sim);
}

/** The health of one candidate (`provider/model`) now; fails if the router has none. */
export function candidateHealth(router: Router, candidate: string): CandidateHealth {
  const found = router.health().candidates.find((c) => c.candidate === candidate);
  if (found === undefined) {
    const known = router
      .health()
      .candidates.map((c) => c.candidate)
      .join(', ');
    throw new Error(`No health for ${candidate} (known: ${known || 'none'})`);
  }
  return found;
}

/** The events of one type, typed. */
export function eventsOf<T extends RouterEvent['type']>(
  events: readonly RouterEvent[],
  type: T,
): Extract<RouterEvent, { type: T }>[] {
  return events.filter((e): e is Extract<RouterEvent, { type: T }> => e.type === type);
}

/** A request body the simulator's server received, parsed as JSON when it is JSON. */
export interface CapturedBody {
  path: string;
  body: unknown;
}

/**
 * Records the body of every request the simulator's server receives from now on (the bytes on
 * the wire, as the simulator read them), until `stop()`.
 */
export function captureRequestBodies(sim: Simulator): {
  readonly bodies: CapturedBody[];
  stop(): void;
} {
  const bodies: CapturedBody[] = [];
  // The simulator attaches its own 'data' listener synchronously in its 'request' handler, which
  // runs before this one: both listeners then see every chunk.
  const onRequest = (req: IncomingMessage): void => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      let body: unknown = text;
      try {
        body = JSON.parse(text);
      } catch {
        // Not JSON: keep the text.
      }
      bodies.push({ path: (req.url ?? '').split('?')[0] ?? '', body });
    });
  };
  sim.server.on('request', onRequest);
  return {
    bodies,
    stop() {
      sim.server.off('request', onRequest);
    },
  };
}
