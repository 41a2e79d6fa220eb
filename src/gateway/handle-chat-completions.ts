import { randomUUID } from 'node:crypto';
import { Subscription } from 'rxjs';
import type { ChatCompletion } from '../chunk/chat-completion';
import { collectCompletion } from '../chunk/collect-completion';
import { CancelledError } from '../errors/cancelled-error';
import { completeRecord, factsOfPipe } from './complete-record';
import { trackLive, type GatewayContext, type RequestScope } from './gateway-context';
import { toOpenAIError } from './openai-error';
import { readJsonBody } from './read-json-body';
import { sendError, sendJson } from './send-json';
import { pipeSse, SSE_HEADERS } from './sse-stream';

/** The longest requested model name kept in the log. */
const MAX_LOGGED_MODEL = 200;

function clientClosed(): CancelledError {
  return new CancelledError('The client closed the connection.');
}

/** Whether the client asked for the usage chunk (`stream_options.include_usage`). */
function wantsUsage(body: Record<string, unknown>, byDefault: boolean): boolean {
  const options = body.stream_options;
  if (typeof options === 'object' && options !== null) {
    const asked = (options as { include_usage?: unknown }).include_usage;
    if (typeof asked === 'boolean') return asked;
  }
  return byDefault;
}

/**
 * `POST /v1/chat/completions`: reads and routes an OpenAI chat request.
 *
 * 1. The body is read up to the limit (413 above, 400 for invalid JSON); the router validates
 *    the request (400 naming the field) and resolves the model (404 listing the models).
 * 2. `stream: true`: server-sent events from the first chunk on (see {@link pipeSse}); every
 *    failure before it is an HTTP error status.
 * 3. Otherwise: one `chat.completion` JSON, or an error status.
 * 4. Every answer is a router session: its id is in the `x-session-id` response header, for
 *    `/v1/sessions/:id` and `/v1/sessions/:id/stream`.
 * 5. A client that closes the connection aborts the upstream request.
 */
export async function handleChatCompletions(
  ctx: GatewayContext,
  scope: RequestScope,
): Promise<void> {
  const { req, res, record } = scope;
  const read = await readJsonBody(req, ctx.bodyLimitBytes);
  if (read === undefined) {
    record.outcome = 'cancelled';
    return;
  }
  if (!read.ok) {
    if (read.closeConnection) res.setHeader('connection', 'close');
    if (read.error.error.code !== null) record.errorCode = read.error.error.code;
    record.errorMessage = read.error.error.message;
    sendError(res, read.error);
    return;
  }
  const { body } = read;
  const stream = body.stream === true;
  const sessionId = `sess_${randomUUID()}`;
  record.sessionId = sessionId;
  record.stream = stream;
  if (typeof body.model === 'string') record.model = body.model.slice(0, MAX_LOGGED_MODEL);
  res.setHeader('x-session-id', sessionId);
  if (stream) await streamAnswer(ctx, scope, body, sessionId);
  else await completeAnswer(ctx, scope, body, sessionId);
}

async function streamAnswer(
  ctx: GatewayContext,
  scope: RequestScope,
  body: Record<string, unknown>,
  sessionId: string,
): Promise<void> {
  const { res, record, receivedAt } = scope;
  ctx.metrics.streams(1);
  const pipe = pipeSse({
    res,
    chunks$: ctx.router.stream(body, { sessionId }),
    headers: SSE_HEADERS,
    includeUsage: wantsUsage(body, ctx.includeUsageByDefault),
  });
  trackLive(ctx, pipe);
  const end = await pipe.done;
  ctx.metrics.streams(-1);
  completeRecord(record, receivedAt, ctx.router.sessions.get(sessionId), factsOfPipe(pipe, end));
}

async function completeAnswer(
  ctx: GatewayContext,
  scope: RequestScope,
  body: Record<string, unknown>,
  sessionId: string,
): Promise<void> {
  const { res, record, receivedAt } = scope;
  const subscription = new Subscription();
  let settle!: (result: { completion: ChatCompletion } | { error: unknown }) => void;
  const settled = new Promise<{ completion: ChatCompletion } | { error: unknown }>(
    (resolve) => (settle = resolve),
  );
  // The client going away unsubscribes, as for a stream: the upstream call is aborted at once.
  const onClose = (): void => {
    subscription.unsubscribe();
    settle({ error: clientClosed() });
  };
  res.on('close', onClose);
  subscription.add(
    ctx.router
      .stream(body, { sessionId })
      .pipe(collectCompletion())
      .subscribe({
        next: (completion) => {
          settle({ completion });
        },
        error: (error: unknown) => {
          settle({ error });
        },
      }),
  );
  trackLive(ctx, {
    abort: (error) => {
      subscription.unsubscribe();
      settle({ error });
    },
    done: settled,
  });
  const result = await settled;
  res.off('close', onClose);
  const session = ctx.router.sessions.get(sessionId);
  if ('completion' in result) {
    const { completion } = result;
    completeRecord(record, receivedAt, session, {
      outcome: 'success',
      provider: completion.provider,
      model: completion.model,
      usage: completion.usage,
    });
    sendJson(res, 200, completion);
    return;
  }
  const gone = res.destroyed;
  completeRecord(record, receivedAt, session, {
    outcome: gone ? 'cancelled' : 'error',
    error: result.error,
  });
  if (!gone) sendError(res, toOpenAIError(result.error));
}
