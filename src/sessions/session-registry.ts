import { Observable, Subject, concat, defer, filter, of, takeWhile, throwError } from 'rxjs';
import type { StreamingChunk } from '../chunk/streaming-chunk';
import { CancelledError } from '../errors/cancelled-error';
import { isRouterError, RouterError } from '../errors/router-error';
import type { SharedStream } from '../operators/share-stream';
import type { SessionError, SessionInfo, SessionState } from './session-info';

/** The live, mutable record of one session. The router updates it; readers get snapshots. */
export interface SessionRecord extends SessionInfo {
  /** The recorded stream its viewers attach to. */
  shared: SharedStream<StreamingChunk> | undefined;
  /** Brings lazily computed fields (cost) up to date; called before each snapshot. */
  refresh: (() => void) | undefined;
}

/** Options of {@link SessionRegistry}. */
export interface SessionRegistryOptions {
  maxFinished: number;
  finishedTtlMs: number;
  now: () => number;
}

const FINAL: ReadonlySet<SessionState> = new Set(['completed', 'failed', 'cancelled']);

/** Whether a state is final. */
export function isFinished(state: SessionState): boolean {
  return FINAL.has(state);
}

/** A serializable view of an error. */
export function toSessionError(error: unknown): SessionError {
  if (isRouterError(error)) {
    return {
      code: error.code,
      message: error.message,
      provider: error.provider,
      status: error.status,
    };
  }
  return {
    code: undefined,
    message: error instanceof Error ? error.message : String(error),
    provider: undefined,
    status: undefined,
  };
}

/**
 * Every session of a router: the live ones, and the finished ones for a bounded time and count.
 * Finished sessions expire lazily (on the next registry call), so the registry owns no timer.
 */
export class SessionRegistry {
  readonly #live = new Map<string, SessionRecord>();
  readonly #finished = new Map<string, SessionRecord>();
  readonly #changes = new Subject<SessionInfo>();
  readonly #options: SessionRegistryOptions;

  constructor(options: SessionRegistryOptions) {
    this.#options = options;
  }

  /** Every change of every session. */
  readonly changes$: Observable<SessionInfo> = this.#changes.asObservable();

  /** Whether a session with this id is live. */
  isLive(id: string): boolean {
    return this.#live.has(id);
  }

  get liveCount(): number {
    return this.#live.size;
  }

  get finishedCount(): number {
    this.#expire();
    return this.#finished.size;
  }

  create(id: string, requestedModel: string, route: string): SessionRecord {
    this.#finished.delete(id);
    const record: SessionRecord = {
      id,
      requestedModel,
      route,
      startedAt: this.#options.now(),
      candidate: undefined,
      provider: undefined,
      model: undefined,
      state: 'pending',
      endedAt: undefined,
      ttftMs: undefined,
      chunks: 0,
      completionTokens: 0,
      costUsd: null,
      estimated: true,
      usage: undefined,
      attempts: 0,
      retries: 0,
      failovers: 0,
      lastError: undefined,
      viewers: 0,
      shared: undefined,
      refresh: undefined,
    };
    this.#live.set(id, record);
    this.changed(record);
    return record;
  }

  /** Tells `changes$` subscribers about a change (free when nobody listens). */
  changed(record: SessionRecord): void {
    if (this.#changes.observed) this.#changes.next(snapshot(record));
  }

  /** Moves a session to a final state, once; later calls are ignored. */
  finish(
    record: SessionRecord,
    state: 'completed' | 'failed' | 'cancelled',
    error?: unknown,
  ): void {
    if (isFinished(record.state)) return;
    // Final figures, then let go of the pipeline's state.
    record.refresh?.();
    record.refresh = undefined;
    record.state = state;
    record.endedAt = this.#options.now();
    if (error !== undefined) record.lastError = toSessionError(error);
    this.#live.delete(record.id);
    if (this.#options.maxFinished > 0) this.#finished.set(record.id, record);
    this.#expire();
    this.changed(record);
  }

  list(): SessionInfo[] {
    this.#expire();
    return [...this.#finished.values(), ...this.#live.values()]
      .sort((a, b) => a.startedAt - b.startedAt)
      .map(snapshot);
  }

  get(id: string): SessionInfo | undefined {
    const record = this.#record(id);
    return record === undefined ? undefined : snapshot(record);
  }

  cancel(id: string, reason?: unknown): boolean {
    const record = this.#live.get(id);
    if (record === undefined) return false;
    const error =
      reason ?? new CancelledError(`Session ${id} was cancelled.`, { provider: record.provider });
    // Recorded first: cancelling runs the pipeline's teardown, which finishes the record.
    record.lastError = toSessionError(error);
    record.shared?.cancel(error);
    // Final even if the pipeline had not started.
    this.finish(record, 'cancelled', error);
    return true;
  }

  /** Cancels every live session (router shutdown). */
  cancelAll(reason: unknown): void {
    for (const id of [...this.#live.keys()]) this.cancel(id, reason);
  }

  attach(id: string, fromIndex = 0): Observable<StreamingChunk> {
    return defer(() => {
      const record = this.#record(id);
      if (record?.shared === undefined) {
        return throwError(() => unknownSession(id));
      }
      record.viewers++;
      this.changed(record);
      return record.shared.attach(fromIndex);
    });
  }

  watch(id: string): Observable<SessionInfo> {
    return defer(() => {
      const record = this.#record(id);
      if (record === undefined) {
        return throwError(() => unknownSession(id));
      }
      const now = snapshot(record);
      if (isFinished(record.state)) return of(now);
      return concat(
        of(now),
        this.#changes.pipe(
          filter((s) => s.id === id),
          takeWhile((s) => !isFinished(s.state), true),
        ),
      );
    });
  }

  /** Completes `changes$` (router shutdown). */
  complete(): void {
    this.#changes.complete();
  }

  #record(id: string): SessionRecord | undefined {
    this.#expire();
    return this.#live.get(id) ?? this.#finished.get(id);
  }

  #expire(): void {
    const { maxFinished, finishedTtlMs, now } = this.#options;
    const oldest = now() - finishedTtlMs;
    for (const [id, record] of this.#finished) {
      if (this.#finished.size > maxFinished || (record.endedAt ?? 0) < oldest) {
        this.#finished.delete(id);
      } else break; // insertion order is finishing order: the rest are newer
    }
  }
}

/** The error of `attach` and `watch` for an id the registry does not hold. */
function unknownSession(id: string): RouterError {
  return new RouterError(
    'RXLLM_NOT_FOUND',
    `No session ${JSON.stringify(id)}: it never existed or has expired.`,
    false,
    { status: 404 },
  );
}

/** A copy of a record's public fields. */
export function snapshot(record: SessionRecord): SessionInfo {
  record.refresh?.();
  const { shared: _shared, refresh: _refresh, ...info } = record;
  return info;
}
