import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { AttemptLog, AttemptOutcome, AttemptRecord, StallRecord } from './attempt-record';
import type { ErrorResponse } from './error-bodies';

/** Emitted on the response when every write so far has been handed to the kernel. */
const flushedEvent = 'simulator:flushed';

/**
 * One response being sent: its timers, its writes (with backpressure and optional drip), and
 * how it ends. Everything stops at once when the client closes the connection or the simulator
 * closes: pending sleeps resolve early, timers are cleared, and nothing more is written.
 */
export class AttemptContext {
  /** True once the response can no longer be written (ended, reset, client or server gone). */
  private stopped = false;
  /** The outcome to commit when the response has been fully handed to the socket. */
  private pending: AttemptOutcome | undefined;
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly immediates = new Set<NodeJS.Immediate>();
  private readonly wakers = new Set<() => void>();
  private drip: { bytes: number; ms: number } | undefined;
  /** Writes whose callback has not run yet (their bytes are still in Node's buffers). */
  private unflushed = 0;
  private dripped = false;

  constructor(
    readonly req: IncomingMessage,
    readonly res: ServerResponse,
    readonly record: AttemptRecord,
    private readonly log: AttemptLog,
    readonly now: () => number,
    private readonly onDone: (context: AttemptContext) => void,
  ) {
    res.on('error', () => undefined);
    req.on('error', () => undefined);
    res.on('finish', () => {
      this.commit(this.pending ?? 'completed');
    });
    res.on('close', () => {
      if (this.record.outcome !== 'in-progress') return;
      if (this.pending === undefined || !res.writableFinished) {
        this.record.clientClosedAt = this.now();
        this.commit('client-closed');
      }
    });
  }

  /** Whether the attempt was cut (client or server gone) or has ended. */
  isAborted(): boolean {
    return this.stopped;
  }

  /** Marks a change of the record, for waiters. */
  touch(): void {
    this.log.changed(this.record);
  }

  private commit(outcome: AttemptOutcome): void {
    if (this.record.outcome === 'in-progress') {
      this.record.outcome = outcome;
      this.record.endedAt = this.now();
    }
    this.stop();
    this.touch();
  }

  /** Stops everything: clears timers, wakes sleepers and drain-waiters. Idempotent. */
  private stop(): void {
    if (this.stopped && this.timers.size === 0 && this.wakers.size === 0) return;
    this.stopped = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    for (const immediate of this.immediates) clearImmediate(immediate);
    this.immediates.clear();
    const wakers = [...this.wakers];
    this.wakers.clear();
    for (const wake of wakers) wake();
    this.onDone(this);
  }

  /** The simulator is closing: record it and stop. The connection is destroyed by the server. */
  serverClose(): void {
    if (this.record.outcome === 'in-progress') this.commit('server-closed');
    else this.stop();
  }

  /** Sleeps `ms`; resolves early (without error) when the attempt stops. */
  sleep(ms: number): Promise<void> {
    if (this.stopped) return Promise.resolve();
    if (ms <= 0) return this.yield();
    return new Promise((resolve) => {
      const wake = (): void => {
        clearTimeout(timer);
        this.timers.delete(timer);
        this.wakers.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      this.timers.add(timer);
      this.wakers.add(wake);
    });
  }

  /** Lets I/O run (a `setImmediate` turn): a long unpaced answer must not block the loop. */
  yield(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    return new Promise((resolve) => {
      const wake = (): void => {
        clearImmediate(immediate);
        this.immediates.delete(immediate);
        this.wakers.delete(wake);
        resolve();
      };
      const immediate = setImmediate(wake);
      this.immediates.add(immediate);
      this.wakers.add(wake);
    });
  }

  /** Sleeps `ms` as a recorded stall. */
  async stall(kind: StallRecord['kind'], ms: number): Promise<void> {
    const stall: StallRecord = {
      kind,
      afterTokens: this.record.tokensSent,
      ms,
      startedAt: this.now(),
      endedAt: undefined,
    };
    this.record.stalls.push(stall);
    this.touch();
    await this.sleep(ms);
    if (!this.isAborted()) {
      stall.endedAt = this.now();
      this.touch();
    }
  }

  /** Writes the body from now on in `bytes`-sized pieces, `ms` apart. */
  setDrip(drip: { bytes: number; ms: number } | undefined): void {
    this.drip = drip;
  }

  /** Sends the status and headers now (flushed, so a stall after them is visible). */
  writeHead(status: number, headers: OutgoingHttpHeaders, flush = true): void {
    if (this.stopped) return;
    this.res.writeHead(status, { ...headers, 'x-simulator-attempt': String(this.record.id) });
    if (flush) this.res.flushHeaders();
    this.record.status = status;
    this.record.headersAt = this.now();
    this.touch();
  }

  /** Writes bytes, honouring backpressure: when `res.write()` returns false, waits for 'drain'. */
  async write(bytes: Buffer): Promise<void> {
    if (this.stopped || bytes.length === 0) return;
    const drip = this.drip;
    if (drip === undefined) {
      await this.writePiece(bytes);
      return;
    }
    for (let at = 0; at < bytes.length && !this.isAborted(); at += drip.bytes) {
      if (this.dripped) await this.sleep(drip.ms);
      this.dripped = true;
      if (this.isAborted()) return;
      await this.writePiece(bytes.subarray(at, at + drip.bytes));
    }
  }

  private async writePiece(bytes: Buffer): Promise<void> {
    this.record.bytesSent += bytes.length;
    this.touch();
    this.unflushed++;
    const written = this.res.write(bytes, () => {
      this.unflushed--;
      if (this.unflushed === 0) this.res.emit(flushedEvent);
    });
    if (written) return;
    this.record.writeReturnedFalse++;
    this.touch();
    await this.waitFor(this.res, 'drain');
  }

  /** Waits for an event, or for the attempt to stop. */
  private waitFor(emitter: NodeJS.EventEmitter, event: string): Promise<void> {
    if (this.stopped) return Promise.resolve();
    return new Promise((resolve) => {
      const wake = (): void => {
        emitter.off(event, wake);
        this.wakers.delete(wake);
        resolve();
      };
      emitter.on(event, wake);
      this.wakers.add(wake);
    });
  }

  /** Ends the response; the outcome is committed when the last byte was handed to the socket. */
  end(outcome: AttemptOutcome, last?: Buffer): void {
    if (this.stopped) return;
    this.pending = outcome;
    if (last !== undefined) this.record.bytesSent += last.length;
    if (last === undefined) this.res.end();
    else this.res.end(last);
  }

  /** Sends a whole error response. */
  sendError(error: ErrorResponse): void {
    if (this.stopped) return;
    const body = Buffer.from(error.body, 'utf8');
    this.record.error = errorMessage(error.body);
    this.writeHead(error.status, { ...error.headers, 'content-length': body.length }, false);
    this.end('error-status', body);
  }

  /** Waits until every byte written so far has been handed to the kernel. */
  async flush(): Promise<void> {
    if (this.unflushed > 0) await this.waitFor(this.res, flushedEvent);
  }

  /** Resets the connection (TCP RST) at once. */
  reset(): void {
    if (this.stopped) return;
    this.commit('reset');
    this.req.socket.resetAndDestroy();
  }
}

function errorMessage(body: string): string | undefined {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    return undefined;
  }
  const error =
    typeof json === 'object' && json !== null ? (json as Record<string, unknown>).error : undefined;
  if (typeof error !== 'object' || error === null) return undefined;
  const message = (error as Record<string, unknown>).message;
  return typeof message === 'string' ? message : undefined;
}
