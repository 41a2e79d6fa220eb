import type { GatewayContext, RequestScope } from './gateway-context';

/** A matched endpoint: its name (for metrics and logs) and how to run it. */
export interface RouteMatch {
  /** The endpoint's pattern, e.g. `/v1/sessions/:id` (a bounded label, unlike the path). */
  endpoint: string;
  /** Whether the configured auth keys apply. Only liveness and preflights are open. */
  auth: boolean;
  run(ctx: GatewayContext, scope: RequestScope): void | Promise<void>;
}

/** The handlers {@link matchRoute} dispatches to (injected, so this module has no dependencies). */
export interface RouteHandlers {
  chatCompletions: (ctx: GatewayContext, scope: RequestScope) => Promise<void>;
  listModels: (ctx: GatewayContext, scope: RequestScope) => void;
  getModel: (ctx: GatewayContext, scope: RequestScope, id: string) => void;
  health: (ctx: GatewayContext, scope: RequestScope) => void;
  providerHealth: (ctx: GatewayContext, scope: RequestScope) => void;
  metrics: (ctx: GatewayContext, scope: RequestScope) => Promise<void>;
  listSessions: (ctx: GatewayContext, scope: RequestScope) => void;
  getSession: (ctx: GatewayContext, scope: RequestScope, id: string) => void;
  cancelSession: (ctx: GatewayContext, scope: RequestScope, id: string) => void;
  streamSession: (ctx: GatewayContext, scope: RequestScope, id: string) => Promise<void>;
}

/** What matching a method and path gave. */
export type MatchResult =
  | { kind: 'match'; route: RouteMatch }
  /** The path exists, not with this method. */
  | { kind: 'method-not-allowed'; allow: string }
  | { kind: 'not-found' };

/** The endpoints, for the 404 message. */
export const ENDPOINTS = [
  'POST /v1/chat/completions',
  'GET /v1/models',
  'GET /v1/models/:id',
  'GET /health',
  'GET /health/providers',
  'GET /metrics',
  'GET /v1/sessions',
  'GET /v1/sessions/:id',
  'DELETE /v1/sessions/:id',
  'GET /v1/sessions/:id/stream',
] as const;

function decode(segment: string): string | undefined {
  try {
    const value = decodeURIComponent(segment);
    return value === '' ? undefined : value;
  } catch {
    return undefined;
  }
}

function match(endpoint: string, auth: boolean, run: RouteMatch['run']): MatchResult {
  return { kind: 'match', route: { endpoint, auth, run } };
}

function byMethod(method: string, routes: Record<string, MatchResult>): MatchResult {
  return routes[method] ?? { kind: 'method-not-allowed', allow: Object.keys(routes).join(', ') };
}

/**
 * Finds the endpoint of a request: exact paths first, then `/v1/models/:id` (an id may contain
 * `/`, as in `openai/gpt-4o`) and `/v1/sessions/:id[/stream]`. A trailing slash is ignored.
 */
export function matchRoute(method: string, rawPath: string, h: RouteHandlers): MatchResult {
  const path = rawPath.length > 1 && rawPath.endsWith('/') ? rawPath.slice(0, -1) : rawPath;
  switch (path) {
    case '/v1/chat/completions':
      return byMethod(method, { POST: match(path, true, h.chatCompletions) });
    case '/v1/models':
      return byMethod(method, { GET: match(path, true, h.listModels) });
    case '/health':
      return byMethod(method, { GET: match(path, false, h.health) });
    case '/health/providers':
      return byMethod(method, { GET: match(path, true, h.providerHealth) });
    case '/metrics':
      return byMethod(method, { GET: match(path, true, h.metrics) });
    case '/v1/sessions':
      return byMethod(method, { GET: match(path, true, h.listSessions) });
    default:
      break;
  }
  if (path.startsWith('/v1/models/')) {
    const id = decode(path.slice('/v1/models/'.length));
    if (id === undefined) return { kind: 'not-found' };
    return byMethod(method, {
      GET: match('/v1/models/:id', true, (ctx, scope) => {
        h.getModel(ctx, scope, id);
      }),
    });
  }
  if (path.startsWith('/v1/sessions/')) {
    const rest = path.slice('/v1/sessions/'.length);
    const parts = rest.split('/');
    const id = decode(parts[0] ?? '');
    if (id === undefined || parts.length > 2) return { kind: 'not-found' };
    if (parts.length === 2) {
      if (parts[1] !== 'stream') return { kind: 'not-found' };
      return byMethod(method, {
        GET: match('/v1/sessions/:id/stream', true, (ctx, scope) =>
          h.streamSession(ctx, scope, id),
        ),
      });
    }
    return byMethod(method, {
      GET: match('/v1/sessions/:id', true, (ctx, scope) => {
        h.getSession(ctx, scope, id);
      }),
      DELETE: match('/v1/sessions/:id', true, (ctx, scope) => {
        h.cancelSession(ctx, scope, id);
      }),
    });
  }
  return { kind: 'not-found' };
}
