import type { Observable } from 'rxjs';
import type { ChatCompletion } from '../chunk/chat-completion';
import type { StreamingChunk } from '../chunk/streaming-chunk';
import type { BufferedAsyncIterable } from '../flow/to-async-iterable';
import type { HealthSnapshot } from '../health/health-snapshot';
import type { SessionInfo } from '../sessions/session-info';
import type { RouterEvent } from './router-events';

/** Per-call options of {@link Router.stream}. */
export interface RouteStreamOptions {
  /** The session id (default: generated). Must be unique among live sessions. */
  sessionId?: string | undefined;
  /** Aborts the stream (as unsubscribing does); the stream errors with the signal's reason. */
  signal?: AbortSignal | undefined;
}

/** Options of {@link Router.streamChatCompletion}. */
export interface StreamChatCompletionOptions extends RouteStreamOptions {
  /** Chunks buffered ahead of the consumer before the provider is paused. Default 16. */
  highWaterMark?: number | undefined;
}

/** A model the router answers for: an alias, a glob, or a concrete candidate model. */
export interface ModelListing {
  /** The alias or glob, as configured. */
  id: string;
  /** Whether `id` is a glob. */
  glob: boolean;
  /** The candidates, `provider/model`. */
  candidates: string[];
}

/** Sessions: every routed stream, live or recently finished. */
export interface Sessions {
  /** Every session kept, oldest first. */
  list(): SessionInfo[];
  get(id: string): SessionInfo | undefined;
  /** Aborts the session's upstream now; its viewers get an error. False if unknown or finished. */
  cancel(id: string): boolean;
  /**
   * Another viewer of the same stream: the chunks from `fromIndex` (default 0) that arrived, then
   * the live ones. No second upstream call. Errors with `RXLLM_NOT_FOUND` for an unknown id.
   */
  attach(id: string, options?: { fromIndex?: number }): Observable<StreamingChunk>;
  /** Every change of every session (state, tokens, cost, provider, ...). */
  readonly changes$: Observable<SessionInfo>;
  /** One session's changes, starting with its current snapshot; completes when it finishes. */
  watch(id: string): Observable<SessionInfo>;
}

/** The router: one streaming API over every provider. Made by `createRouter`. */
export interface Router {
  /** A cold stream of the answer: each subscription is one routed session. */
  stream(request: unknown, options?: RouteStreamOptions): Observable<StreamingChunk>;
  /** `for await` over a routed stream, with real backpressure to the provider. */
  streamChatCompletion(
    request: unknown,
    options?: StreamChatCompletionOptions,
  ): BufferedAsyncIterable<StreamingChunk>;
  /** The whole answer as one `ChatCompletion`. */
  complete(request: unknown, options?: RouteStreamOptions): Promise<ChatCompletion>;
  /** Attempts, retries, failovers, skips, breaker changes, cooldowns, budget stops, probes. */
  readonly events$: Observable<RouterEvent>;
  readonly sessions: Sessions;
  /** A snapshot now, then one every `health.intervalMs`. */
  readonly health$: Observable<HealthSnapshot>;
  /** The health snapshot now. */
  health(): HealthSnapshot;
  /** The routes, for `/v1/models` and "unknown model" errors. */
  models(): ModelListing[];
  /**
   * Resolves a model name without streaming: the route key and candidates (`provider/model`),
   * or undefined when no route matches.
   */
  resolve(model: string): { route: string; candidates: string[] } | undefined;
  /** Cancels every session, stops probes and health timers, shuts every breaker, closes providers. */
  close(): Promise<void>;
  /** Whether `close()` was called. */
  readonly closed: boolean;
}
