import type { Registry } from 'prom-client';
import type { GatewayContext, RequestScope } from './gateway-context';
import { sendJson } from './send-json';

/** `GET /health`: liveness. 200 `{status: "ok"}`, or 503 `{status: "shutting_down"}` once closing. */
export function handleHealth(ctx: GatewayContext, scope: RequestScope): void {
  if (ctx.closing) sendJson(scope.res, 503, { status: 'shutting_down' });
  else sendJson(scope.res, 200, { status: 'ok' });
}

/** `GET /health/providers`: the router's health snapshot (breakers, counts, latency per candidate). */
export function handleProviderHealth(ctx: GatewayContext, scope: RequestScope): void {
  sendJson(scope.res, 200, ctx.router.health());
}

/** `GET /metrics`: the registry in Prometheus's text format. */
export async function handleMetrics(registry: Registry, scope: RequestScope): Promise<void> {
  const text = await registry.metrics();
  const { res } = scope;
  if (res.headersSent || res.destroyed) return;
  res.writeHead(200, {
    'content-type': registry.contentType,
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}
