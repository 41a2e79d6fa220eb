import type { IncomingMessage, ServerResponse } from 'node:http';

/** The gateway's CORS option: off, any origin, or a list of origins. */
export type CorsOption = boolean | { origins: readonly string[] };

const ALLOW_METHODS = 'GET, POST, DELETE, OPTIONS';
const ALLOW_HEADERS =
  'authorization, content-type, x-api-key, last-event-id, x-request-id, openai-organization, openai-project';
const EXPOSE_HEADERS = 'x-session-id, x-request-id, retry-after, retry-after-ms';

/** Applies CORS headers to a response. Returns whether the origin is allowed. */
export type CorsHandler = (req: IncomingMessage, res: ServerResponse) => boolean;

/**
 * Builds the CORS handler: `true` allows any origin (`*`), `{ origins }` echoes an allowed
 * `Origin` (with `Vary: Origin`), `false` adds nothing. Exposes `x-session-id`, `x-request-id`
 * and the Retry-After headers to browser code.
 */
export function createCors(option: CorsOption): CorsHandler | undefined {
  if (option === false) return undefined;
  const any = option === true;
  const allowed = new Set(option === true ? [] : option.origins);
  return (req, res) => {
    const origin = req.headers.origin;
    if (any) {
      res.setHeader('access-control-allow-origin', '*');
    } else {
      res.setHeader('vary', 'Origin');
      if (origin === undefined || !allowed.has(origin)) return false;
      res.setHeader('access-control-allow-origin', origin);
    }
    res.setHeader('access-control-expose-headers', EXPOSE_HEADERS);
    return true;
  };
}

/**
 * Answers a CORS preflight (`OPTIONS`): 204 with the allowed methods and headers (the requested
 * headers are echoed, so custom SDK headers pass), cached for 10 minutes. A disallowed origin
 * gets the 204 without the allow headers, which the browser treats as a refusal.
 */
export function answerPreflight(
  req: IncomingMessage,
  res: ServerResponse,
  cors: CorsHandler | undefined,
): void {
  if (cors?.(req, res) === true) {
    const requested = req.headers['access-control-request-headers'];
    res.setHeader('access-control-allow-methods', ALLOW_METHODS);
    res.setHeader(
      'access-control-allow-headers',
      typeof requested === 'string' && requested !== '' ? requested : ALLOW_HEADERS,
    );
    res.setHeader('access-control-max-age', '600');
  }
  res.writeHead(204, { 'content-length': 0 });
  res.end();
}
