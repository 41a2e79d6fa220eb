import { performance } from 'node:perf_hooks';
import { Pool, type Dispatcher } from 'undici';
import type { LoadCommand, LoadReply, LoadRun } from './messages';

/**
 * Child process: the load generator of the gateway benchmark. It runs in its own process, so
 * none of its work is charged to the server under test. For each `run` command it streams
 * `requests` requests, `concurrency` at a time (closed loop), over one keep-alive undici `Pool`
 * per target, parses every SSE event and checks every stream: exactly `tokens` content tokens, a
 * usage chunk saying so, no error event, and `[DONE]`.
 */

const pools = new Map<string, Pool>();

function poolFor(run: LoadRun): Pool {
  let pool = pools.get(run.origin);
  if (pool === undefined) {
    pool = new Pool(run.origin, {
      connections: run.concurrency,
      pipelining: 1,
      keepAliveTimeout: 120_000,
      keepAliveMaxTimeout: 600_000,
      connectTimeout: run.timeoutMs,
      headersTimeout: run.timeoutMs,
      bodyTimeout: run.timeoutMs,
    });
    pools.set(run.origin, pool);
  }
  return pool;
}

/** What one stream carried. */
interface StreamTally {
  /** When the first content token arrived (performance.now()). */
  firstTokenAt: number | undefined;
  tokens: number;
  usageTokens: number | undefined;
  done: boolean;
  error: string | undefined;
  bytes: number;
  pieces: number;
}

interface OpenAIChunkShape {
  choices?: { delta?: { content?: string | null } }[];
  usage?: { completion_tokens?: number } | null;
  error?: { message?: string };
}

/** Reads the complete SSE events in `text` into `tally`; returns the incomplete rest. */
function readEvents(text: string, tally: StreamTally, now: number): string {
  let start = 0;
  for (let end = text.indexOf('\n\n'); end >= 0; end = text.indexOf('\n\n', start)) {
    const event = text.slice(start, end);
    start = end + 2;
    for (const line of event.split('\n')) {
      if (!line.startsWith('data:')) continue;
      const data = line.slice(line.charCodeAt(5) === 32 ? 6 : 5).trimEnd();
      if (data === '[DONE]') {
        tally.done = true;
        continue;
      }
      const chunk = JSON.parse(data) as OpenAIChunkShape;
      if (chunk.error !== undefined) tally.error ??= `error event: ${chunk.error.message ?? data}`;
      const content = chunk.choices?.[0]?.delta?.content;
      if (typeof content === 'string' && content.length > 0) {
        tally.tokens++;
        tally.firstTokenAt ??= now;
      }
      const usage = chunk.usage?.completion_tokens;
      if (typeof usage === 'number') tally.usageTokens = usage;
    }
  }
  return text.slice(start);
}

/** What one stream carried, and when it started and ended (performance.now()). */
type StreamResult = StreamTally & { startedAt: number; endedAt: number };

/**
 * Streams one request; resolves with its tally (never rejects). It uses undici's `dispatch`
 * directly: no Readable stream per response, so the load generator spends as little CPU as it
 * can (it shares the machine's cores with the servers it measures).
 */
function streamOne(pool: Pool, run: LoadRun): Promise<StreamResult> {
  return new Promise((resolve) => {
    const tally: StreamTally = {
      firstTokenAt: undefined,
      tokens: 0,
      usageTokens: undefined,
      done: false,
      error: undefined,
      bytes: 0,
      pieces: 0,
    };
    const startedAt = performance.now();
    const decoder = new TextDecoder();
    let controller: Dispatcher.DispatchController | undefined;
    let status = 0;
    let rest = '';
    let settled = false;
    const finish = (error?: string): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      const endedAt = performance.now();
      tally.error ??= error;
      if (run.method === 'GET') {
        // Opening connections: only the status matters.
        resolve({ ...tally, firstTokenAt: endedAt, startedAt, endedAt });
        return;
      }
      if (tally.error === undefined) {
        if (tally.tokens !== run.tokens) {
          tally.error = `${tally.tokens} content tokens, expected ${run.tokens}`;
        } else if (tally.usageTokens !== run.tokens) {
          tally.error = `usage.completion_tokens ${String(tally.usageTokens)}, expected ${run.tokens}`;
        } else if (!tally.done) {
          tally.error = 'no [DONE]: the stream was cut';
        }
      }
      resolve({ ...tally, startedAt, endedAt });
    };
    const timer = setTimeout(() => {
      const error = new Error(`no complete answer within ${run.timeoutMs} ms`);
      controller?.abort(error);
      finish(error.message);
    }, run.timeoutMs);
    pool.dispatch(
      run.method === 'GET'
        ? { path: run.path, method: 'GET', headers: run.headers }
        : { path: run.path, method: 'POST', headers: run.headers, body: run.body },
      {
        onRequestStart(started) {
          controller = started;
        },
        onResponseStart(_controller, statusCode) {
          status = statusCode;
        },
        onResponseData(_controller, chunk) {
          tally.bytes += chunk.length;
          tally.pieces++;
          if (run.method === 'GET') return;
          if (status !== 200) {
            if (rest.length < 200) rest += decoder.decode(chunk, { stream: true });
            return;
          }
          try {
            const text = decoder.decode(chunk, { stream: true });
            rest = readEvents(
              rest + (text.includes('\r') ? text.replace(/\r/g, '') : text),
              tally,
              performance.now(),
            );
          } catch (error) {
            tally.error ??= `unreadable stream: ${String(error)}`;
          }
        },
        onResponseEnd() {
          finish(status === 200 ? undefined : `HTTP ${status}: ${rest.slice(0, 200)}`);
        },
        onResponseError(_controller, error) {
          finish(`${error.name}: ${error.message}`);
        },
      },
    );
  });
}

async function execute(run: LoadRun): Promise<LoadReply> {
  const pool = poolFor(run);
  const ttftMs: number[] = [];
  const totalMs: number[] = [];
  const errorSamples: string[] = [];
  let errors = 0;
  let tokens = 0;
  let bytes = 0;
  let pieces = 0;
  let next = 0;
  const cpu = process.cpuUsage();
  const startedAt = performance.now();
  const worker = async (): Promise<void> => {
    while (next < run.requests) {
      next++;
      const result = await streamOne(pool, run);
      tokens += result.tokens;
      bytes += result.bytes;
      pieces += result.pieces;
      if (result.error !== undefined || result.firstTokenAt === undefined) {
        errors++;
        if (errorSamples.length < 5) errorSamples.push(result.error ?? 'no content token');
        continue;
      }
      ttftMs.push(result.firstTokenAt - result.startedAt);
      totalMs.push(result.endedAt - result.startedAt);
    }
  };
  await Promise.all(Array.from({ length: run.concurrency }, worker));
  const wallMs = performance.now() - startedAt;
  const used = process.cpuUsage(cpu);
  return {
    type: 'result',
    ttftMs,
    totalMs,
    wallMs,
    tokens,
    bytes,
    pieces,
    completed: ttftMs.length,
    errors,
    errorSamples,
    cpuMs: (used.user + used.system) / 1000,
  };
}

const listener = (command: LoadCommand): void => {
  if (command.type === 'shutdown') {
    process.off('message', listener);
    Promise.all([...pools.values()].map((pool) => pool.destroy())).then(
      () => {
        process.send?.({ type: 'closed' } satisfies LoadReply);
        process.disconnect();
      },
      (error: unknown) => {
        process.send?.({ type: 'failed', message: String(error) } satisfies LoadReply);
        process.disconnect();
      },
    );
    return;
  }
  execute(command).then(
    (reply) => process.send?.(reply),
    (error: unknown) =>
      process.send?.({ type: 'failed', message: String(error) } satisfies LoadReply),
  );
};
process.on('message', listener);
