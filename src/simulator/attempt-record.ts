import type { StreamFormat } from '../chunk/streaming-chunk';

/**
 * How an attempt ended.
 *
 * - `in-progress`: still running.
 * - `completed`: the whole answer was sent (a `malformed-at`/`huge-event`/`invalid-utf8` answer
 *   still completes).
 * - `error-status`: answered with an HTTP error status (fault, bad request, bad key, ...).
 * - `reset`: the simulator reset the connection (`reset-before-headers`, `reset-after-K`).
 * - `inband-error`: the stream carried the provider's error event and ended.
 * - `no-terminal`: the body ended without the finish reason or terminal event.
 * - `client-closed`: the client closed the connection before the response was complete.
 * - `server-closed`: `close()` was called while the response was being sent.
 */
export type AttemptOutcome =
  | 'in-progress'
  | 'completed'
  | 'error-status'
  | 'reset'
  | 'inband-error'
  | 'no-terminal'
  | 'client-closed'
  | 'server-closed';

/** A deliberate pause, with when it started and ended (ms since the simulator started). */
export interface StallRecord {
  /** `headers` (latency and `stall-headers`), `first-token`, or `after` (`stall-after-K`). */
  kind: 'headers' | 'first-token' | 'after';
  /** Tokens sent before the pause. */
  afterTokens: number;
  /** The planned pause. */
  ms: number;
  startedAt: number;
  /** When the pause ended; undefined while it lasts (or if the attempt was cut during it). */
  endedAt: number | undefined;
}

/**
 * One HTTP request the simulator received, as it happened. Times are in ms since the simulator
 * started (`performance.now()`), with sub-ms precision. The record is live: it is updated as the
 * response is sent.
 */
export interface AttemptRecord {
  /** 1, 2, 3, … per simulator; never reused (not even after `clearAttempts()`). */
  readonly id: number;
  /** When the request arrived. */
  readonly time: number;
  readonly method: string;
  /** The URL path, without the query. */
  readonly path: string;
  /** The wire format of the endpoint; undefined for unknown paths. */
  format: StreamFormat | undefined;
  /** `chat` (a generation endpoint), `models` (a listing), or `unknown`. */
  endpoint: 'chat' | 'models' | 'unknown';
  /** The requested model (from the body, or Gemini's path). */
  model: string | undefined;
  /** Whether the answer is streamed; undefined until the request was read. */
  stream: boolean | undefined;
  /** The canonical spec of the faults applied (`status-429-retry-2`, `a,b`), if any. */
  fault: string | undefined;
  /** Where the faults came from. */
  faultSource: 'header' | 'model' | 'scenario' | undefined;
  /** The key of stateful faults (`flap`, `succeed-on`) for this attempt. */
  faultKey: string | undefined;
  outcome: AttemptOutcome;
  /** The HTTP status sent; undefined if no headers were sent (reset before headers, client gone). */
  status: number | undefined;
  /** Tokens sent so far (reasoning, text and tool-argument pieces; injected events excluded). */
  tokensSent: number;
  /** The prompt token count reported to the client. */
  promptTokens: number | undefined;
  /** When the response headers were sent. */
  headersAt: number | undefined;
  /** When the first token was released (written right after; pacing counts from here). */
  firstTokenAt: number | undefined;
  /** When the response ended (sent, reset, or closed). */
  endedAt: number | undefined;
  /** When the client closed the connection before the response was complete. */
  clientClosedAt: number | undefined;
  /** How many `res.write()` calls returned false (the socket buffer was full: backpressure). */
  writeReturnedFalse: number;
  /** Body bytes written. */
  bytesSent: number;
  /** Every deliberate pause: latency, stalls. */
  stalls: StallRecord[];
  /** The error message sent, for `error-status` outcomes. */
  error: string | undefined;
}

interface Waiter {
  predicate: (record: AttemptRecord) => boolean;
  resolve: (record: AttemptRecord) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
}

/** The attempt log: bounded, with waiters woken on every change. */
export class AttemptLog {
  private readonly list: AttemptRecord[] = [];
  private readonly waiters = new Set<Waiter>();
  private nextId = 1;

  constructor(
    private readonly max: number,
    private readonly now: () => number,
  ) {}

  get records(): readonly AttemptRecord[] {
    return this.list;
  }

  start(method: string, path: string): AttemptRecord {
    const record: AttemptRecord = {
      id: this.nextId++,
      time: this.now(),
      method,
      path,
      format: undefined,
      endpoint: 'unknown',
      model: undefined,
      stream: undefined,
      fault: undefined,
      faultSource: undefined,
      faultKey: undefined,
      outcome: 'in-progress',
      status: undefined,
      tokensSent: 0,
      promptTokens: undefined,
      headersAt: undefined,
      firstTokenAt: undefined,
      endedAt: undefined,
      clientClosedAt: undefined,
      writeReturnedFalse: 0,
      bytesSent: 0,
      stalls: [],
      error: undefined,
    };
    this.list.push(record);
    if (this.list.length > this.max) this.list.splice(0, this.list.length - this.max);
    this.changed(record);
    return record;
  }

  /** Wakes the waiters whose predicate now holds for `record`. */
  changed(record: AttemptRecord): void {
    if (this.waiters.size === 0) return;
    for (const waiter of this.waiters) {
      if (waiter.predicate(record)) {
        this.waiters.delete(waiter);
        clearTimeout(waiter.timer);
        waiter.resolve(record);
      }
    }
  }

  clear(): void {
    this.list.length = 0;
  }

  waitFor(
    predicate: (record: AttemptRecord) => boolean,
    timeoutMs: number,
  ): Promise<AttemptRecord> {
    const found = this.list.find(predicate);
    if (found !== undefined) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        predicate,
        resolve,
        reject,
        timer: setTimeout(() => {
          this.waiters.delete(waiter);
          reject(new Error(`No simulator attempt matched within ${timeoutMs} ms.`));
        }, timeoutMs),
      };
      this.waiters.add(waiter);
    });
  }

  /** Rejects every waiter and clears its timer. */
  close(): void {
    for (const waiter of this.waiters) {
      clearTimeout(waiter.timer);
      waiter.reject(new Error('The simulator was closed while waiting for an attempt.'));
    }
    this.waiters.clear();
  }
}
