import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { AttemptContext } from './attempt-context';
import { AttemptLog, type AttemptRecord } from './attempt-record';
import { handleRequest, type SimulatorRuntime } from './handle-request';
import { CompiledScenario, type SimulatorScenario } from './scenario';

/** Options of {@link startSimulator}. Every field is optional. */
export interface SimulatorOptions {
  /** The interface to listen on. Default `127.0.0.1`. */
  host?: string;
  /** The port; 0 (the default) picks a free one. */
  port?: number;
  /** Wait before the response headers of every generation request. Default 0. */
  latencyMs?: number;
  /** Wait between the headers and the first token. Default 0. */
  firstTokenMs?: number;
  /** Tokens per second after the first token. Default `Infinity`: no pacing. */
  tokensPerSecond?: number;
  /** Scripted faults per attempt (see {@link SimulatorScenario}). Default none. */
  scenarios?: readonly SimulatorScenario[];
  /** Tokens of an answer when the request has no `x-simulator-tokens` header. Default 24. */
  defaultTokens?: number;
  /** Reasoning tokens streamed when reasoning is asked for. Default 8. */
  reasoningTokens?: number;
  /** Seeds the deterministic text; simulators with different seeds answer differently. Default ''. */
  seed?: string;
  /**
   * Check API keys like the real APIs: `true` requires a non-empty key, a string requires that
   * key. Default `false` (no check).
   */
  requireApiKey?: boolean | string;
  /** The largest request body accepted; larger ones get 413. Default 4 MiB. */
  maxBodyBytes?: number;
  /** How many attempt records are kept (the oldest are dropped). Default 10,000. */
  maxAttempts?: number;
  /** The models that `GET /v1/models` lists (any model name is accepted anyway). */
  models?: readonly string[];
}

/** A running simulator. */
export interface Simulator {
  /** `http://127.0.0.1:<port>`, without a trailing slash. */
  readonly url: string;
  readonly port: number;
  /** The underlying server. */
  readonly server: Server;
  /** The clock of the attempt records: ms since the simulator started (`performance.now()`). */
  now(): number;
  /** Every attempt so far, oldest first; records are live and update as responses are sent. */
  readonly attempts: readonly AttemptRecord[];
  /** Forgets the recorded attempts (ids keep counting). */
  clearAttempts(): void;
  /**
   * Resolves with the first attempt (recorded or future) for which `predicate` holds, checked
   * whenever an attempt changes; rejects after `timeoutMs` (default 5000) or on `close()`.
   */
  waitForAttempt(
    predicate: (attempt: AttemptRecord) => boolean,
    options?: { timeoutMs?: number },
  ): Promise<AttemptRecord>;
  /** Replaces the scenarios (their attempt counters start from zero). */
  setScenarios(scenarios: readonly SimulatorScenario[]): void;
  /** Clears the attempts, restarts the scenarios and forgets `flap`/`succeed-on` state. */
  reset(): void;
  /**
   * Stops the simulator: cuts every response in progress (recorded as `server-closed`), clears
   * every timer, destroys every connection and closes the server. Idempotent.
   */
  close(): Promise<void>;
}

const defaultModels = ['sim-gpt-4o-mini', 'sim-claude-sonnet', 'sim-gemini-flash'];

function nonNegative(name: string, value: number): number {
  if (!(value >= 0)) {
    throw new RangeError(`startSimulator: ${name} must be a number >= 0; got ${String(value)}.`);
  }
  return value;
}

/**
 * Starts a local LLM provider simulator: OpenAI Chat Completions, Anthropic Messages and Gemini
 * `generateContent` / `streamGenerateContent`, with deterministic answers and fault injection.
 *
 * 1. Answers are deterministic (see `expectedAnswer`), so tests compare exactly.
 * 2. Faults are chosen per request by the `x-simulator-fault` header, a `sim-fault-<spec>` model,
 *    or scripted `scenarios`.
 * 3. Every request is recorded in `attempts`, with its timing, outcome and backpressure.
 * 4. `close()` leaves no socket and no timer behind.
 *
 * ```ts
 * const sim = await startSimulator();
 * const res = await fetch(`${sim.url}/v1/chat/completions`, {
 *   method: 'POST',
 *   headers: { 'content-type': 'application/json', 'x-simulator-fault': 'reset-after-5' },
 *   body: JSON.stringify({ model: 'gpt-4o-mini', stream: true, messages: [{ role: 'user', content: 'Hi' }] }),
 * });
 * await sim.close();
 * ```
 *
 * @param options Where to listen, pacing, scenarios, determinism and limits.
 * @return The running simulator, once it listens.
 */
export async function startSimulator(options: SimulatorOptions = {}): Promise<Simulator> {
  const {
    host = '127.0.0.1',
    port = 0,
    latencyMs = 0,
    firstTokenMs = 0,
    tokensPerSecond = Infinity,
    scenarios = [],
    defaultTokens = 24,
    reasoningTokens = 8,
    seed = '',
    requireApiKey = false,
    maxBodyBytes = 4 * 1024 * 1024,
    maxAttempts = 10_000,
    models = defaultModels,
  } = options;
  nonNegative('latencyMs', latencyMs);
  nonNegative('firstTokenMs', firstTokenMs);
  if (!(tokensPerSecond > 0)) {
    throw new RangeError(
      `startSimulator: tokensPerSecond must be > 0 (Infinity for no pacing); got ${tokensPerSecond}.`,
    );
  }
  if (!Number.isInteger(defaultTokens) || defaultTokens < 0) {
    throw new RangeError(
      `startSimulator: defaultTokens must be an integer >= 0; got ${defaultTokens}.`,
    );
  }
  if (!Number.isInteger(reasoningTokens) || reasoningTokens < 0) {
    throw new RangeError(
      `startSimulator: reasoningTokens must be an integer >= 0; got ${reasoningTokens}.`,
    );
  }

  const startedAt = performance.now();
  const now = (): number => performance.now() - startedAt;
  const log = new AttemptLog(Math.max(1, maxAttempts), now);
  const active = new Set<AttemptContext>();
  const runtime: SimulatorRuntime = {
    log,
    now,
    active,
    scenarios: scenarios.map((scenario, index) => new CompiledScenario(scenario, index)),
    flapFirstHit: new Map(),
    faultAttempts: new Map(),
    settings: {
      latencyMs,
      pacing: { firstTokenMs, tokensPerSecond },
      defaultTokens,
      reasoningTokens,
      seed,
      requireApiKey,
      maxBodyBytes: nonNegative('maxBodyBytes', maxBodyBytes),
      models,
    },
  };

  const server = createServer({ noDelay: true }, (req, res) => {
    void handleRequest(runtime, req, res);
  });
  // A client that misbehaves at the HTTP level gets a 400 and its socket closed, not a crash.
  server.on('clientError', (_error, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nconnection: close\r\n\r\n');
    else socket.destroy();
  });
  await new Promise<void>((resolve, reject) => {
    const onError = (error: Error): void => {
      reject(error);
    };
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const urlHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;

  let closing: Promise<void> | undefined;
  return {
    url: `http://${urlHost}:${address.port}`,
    port: address.port,
    server,
    now,
    get attempts() {
      return log.records;
    },
    clearAttempts() {
      log.clear();
    },
    waitForAttempt(predicate, { timeoutMs = 5000 } = {}) {
      return log.waitFor(predicate, timeoutMs);
    },
    setScenarios(next) {
      runtime.scenarios = next.map((scenario, index) => new CompiledScenario(scenario, index));
    },
    reset() {
      log.clear();
      for (const scenario of runtime.scenarios) scenario.reset();
      runtime.flapFirstHit.clear();
      runtime.faultAttempts.clear();
    },
    close() {
      closing ??= new Promise<void>((resolve) => {
        for (const context of [...active]) context.serverClose();
        log.close();
        server.close(() => {
          // 'close' is emitted before libuv releases the handles: two turns of the loop later,
          // they are gone, so no handle outlives the promise.
          setImmediate(() => {
            setImmediate(resolve);
          });
        });
        server.closeAllConnections();
      });
      return closing;
    },
  };
}
