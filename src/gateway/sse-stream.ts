import type { OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { Subscription, type Observable } from 'rxjs';
import type { StreamingChunk, Usage } from '../chunk/streaming-chunk';
import { runWithFlow, type FlowControl } from '../flow/flow-control';
import { toOpenAIError } from './openai-error';
import { sendError } from './send-json';

/** Options of {@link pipeSse}. */
export interface PipeSseOptions {
  res: ServerResponse;
  chunks$: Observable<StreamingChunk>;
  /** The headers of the 200 response, sent with the first chunk. */
  headers: OutgoingHttpHeaders;
  /** The SSE `id:` of the first chunk (the session's chunk index). Default 0. */
  firstIndex?: number;
  /** Send the usage: the usage-only chunk and `usage` fields. Otherwise both are dropped. */
  includeUsage: boolean;
  /**
   * Pause the source while the socket is full (`res.write()` returned false), through
   * {@link FlowControl}. Default true. A viewer of a shared stream cannot pause it; it is cut
   * instead when more than `maxBufferedBytes` wait unsent.
   */
  backpressure?: boolean;
  /** Without backpressure: the most bytes allowed to wait unsent. Default 8 MiB. */
  maxBufferedBytes?: number;
}

/** How a piped stream ended. */
export type SseEnd =
  /** The source completed: `[DONE]` was sent. */
  | { kind: 'completed' }
  /** The source failed before its first chunk: an HTTP error status was sent. */
  | { kind: 'failed-before-start'; error: unknown }
  /** The source failed after its first chunk: an in-band error was sent, and no `[DONE]`. */
  | { kind: 'failed-in-band'; error: unknown }
  /** The client closed the connection first; the source was unsubscribed. */
  | { kind: 'client-closed' };

/** A stream being piped: its end, and what it sent. */
export interface SsePipe {
  readonly done: Promise<SseEnd>;
  /** Whether the 200 and the first chunk went out. */
  readonly started: boolean;
  /** `performance.now()` when the first chunk was written. */
  readonly firstChunkAt: number | undefined;
  /** The last chunk's provider and model: who served the end of the answer. */
  readonly provider: string | undefined;
  readonly model: string | undefined;
  /** The last usage seen. */
  readonly usage: Usage | undefined;
  /** Stops the source and ends the response with `error` (in-band, or as a status if not started). */
  abort(error: unknown): void;
}

/** The headers of a streamed answer, sent with its first chunk. */
export const SSE_HEADERS = {
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-cache, no-transform',
  connection: 'keep-alive',
  'x-accel-buffering': 'no',
} as const;

const DONE_FRAME = 'data: [DONE]\n\n';
/** The bytes of a batch buffer; a fuller batch is written at once, without waiting for the turn's end. */
const BATCH_BYTES = 16 * 1024;
/** The most bytes of a frame other than its JSON: `id: <index>\ndata: ` and `\n\n`. */
const FRAME_OVERHEAD = 32;
const ID_FIELD = Buffer.from('id: ', 'latin1');
const DATA_FIELD = Buffer.from('\ndata: ', 'latin1');
/** The start of a frame without an `id:`. */
const DATA_ONLY = Buffer.from('data: ', 'latin1');
const LF = 0x0a;

/** Writes a non-negative integer's decimal digits at `at`; returns the offset after them. */
function writeDecimal(buffer: Buffer, at: number, value: number): number {
  let digits = 1;
  for (let rest = value; rest >= 10; rest = Math.floor(rest / 10)) digits++;
  let rest = value;
  for (let i = at + digits - 1; i >= at; i--) {
    buffer[i] = 0x30 + (rest % 10);
    rest = Math.floor(rest / 10);
  }
  return at + digits;
}

/**
 * Pipes a chunk stream to an HTTP response as OpenAI-style server-sent events.
 *
 * 1. Nothing is sent until the first chunk: the status line and headers wait for it, so a failure
 *    before it becomes a proper HTTP error status with an OpenAI error body (and Retry-After).
 * 2. Each chunk goes out as `id: <index>\ndata: <json>\n\n`; the index lets a client resume with
 *    `Last-Event-ID`. A chunk whose choice has both the role and log probabilities is preceded
 *    by its role alone, in a frame without an `id:`, as OpenAI streams it.
 * 3. Usage follows OpenAI's `include_usage` contract: `usage` is stripped from chunks with
 *    choices; with `includeUsage` it goes out in a last chunk with `choices: []` (the provider's
 *    own usage chunk, or one made from the usage a finish chunk carried), otherwise that chunk is
 *    dropped (its index is left unused).
 * 4. Completion sends `data: [DONE]`. A failure after the first chunk sends
 *    `data: {"error": {...}}` and ends the response without `[DONE]`.
 * 5. While `res.write()` returns false the source is asked to pause (it stops reading its socket)
 *    until `'drain'`. The frames of one event-loop turn are joined into one write.
 * 6. When the client closes the connection the source is unsubscribed at once, which aborts the
 *    upstream request.
 */
export function pipeSse(options: PipeSseOptions): SsePipe {
  const {
    res,
    chunks$,
    headers,
    firstIndex = 0,
    includeUsage,
    backpressure = true,
    maxBufferedBytes = 8 * 1024 * 1024,
  } = options;

  let index = firstIndex;
  let started = false;
  let finished = false;
  let firstChunkAt: number | undefined;
  let provider: string | undefined;
  let model: string | undefined;
  let usage: Usage | undefined;
  let pendingUsage: StreamingChunk | undefined;
  // Closed by a failure or a client close, even one during `subscribe()`: what is added after
  // is unsubscribed at once.
  const subscription = new Subscription();
  let resolveDone!: (end: SseEnd) => void;
  const done = new Promise<SseEnd>((resolve) => (resolveDone = resolve));

  // Demand: undefined while the socket takes more, else a promise that resolves on 'drain'.
  let paused: Promise<void> | undefined;
  let resume: (() => void) | undefined;
  const flow: FlowControl = { ready: () => paused };
  const onDrain = (): void => {
    const r = resume;
    paused = undefined;
    resume = undefined;
    r?.();
  };

  // Frames of one event-loop turn are encoded straight into one buffer and written at once: one
  // chunk of the chunked encoding and one socket write per batch. No string is built per batch
  // (a rope of frames would be flattened, and a two-byte string encoded, once more by Node).
  let batch: Buffer | undefined;
  let used = 0;
  let scheduled = false;
  const takeBatch = (): Buffer | undefined => {
    const out = batch?.subarray(0, used);
    batch = undefined;
    used = 0;
    return out;
  };
  const send = (out: Buffer | string): void => {
    if (!res.write(out)) {
      if (backpressure) {
        paused ??= new Promise<void>((r) => (resume = r));
      } else if (res.writableLength > maxBufferedBytes) {
        fail(new Error('This viewer reads too slowly to keep up with the stream; reattach.'));
      }
    }
  };
  const flush = (): void => {
    scheduled = false;
    if (batch === undefined || finished) return;
    const out = takeBatch();
    if (out !== undefined) send(out);
  };
  /** Batches the frame `id: <id>\ndata: <json>\n\n` (`data: <json>\n\n` without an id). */
  const write = (id: number | undefined, json: string): void => {
    // UTF-8 takes at most 3 bytes per UTF-16 unit.
    const most = FRAME_OVERHEAD + 3 * json.length;
    if (batch !== undefined && used + most > batch.length) flush();
    batch ??= Buffer.allocUnsafe(Math.max(BATCH_BYTES, most));
    if (id === undefined) {
      batch.set(DATA_ONLY, used);
      used += DATA_ONLY.length;
    } else {
      batch.set(ID_FIELD, used);
      used = writeDecimal(batch, used + ID_FIELD.length, id);
      batch.set(DATA_FIELD, used);
      used += DATA_FIELD.length;
    }
    used += batch.write(json, used, 'utf8');
    batch[used++] = LF;
    batch[used++] = LF;
    if (!scheduled) {
      scheduled = true;
      process.nextTick(flush);
    }
  };
  /** Ends the response with what is batched, then `last`. */
  const endWith = (last: string): void => {
    if (batch !== undefined && used + 3 * last.length <= batch.length) {
      used += batch.write(last, used, 'utf8');
      res.end(takeBatch());
      return;
    }
    const out = takeBatch();
    if (out !== undefined) res.write(out);
    res.end(last);
  };

  const start = (): void => {
    started = true;
    firstChunkAt = performance.now();
    res.writeHead(200, headers);
  };

  const end = (result: SseEnd): void => {
    if (finished) return;
    finished = true;
    res.off('close', onClose);
    res.off('drain', onDrain);
    onDrain();
    resolveDone(result);
  };

  const fail = (error: unknown): void => {
    if (finished) return;
    if (res.destroyed) {
      end({ kind: 'client-closed' });
    } else if (!started) {
      end({ kind: 'failed-before-start', error });
      sendError(res, toOpenAIError(error));
    } else {
      end({ kind: 'failed-in-band', error });
      endWith(`data: ${JSON.stringify({ error: toOpenAIError(error).error })}\n\n`);
    }
    subscription.unsubscribe();
  };

  const onClose = (): void => {
    // The response was not ended by us: the client went away.
    subscription.unsubscribe();
    end({ kind: 'client-closed' });
  };
  res.on('close', onClose);
  if (backpressure) res.on('drain', onDrain);

  subscription.add(
    runWithFlow(backpressure ? flow : undefined, () =>
      chunks$.subscribe({
        next(chunk) {
          const id = index++;
          if (finished) return;
          if (!started) start();
          provider = chunk.provider;
          if (chunk.model !== '') model = chunk.model;
          let out = chunk;
          if (chunk.usage !== undefined) {
            usage = chunk.usage;
            if (chunk.choices.length === 0) {
              if (!includeUsage) return;
              pendingUsage = undefined;
            } else {
              // OpenAI's contract: usage travels alone, in a last chunk with `choices: []`.
              out = { ...chunk };
              delete out.usage;
              if (includeUsage) pendingUsage = { ...out, choices: [], usage: chunk.usage };
            }
          }
          // OpenAI sends the role in a chunk of its own, before any log probability: the official
          // SDK's accumulator counts the log probabilities of a first chunk that has both twice.
          // So the role goes first, in a frame without an `id:` (a resume replays it, harmlessly).
          let lead: string | undefined;
          if (hasRoleAndLogprobs(out)) {
            lead = JSON.stringify(roleFrame(out));
            out = withoutRole(out);
          }
          // The first frame goes out at once (time to first token); later ones are batched.
          if (id === firstIndex) {
            const frame = `id: ${id}\ndata: ${JSON.stringify(out)}\n\n`;
            send(lead === undefined ? frame : `data: ${lead}\n\n${frame}`);
          } else {
            if (lead !== undefined) write(undefined, lead);
            write(id, JSON.stringify(out));
          }
        },
        error(error: unknown) {
          fail(error);
        },
        complete() {
          if (finished) return;
          if (!started) start();
          end({ kind: 'completed' });
          // Usage that came on a chunk with choices (Anthropic's and Gemini's last events) goes
          // out as OpenAI's separate usage chunk, without an `id:` of its own.
          endWith(
            pendingUsage === undefined
              ? DONE_FRAME
              : `data: ${JSON.stringify(pendingUsage)}\n\n${DONE_FRAME}`,
          );
        },
      }),
    ),
  );

  return {
    done,
    get started() {
      return started;
    },
    get firstChunkAt() {
      return firstChunkAt;
    },
    get provider() {
      return provider;
    },
    get model() {
      return model;
    },
    get usage() {
      return usage;
    },
    abort: fail,
  };
}

/** The role-only chunk that goes before `chunk`: each choice's role, nothing else. */
function roleFrame(chunk: StreamingChunk): StreamingChunk {
  const { usage: _usage, ...rest } = chunk;
  return {
    ...rest,
    choices: chunk.choices
      .filter((c) => c.delta.role !== undefined)
      .map((c) => ({
        index: c.index,
        delta: { role: 'assistant', content: '' },
        finish_reason: null,
      })),
  };
}

/** `chunk` without the role of its deltas (sent before it by {@link roleFrame}). */
function withoutRole(chunk: StreamingChunk): StreamingChunk {
  return {
    ...chunk,
    choices: chunk.choices.map((c) => {
      if (c.delta.role === undefined) return c;
      const { role: _role, ...delta } = c.delta;
      return { ...c, delta };
    }),
  };
}

/** Whether a choice of `chunk` carries both the role and log probabilities (no closure per chunk). */
function hasRoleAndLogprobs(chunk: StreamingChunk): boolean {
  for (const choice of chunk.choices) {
    if (choice.delta.role !== undefined && choice.logprobs !== undefined) return true;
  }
  return false;
}
