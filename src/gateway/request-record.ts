/** How a chat completion request ended. */
export type RequestOutcome =
  /** The whole answer was delivered (`[DONE]` or the JSON completion). */
  | 'success'
  /** It failed before the answer started: an HTTP error status. */
  | 'error'
  /** It failed after the answer started: an in-band error, no `[DONE]`. */
  | 'in_band_error'
  /** The client went away, or the session was cancelled, or the gateway shut down. */
  | 'cancelled';

/**
 * What the gateway logs about one HTTP request (one JSON line) and feeds its metrics with.
 * Fields a request does not have (a `/health` call has no model) stay undefined and are omitted.
 */
export interface RequestRecord {
  requestId: string;
  method: string;
  path: string;
  status: number;
  durationMs: number;
  /** Chat completions and session streams only, from here on. */
  sessionId?: string;
  stream?: boolean;
  /** The model the client asked for. */
  model?: string;
  /** The provider and model that served the answer (the last one, after a failover). */
  provider?: string;
  servedModel?: string;
  /** ms from the request's arrival to the first chunk written (the client's time to first token). */
  ttftMs?: number;
  promptTokens?: number;
  completionTokens?: number;
  costUsd?: number | null;
  /** Calls made upstream, retries included; retries; failovers. */
  attempts?: number;
  retries?: number;
  failovers?: number;
  outcome?: RequestOutcome;
  /** The error's stable code, on failure. */
  errorCode?: string;
  errorMessage?: string;
}
