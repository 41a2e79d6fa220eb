import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Registry } from 'prom-client';
import type { KeyCheck } from './authorize';
import { answerPreflight, type CorsHandler } from './cors';
import type { GatewayContext, RequestScope } from './gateway-context';
import { handleChatCompletions } from './handle-chat-completions';
import { handleHealth, handleMetrics, handleProviderHealth } from './handle-health';
import { handleGetModel, handleListModels } from './handle-models';
import {
  handleCancelSession,
  handleGetSession,
  handleListSessions,
  handleStreamSession,
} from './handle-sessions';
import { ENDPOINTS, matchRoute, type RouteHandlers } from './match-route';
import { gatewayError } from './openai-error';
import type { RequestRecord } from './request-record';
import { sendError } from './send-json';

/** What {@link handleRequest} needs beyond the shared context. */
export interface RequestHandlerDeps {
  ctx: GatewayContext;
  registry: Registry;
  keyCheck: KeyCheck | undefined;
  cors: CorsHandler | undefined;
}

/** Endpoints logged at `debug` rather than `info`: scraped and polled all day long. */
const QUIET_ENDPOINTS: ReadonlySet<string> = new Set(['/health', '/metrics']);
const MAX_LOGGED_PATH = 200;
const CLIENT_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

const idPrefix = `req_${randomBytes(6).toString('hex')}_`;
let idCounter = 0;

/** The client's `x-request-id` when it is sane, else a new process-unique id. */
function requestIdOf(req: IncomingMessage): string {
  const given = req.headers['x-request-id'];
  if (typeof given === 'string' && CLIENT_REQUEST_ID.test(given)) return given;
  idCounter = (idCounter + 1) % Number.MAX_SAFE_INTEGER;
  return idPrefix + idCounter.toString(36);
}

function handlers(registry: Registry): RouteHandlers {
  return {
    chatCompletions: handleChatCompletions,
    listModels: handleListModels,
    getModel: handleGetModel,
    health: handleHealth,
    providerHealth: handleProviderHealth,
    metrics: (_ctx, scope) => handleMetrics(registry, scope),
    listSessions: handleListSessions,
    getSession: handleGetSession,
    cancelSession: handleCancelSession,
    streamSession: handleStreamSession,
  };
}

/**
 * Builds the gateway's request listener: request id, CORS, shutdown refusal, routing (404/405),
 * auth (401), the handler, and one log line plus metrics once the response is over and the
 * handler is done.
 */
export function createRequestHandler(
  deps: RequestHandlerDeps,
): (req: IncomingMessage, res: ServerResponse) => void {
  const { ctx, keyCheck, cors } = deps;
  const { logger } = ctx;
  const routes = handlers(deps.registry);

  return (req, res) => {
    const receivedAt = performance.now();
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q === -1 ? url : url.slice(0, q);
    const method = req.method ?? 'GET';
    const requestId = requestIdOf(req);
    const record: RequestRecord = {
      requestId,
      method,
      path: path.length > MAX_LOGGED_PATH ? path.slice(0, MAX_LOGGED_PATH) : path,
      status: 0,
      durationMs: 0,
    };
    const scope: RequestScope = {
      req,
      res,
      path,
      query: q === -1 ? '' : url.slice(q + 1),
      receivedAt,
      record,
    };
    let endpoint = 'unmatched';
    let pending = 2; // the response's 'close' and the handler's end
    const finish = (): void => {
      if (--pending > 0) return;
      record.status = res.statusCode;
      record.durationMs = Math.round((performance.now() - receivedAt) * 100) / 100;
      if (!res.writableFinished && record.outcome === undefined && res.headersSent) {
        record.outcome = 'cancelled';
      }
      ctx.metrics.record(record, endpoint);
      const level = QUIET_ENDPOINTS.has(endpoint) ? 'debug' : 'info';
      // winston runs a stream pipeline even for lines it drops: skip it when nothing is written.
      if (!logger.silent && logger.isLevelEnabled(level)) logger.log(level, 'request', record);
    };
    res.once('close', finish);
    res.setHeader('x-request-id', requestId);
    cors?.(req, res);

    const run = async (): Promise<void> => {
      if (ctx.closing) res.setHeader('connection', 'close');
      if (ctx.closing && path !== '/health') {
        sendError(
          res,
          gatewayError(
            503,
            'The gateway is shutting down; retry on another instance.',
            'shutting_down',
          ),
        );
        return;
      }
      if (method === 'OPTIONS') {
        endpoint = 'OPTIONS';
        answerPreflight(req, res, cors);
        return;
      }
      const found = matchRoute(method, path, routes);
      if (found.kind === 'not-found') {
        sendError(
          res,
          gatewayError(
            404,
            `No endpoint ${method} ${record.path}. The gateway serves: ${ENDPOINTS.join(', ')}.`,
            'unknown_url',
          ),
        );
        return;
      }
      if (found.kind === 'method-not-allowed') {
        res.setHeader('allow', found.allow);
        sendError(
          res,
          gatewayError(
            405,
            `${method} is not allowed on ${record.path}; use ${found.allow}.`,
            'method_not_allowed',
          ),
        );
        return;
      }
      const { route } = found;
      endpoint = route.endpoint;
      if (route.auth && keyCheck !== undefined) {
        const verdict = keyCheck(req);
        if (verdict !== 'ok') {
          res.setHeader('www-authenticate', 'Bearer');
          sendError(
            res,
            gatewayError(
              401,
              verdict === 'missing'
                ? 'No API key provided: send it as "Authorization: Bearer <key>" or in the x-api-key header.'
                : 'Incorrect API key provided.',
              verdict === 'missing' ? 'missing_api_key' : 'invalid_api_key',
            ),
          );
          return;
        }
      }
      await route.run(ctx, scope);
    };

    void run()
      .catch((error: unknown) => {
        ctx.logger.error('request handler failed', { requestId, path: record.path, error });
        if (!res.headersSent) {
          sendError(
            res,
            gatewayError(500, 'The gateway failed unexpectedly; see its logs.', 'internal_error'),
          );
        } else {
          res.destroy();
        }
      })
      .then(finish)
      .catch(() => undefined); // a failing logger must not become an unhandled rejection
  };
}
