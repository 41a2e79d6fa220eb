import { randomUUID } from 'node:crypto';
import { filter, type Subscription } from 'rxjs';
import type { StreamingChunk } from '../chunk/streaming-chunk';
import { buildRouterConfig } from '../config/build-router-config';
import type { ConfigEnv } from '../config/interpolate-env';
import { loadGatewayConfig } from '../config/load-gateway-config';
import { isRouterError } from '../errors/router-error';
import { createRouter } from '../router/create-router';
import type { Router } from '../router/router';
import type { FailoverEvent } from '../router/router-events';
import {
  applyChunk,
  applySession,
  createChatStatus,
  formatChatStatus,
  type ChatStatus,
} from './chat-status';
import { createGatewayClient } from './gateway-client';
import { createStatusLine, type StatusStream } from './status-line';

/** Options of `rx-llm-router chat`. */
export interface ChatCommandOptions {
  /** The model or alias to ask for. Default `fast` (an alias of the built-in simulator config). */
  model?: string | undefined;
  /** A config file for the in-process router (default: `rx-llm-router.yaml` in the cwd, else the built-in simulator). */
  config?: string | undefined;
  /** A running gateway to ask instead of an in-process router. */
  url?: string | undefined;
  /** The gateway's key (`--url` only). */
  apiKey?: string | undefined;
  /** Print each chunk as one JSON line instead of the text. */
  json?: boolean | undefined;
  /** A system message. */
  system?: string | undefined;
  /** `max_tokens` of the request. */
  maxTokens?: number | undefined;
}

/** A writable stream the command writes to (stdout, stderr, or fakes in tests). */
export interface ChatOutput extends StatusStream {
  write(text: string): boolean;
  once(event: 'drain', listener: () => void): unknown;
}

/** Where the command reads and writes. */
export interface ChatIo {
  stdout: ChatOutput;
  stderr: ChatOutput;
  /** Directory for the default config file. Default `process.cwd()`. */
  cwd?: string | undefined;
  env?: ConfigEnv | undefined;
  /** Aborts the answer (Ctrl-C). */
  signal?: AbortSignal | undefined;
  /** The clock, ms. Default `performance.now()`. */
  now?: () => number;
}

/** The exit codes of `chat`. */
export const CHAT_EXIT = { ok: 0, failed: 1, interrupted: 130 } as const;

/** A source of chunks plus whatever keeps the status up to date; `finish` runs at the end. */
interface ChatSource {
  chunks: AsyncIterable<StreamingChunk>;
  /** Final numbers (cost, failovers) once the answer is over. */
  settle(): Promise<void>;
  close(): Promise<void>;
}

/** Writes, and waits for `drain` when the stream's buffer is full (a slow pipe). */
async function write(out: ChatOutput, text: string): Promise<void> {
  if (out.write(text)) return;
  await new Promise<void>((resolve) => {
    out.once('drain', resolve);
  });
}

function requestBody(prompt: string, options: ChatCommandOptions): Record<string, unknown> {
  const messages: { role: string; content: string }[] = [];
  if (options.system !== undefined) messages.push({ role: 'system', content: options.system });
  messages.push({ role: 'user', content: prompt });
  return {
    model: options.model ?? 'fast',
    messages,
    stream: true,
    stream_options: { include_usage: true },
    ...(options.maxTokens === undefined ? {} : { max_tokens: options.maxTokens }),
  };
}

async function gatewaySource(
  url: string,
  body: Record<string, unknown>,
  options: ChatCommandOptions,
  status: ChatStatus,
  signal: AbortSignal | undefined,
): Promise<ChatSource> {
  const client = createGatewayClient({ url, apiKey: options.apiKey });
  try {
    const answer = await client.stream(body, signal);
    return {
      chunks: answer.chunks,
      async settle() {
        if (answer.sessionId === undefined) return;
        const session = await client.session(answer.sessionId);
        if (session !== undefined) applySession(status, session);
      },
      close: () => client.close(),
    };
  } catch (error) {
    await client.close();
    throw error;
  }
}

async function routerSource(
  body: Record<string, unknown>,
  options: ChatCommandOptions,
  io: ChatIo,
  status: ChatStatus,
): Promise<ChatSource> {
  const loaded = await loadGatewayConfig({ configPath: options.config, cwd: io.cwd, env: io.env });
  let router: Router;
  try {
    router = createRouter(buildRouterConfig(loaded.config));
  } catch (error) {
    await loaded.close();
    throw error;
  }
  const sessionId = `cli_${randomUUID()}`;
  const subscriptions: Subscription[] = [
    router.sessions.changes$.pipe(filter((s) => s.id === sessionId)).subscribe((session) => {
      applySession(status, session);
    }),
    router.events$
      .pipe(filter((e): e is FailoverEvent => e.type === 'failover' && e.sessionId === sessionId))
      .subscribe((e) => {
        status.failovers.push({ from: e.from, to: e.to, reason: e.code ?? e.reason });
      }),
  ];
  const chunks = router.streamChatCompletion(body, { sessionId, signal: io.signal });
  return {
    chunks,
    settle() {
      const session = router.sessions.get(sessionId);
      if (session !== undefined) applySession(status, session);
      return Promise.resolve();
    },
    async close() {
      for (const s of subscriptions) s.unsubscribe();
      await router.close();
      await loaded.close();
    },
  };
}

function describeError(error: unknown): string {
  if (error instanceof Error) {
    const code = isRouterError(error) ? ` [${error.code}]` : '';
    return `${error.message}${code}`;
  }
  return String(error);
}

/**
 * `rx-llm-router chat "prompt"`: streams one answer to stdout.
 *
 * 1. With `url`, asks a running gateway (`POST /v1/chat/completions`); otherwise builds a router
 *    in-process from `config` (or `rx-llm-router.yaml` in the cwd, or the built-in simulator).
 * 2. Text mode writes the content deltas as they arrive, then a newline; `json` writes each
 *    chunk as one JSON line.
 * 3. On stderr: a live status line (provider/model, tokens, tokens/s, cost, failovers) when it
 *    is a TTY; otherwise one summary line at the end.
 * 4. Any failure, in-band ones included (a stream cut after content), prints `error: ...` on
 *    stderr and returns a non-zero exit code: 1, or 130 when interrupted.
 *
 * @param prompt The user message.
 * @param options The command's options.
 * @param io Where to write, the environment and the abort signal.
 * @return The exit code.
 */
export async function runChatCommand(
  prompt: string,
  options: ChatCommandOptions,
  io: ChatIo,
): Promise<number> {
  const now = io.now ?? (() => performance.now());
  const status = createChatStatus(now());
  const sharesTerminal = io.stdout.isTTY === true;
  const line = createStatusLine({ stream: io.stderr, sharesTerminal, now });
  const body = requestBody(prompt, options);
  let source: ChatSource | undefined;
  let text = '';
  let exit: number = CHAT_EXIT.ok;
  let failure: unknown;
  try {
    line.update(formatChatStatus(status, now()), true);
    source =
      options.url === undefined
        ? await routerSource(body, options, io, status)
        : await gatewaySource(options.url, body, options, status, io.signal);
    for await (const chunk of source.chunks) {
      applyChunk(status, chunk, now());
      const piece =
        options.json === true
          ? `${JSON.stringify(chunk)}\n`
          : chunk.choices.map((c) => c.delta.content ?? '').join('');
      if (piece !== '') {
        // On a shared terminal the status line is erased first, then redrawn below the text.
        if (sharesTerminal) line.clear();
        if (options.json !== true) text += piece;
        await write(io.stdout, piece);
      }
      line.update(formatChatStatus(status, now()), sharesTerminal);
    }
    await source.settle();
  } catch (error) {
    failure = error;
    exit = io.signal?.aborted === true ? CHAT_EXIT.interrupted : CHAT_EXIT.failed;
    await source?.settle().catch(() => undefined);
  }
  try {
    await source?.close();
  } catch (error) {
    failure ??= error;
    if (exit === CHAT_EXIT.ok) exit = CHAT_EXIT.failed;
  }
  line.clear();
  if (options.json !== true && text !== '' && !text.endsWith('\n')) await write(io.stdout, '\n');
  const summary = formatChatStatus(status, now(), { final: true });
  if (failure === undefined) line.finish(summary);
  else {
    line.finish(`${summary} · ${exit === CHAT_EXIT.interrupted ? 'interrupted' : 'failed'}`);
    io.stderr.write(
      `error: ${exit === CHAT_EXIT.interrupted ? 'interrupted' : describeError(failure)}\n`,
    );
  }
  return exit;
}
