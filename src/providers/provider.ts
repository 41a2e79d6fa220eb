import type { Observable } from 'rxjs';
import type { StreamingChunk } from '../chunk/streaming-chunk';
import type { ChatRequest } from '../request/chat-request';

/** Per-call options of {@link Provider.stream}. */
export interface ProviderStreamOptions {
  /** Aborts the request; the stream errors with the signal's reason. */
  signal?: AbortSignal;
  /**
   * Emit a keep-alive chunk (`choices: []`) for each wire keep-alive (SSE comments, Anthropic
   * `ping`), so an idle timeout downstream sees that the provider is alive. Default false.
   */
  keepAliveChunks?: boolean;
}

/**
 * A provider: anything that turns a {@link ChatRequest} into a cold Observable of normalized
 * chunks. The HTTP factories (`openai`, `anthropic`, `google`, `openaiCompatible`) build these;
 * custom providers implement the same interface.
 *
 * Contract of `stream()`:
 * 1. Cold: nothing is sent until subscription; each subscription is one request.
 * 2. Unsubscribing aborts the request and releases its connection.
 * 3. It completes only when the provider finished the answer; every failure is a typed error.
 */
export interface Provider {
  /** The name stamped on chunks and errors (`openai`, `anthropic`, `google`, or your own). */
  readonly name: string;
  stream(request: ChatRequest, options?: ProviderStreamOptions): Observable<StreamingChunk>;
  /** A cheap liveness check (e.g. `GET /models`); rejects with a typed error when unhealthy. */
  healthCheck?(): Promise<void>;
  /** Releases the provider's connections. */
  close?(): Promise<void>;
}
