import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Registry } from 'prom-client';
import type { Logger } from 'winston';
import { CancelledError } from '../errors/cancelled-error';
import { createLogger } from '../logging/create-logger';
import type { Router } from '../router/router';
import { createKeyCheck } from './authorize';
import { createCors, type CorsOption } from './cors';
import type { GatewayContext } from './gateway-context';
import { createGatewayMetrics } from './gateway-metrics';
import { createRequestHandler } from './handle-request';

/** Options of {@link startGateway}. */
export interface GatewayOptions {
  /** The router every request goes through. The gateway never closes it. */
  router: Router;
  /** The interface to listen on. Default `'127.0.0.1'`. */
  host?: string;
  /** The port. Default 8787; 0 picks a free one. */
  port?: number;
  /** The largest request body accepted; larger ones get 413. Default 1 MiB. */
  bodyLimitBytes?: number;
  /** CORS: off (default), any origin (`true`), or the listed origins. */
  cors?: boolean | { origins: readonly string[] };
  /**
   * When non-empty, every endpoint but `GET /health` requires one of these keys, as
   * `Authorization: Bearer <key>` or `x-api-key: <key>` (401 otherwise). Compared in constant time.
   */
  authKeys?: readonly string[];
  /** Where the request log lines go. Default: `createLogger()` (JSON lines on stdout). */
  logger?: Logger;
  /** How long `close()` lets open streams finish before it cuts them, ms. Default 10 000. */
  shutdownGraceMs?: number;
  /** The Prometheus registry of `/metrics`. Default: a new one (never the global registry). */
  registry?: Registry;
  /** Send the usage chunk to streaming clients that did not ask (`include_usage`). Default false. */
  includeUsageByDefault?: boolean;
}

/** A running gateway. */
export interface Gateway {
  /** `http://host:port`, without a trailing slash. */
  readonly url: string;
  readonly port: number;
  readonly server: Server;
  readonly registry: Registry;
  /**
   * Stops accepting; lets open streams finish up to `graceMs` (default `shutdownGraceMs`), then
   * aborts them (a stream under way gets an in-band error, one not started a 503); closes every
   * connection. Does NOT close the router. Idempotent.
   */
  close(options?: { graceMs?: number }): Promise<void>;
}

function check(name: string, value: number, min: number): number {
  if (!Number.isFinite(value) || value < min) {
    throw new RangeError(`startGateway: ${name} must be a number >= ${min}; got ${String(value)}.`);
  }
  return value;
}

/**
 * Starts the OpenAI-compatible HTTP gateway in front of a router.
 *
 * 1. `POST /v1/chat/completions` (streaming and not), `GET /v1/models`, `GET /health`,
 *    `GET /health/providers`, `GET /metrics` and the `/v1/sessions` endpoints (see
 *    docs/gateway.md).
 * 2. Status and headers wait for the first chunk: every failure before it is an HTTP status with
 *    an OpenAI error body; after it, an in-band `data: {"error": ...}` and no `[DONE]`.
 * 3. A client that disconnects aborts its upstream request; a slow client pauses it.
 * 4. One JSON log line per request, without secrets; Prometheus metrics in `registry`.
 *
 * ```ts
 * const router = createRouter(config);
 * const gateway = await startGateway({ router, port: 8787 });
 * // curl -N $URL/v1/chat/completions -d '{"model":"fast","stream":true,"messages":[...]}'
 * await gateway.close();
 * await router.close();
 * ```
 *
 * @param options The router, where to listen, limits, auth, CORS, logging and metrics.
 * @return The gateway, once it listens.
 */
export async function startGateway(options: GatewayOptions): Promise<Gateway> {
  const {
    router,
    host = '127.0.0.1',
    port = 8787,
    bodyLimitBytes = 1024 * 1024,
    cors = false,
    authKeys = [],
    logger = createLogger(),
    shutdownGraceMs = 10_000,
    registry = new Registry(),
    includeUsageByDefault = false,
  } = options;
  check('port', port, 0);
  check('bodyLimitBytes', bodyLimitBytes, 1);
  check('shutdownGraceMs', shutdownGraceMs, 0);
  if (authKeys.some((key) => typeof key !== 'string' || key === '')) {
    throw new TypeError('startGateway: authKeys must be non-empty strings.');
  }
  const corsOption: CorsOption = cors;

  const metrics = createGatewayMetrics(registry, router);
  const ctx: GatewayContext = {
    router,
    logger,
    metrics,
    bodyLimitBytes,
    includeUsageByDefault,
    live: new Set(),
    closing: false,
  };
  const server = createServer(
    { noDelay: true },
    createRequestHandler({
      ctx,
      registry,
      keyCheck: authKeys.length > 0 ? createKeyCheck(authKeys) : undefined,
      cors: createCors(corsOption),
    }),
  );
  // A client that misbehaves at the HTTP level gets a status and its socket closed, not a crash.
  server.on('clientError', (error: NodeJS.ErrnoException, socket) => {
    if (!socket.writable) {
      socket.destroy();
      return;
    }
    const status =
      error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? '408 Request Timeout'
        : error.code === 'HPE_HEADER_OVERFLOW'
          ? '431 Request Header Fields Too Large'
          : '400 Bad Request';
    socket.end(`HTTP/1.1 ${status}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`);
  });
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (error) {
    metrics.close();
    throw error;
  }
  const address = server.address() as AddressInfo;
  const urlHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;

  let closing: Promise<void> | undefined;
  const close = async (graceMs: number): Promise<void> => {
    ctx.closing = true;
    const closed = new Promise<void>((resolve) => {
      server.close(() => {
        resolve();
      });
    });
    server.closeIdleConnections();
    if (ctx.live.size > 0) {
      let timer: NodeJS.Timeout | undefined;
      const deadline = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, graceMs);
      });
      const drained = Promise.all([...ctx.live].map((live) => live.done));
      await Promise.race([drained, deadline]);
      clearTimeout(timer);
      const cut = new CancelledError(
        `The gateway shut down before this answer finished (grace period ${graceMs} ms).`,
        { code: 'RXLLM_ROUTER_CLOSED' },
      );
      const open = [...ctx.live];
      for (const live of open) live.abort(cut);
      await Promise.all(open.map((live) => live.done));
    }
    // Let the responses just ended flush before the connections go.
    await new Promise<void>((resolve) => setImmediate(resolve));
    server.closeAllConnections();
    await closed;
    metrics.close();
  };

  return {
    url: `http://${urlHost}:${address.port}`,
    port: address.port,
    server,
    registry,
    close(closeOptions = {}) {
      closing ??= close(check('graceMs', closeOptions.graceMs ?? shutdownGraceMs, 0));
      return closing;
    },
  };
}
