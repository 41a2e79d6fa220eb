import { UnknownModelError } from '../errors/unknown-model-error';
import type { GatewayContext, RequestScope } from './gateway-context';
import { toOpenAIError } from './openai-error';
import { sendError, sendJson } from './send-json';

const OWNER = 'rx-llm-router';

/**
 * `GET /v1/models`: OpenAI's model list, one entry per route (alias or glob), with `glob` and
 * the route's `candidates` (`provider/model`) as extra fields.
 */
export function handleListModels(ctx: GatewayContext, scope: RequestScope): void {
  const data = ctx.router.models().map((m) => ({
    id: m.id,
    object: 'model',
    created: 0,
    owned_by: OWNER,
    glob: m.glob,
    candidates: m.candidates,
  }));
  sendJson(scope.res, 200, { object: 'list', data });
}

/**
 * `GET /v1/models/:id`: how a model name resolves: the route it matches and its candidates, or
 * 404 listing the routes.
 */
export function handleGetModel(ctx: GatewayContext, scope: RequestScope, id: string): void {
  const resolved = ctx.router.resolve(id);
  if (resolved === undefined) {
    const available = ctx.router.models().map((m) => m.id);
    sendError(scope.res, toOpenAIError(new UnknownModelError(id, available)));
    return;
  }
  sendJson(scope.res, 200, {
    id,
    object: 'model',
    created: 0,
    owned_by: OWNER,
    route: resolved.route,
    candidates: resolved.candidates,
  });
}
