import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'winston';
import type { Router } from '../router/router';
import type { GatewayMetrics } from './gateway-metrics';
import type { RequestRecord } from './request-record';

/** A response in progress that shutdown may have to cut. */
export interface LiveResponse {
  /** Stops its upstream and ends the response with `error`. */
  abort(error: unknown): void;
  /** Settles when the response is over. */
  readonly done: Promise<unknown>;
}

/** What every handler of the gateway shares. */
export interface GatewayContext {
  readonly router: Router;
  readonly logger: Logger;
  readonly metrics: GatewayMetrics;
  readonly bodyLimitBytes: number;
  readonly includeUsageByDefault: boolean;
  /** Streams and completions in progress. */
  readonly live: Set<LiveResponse>;
  /** Set once `close()` was called: new requests get 503. */
  closing: boolean;
}

/** One HTTP request being handled. */
export interface RequestScope {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  /** The path, without the query. */
  readonly path: string;
  /** The query string, without `?` ('' when none). */
  readonly query: string;
  /** `performance.now()` when the request arrived. */
  readonly receivedAt: number;
  /** What is logged and counted when the request ends; handlers fill it in. */
  readonly record: RequestRecord;
}

/** Keeps `response` in `ctx.live` until it is over. */
export function trackLive(ctx: GatewayContext, response: LiveResponse): void {
  ctx.live.add(response);
  const remove = (): void => {
    ctx.live.delete(response);
  };
  response.done.then(remove, remove);
}
