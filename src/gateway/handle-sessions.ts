import { completeRecord, factsOfPipe } from './complete-record';
import { trackLive, type GatewayContext, type RequestScope } from './gateway-context';
import { gatewayError } from './openai-error';
import { sendError, sendJson } from './send-json';
import { pipeSse, SSE_HEADERS } from './sse-stream';

function unknownSession(id: string): ReturnType<typeof gatewayError> {
  return gatewayError(
    404,
    `No session ${JSON.stringify(id)}: it never existed or it finished too long ago to be kept. List the sessions with GET /v1/sessions.`,
    'session_not_found',
  );
}

/** `GET /v1/sessions`: every session the router keeps, oldest first. */
export function handleListSessions(ctx: GatewayContext, scope: RequestScope): void {
  sendJson(scope.res, 200, { object: 'list', data: ctx.router.sessions.list() });
}

/** `GET /v1/sessions/:id`: one session's snapshot, or 404. */
export function handleGetSession(ctx: GatewayContext, scope: RequestScope, id: string): void {
  const session = ctx.router.sessions.get(id);
  if (session === undefined) sendError(scope.res, unknownSession(id));
  else sendJson(scope.res, 200, session);
}

/**
 * `DELETE /v1/sessions/:id`: cancels the session's upstream at once (its viewers get an error).
 * 404 for an unknown session, 409 for one that already finished.
 */
export function handleCancelSession(ctx: GatewayContext, scope: RequestScope, id: string): void {
  const session = ctx.router.sessions.get(id);
  if (session === undefined) {
    sendError(scope.res, unknownSession(id));
    return;
  }
  if (!ctx.router.sessions.cancel(id)) {
    sendError(
      scope.res,
      gatewayError(
        409,
        `Session ${JSON.stringify(id)} already finished (${ctx.router.sessions.get(id)?.state ?? session.state}): there is nothing to cancel.`,
        'session_finished',
      ),
    );
    return;
  }
  sendJson(scope.res, 200, {
    id,
    object: 'session',
    cancelled: true,
    session: ctx.router.sessions.get(id),
  });
}

/**
 * The chunk index to resume from: `Last-Event-ID` (header, or `last_event_id` in the query, for
 * clients that cannot set headers) plus one; 0 without one. Undefined when it is not a
 * non-negative integer.
 */
export function resumeIndex(scope: RequestScope): number | undefined {
  const header = scope.req.headers['last-event-id'];
  let raw = typeof header === 'string' ? header.trim() : undefined;
  if (raw === undefined && scope.query !== '') {
    raw = new URLSearchParams(scope.query).get('last_event_id') ?? undefined;
  }
  if (raw === undefined || raw === '') return 0;
  if (!/^\d{1,15}$/.test(raw)) return undefined;
  return Number(raw) + 1;
}

/**
 * `GET /v1/sessions/:id/stream`: another viewer of a session, over the same single upstream call.
 *
 * 1. Replays the chunks from the start, or from `Last-Event-ID` + 1, then continues live; the
 *    `id:` of each event is its index in the session, so a viewer can resume again.
 * 2. The usage chunk is always sent (there is no request to carry `include_usage`).
 * 3. A viewer cannot slow the shared stream down: one that falls more than 8 MiB behind is cut.
 * 4. Leaving only drops this viewer; the session goes on for the others.
 */
export async function handleStreamSession(
  ctx: GatewayContext,
  scope: RequestScope,
  id: string,
): Promise<void> {
  const { res, record, receivedAt } = scope;
  record.sessionId = id;
  record.stream = true;
  const fromIndex = resumeIndex(scope);
  if (fromIndex === undefined) {
    sendError(
      res,
      gatewayError(
        400,
        'Last-Event-ID must be the non-negative integer id of the last event received.',
        'invalid_value',
        'Last-Event-ID',
      ),
    );
    return;
  }
  const session = ctx.router.sessions.get(id);
  if (session === undefined) {
    sendError(res, unknownSession(id));
    return;
  }
  record.model = session.requestedModel;
  res.setHeader('x-session-id', id);
  ctx.metrics.streams(1);
  const pipe = pipeSse({
    res,
    chunks$: ctx.router.sessions.attach(id, { fromIndex }),
    headers: SSE_HEADERS,
    firstIndex: fromIndex,
    includeUsage: true,
    backpressure: false,
  });
  trackLive(ctx, pipe);
  const end = await pipe.done;
  ctx.metrics.streams(-1);
  completeRecord(record, receivedAt, undefined, factsOfPipe(pipe, end));
}
