/**
 * The IPC messages between the gateway benchmark's orchestrator (`run-gateway-bench.ts`) and its
 * child processes: the servers under measurement (upstream simulator, bare proxy, gateway) and
 * the load generator.
 */

/** How a server process is started: `argv[2]`, as JSON. */
export interface ServerProcessConfig {
  /** The simulator's URL (`http://127.0.0.1:<port>`), for the proxy and the gateway. */
  upstream?: string;
  /** Upstream connections the proxy or gateway may open: sized for the largest concurrency. */
  connections: number;
  /** Content tokens of every answer (the simulator's `defaultTokens`). */
  tokens: number;
}

/** Orchestrator → server process. */
export type ServerCommand =
  { type: 'measure-start' } | { type: 'measure-stop' } | { type: 'shutdown' };

/** What a server process measured between `measure-start` and `measure-stop`. */
export interface ServerMeasurement {
  /** CPU time of the whole process (user + system), ms. */
  cpuMs: number;
  /**
   * CPU time of the main (JavaScript) thread alone, ms, from `/proc/self/task` (10 ms ticks);
   * the rest is V8's helper threads (garbage collection, compilation) and libuv's pool. Undefined
   * off Linux.
   */
  mainThreadCpuMs: number | undefined;
  /** The largest RSS sampled (every 20 ms, and at the start and stop), bytes. */
  peakRss: number;
  /** The V8 heap (`heapTotal`) in the sample of the largest RSS, bytes. */
  heapAtPeak: number;
  /** New TCP connections the server accepted (0 on warm keep-alive connections). */
  connections: number;
}

/** Server process → orchestrator. */
export type ServerReply =
  | { type: 'ready'; url: string }
  | { type: 'measuring' }
  | ({ type: 'measured' } & ServerMeasurement)
  | { type: 'closed'; maxRss: number; resources: string[] }
  | { type: 'failed'; message: string };

/** One run of the load generator: `requests` streamed requests, `concurrency` at a time. */
export interface LoadRun {
  type: 'run';
  /**
   * `POST`: streamed chat completions, each checked. `GET`: any 200 answer will do (used to open
   * the keep-alive connections before the warm-up, with a cheap request).
   */
  method: 'GET' | 'POST';
  /** `http://127.0.0.1:<port>` of the target. */
  origin: string;
  path: string;
  body: string;
  headers: Record<string, string>;
  concurrency: number;
  requests: number;
  /** Content tokens every stream must carry. */
  tokens: number;
  /** Every request is aborted after this long, ms. */
  timeoutMs: number;
}

/** Orchestrator → load generator. */
export type LoadCommand = LoadRun | { type: 'shutdown' };

/** What one run of the load generator saw. */
export interface LoadResult {
  type: 'result';
  /** Time to the first content token of each completed request, ms, in completion order. */
  ttftMs: number[];
  /** Time to the end of each completed request, ms. */
  totalMs: number[];
  /** From the first request sent to the last one ended, ms. */
  wallMs: number;
  /** Content tokens received over every request. */
  tokens: number;
  /** Body bytes and body pieces (socket reads) received over every request. */
  bytes: number;
  pieces: number;
  /** Requests that completed with the right token count, `[DONE]` and usage. */
  completed: number;
  /** Requests that failed (any cause), and the first few reasons. */
  errors: number;
  errorSamples: string[];
  /** The load generator's own CPU time during the run, ms. */
  cpuMs: number;
}

/** Load generator → orchestrator. */
export type LoadReply = LoadResult | { type: 'closed' } | { type: 'failed'; message: string };
