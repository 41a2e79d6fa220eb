import type { IncomingHttpHeaders } from 'node:http';
import { Pool } from 'undici';
import { startProxyServer, type BenchProxy } from './proxy-server';

/** Hop-by-hop headers, which a proxy does not forward. */
const hopByHop = new Set([
  'connection',
  'keep-alive',
  'transfer-encoding',
  'te',
  'upgrade',
  'host',
]);

function forwardable(headers: IncomingHttpHeaders): IncomingHttpHeaders {
  const out: IncomingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) if (!hopByHop.has(name)) out[name] = value;
  return out;
}

/**
 * The bare pass-through proxy: node:http in, an undici `Pool` out, the bytes forwarded both ways
 * without parsing. One extra loopback hop and nothing else: the physical floor of any gateway.
 */
export function startBareProxy(upstream: string, connections: number): Promise<BenchProxy> {
  const pool = new Pool(upstream, { connections, headersTimeout: 0, bodyTimeout: 0 });
  return startProxyServer(
    (req, res, body, signal) =>
      // undici writes the upstream body straight into `res` (and ends it): no Readable between.
      pool.stream(
        {
          path: req.url ?? '/',
          method: req.method === 'GET' ? 'GET' : 'POST',
          headers: forwardable(req.headers),
          body,
          signal,
        },
        (upstreamRes) => {
          res.writeHead(upstreamRes.statusCode, forwardable(upstreamRes.headers));
          return res;
        },
      ),
    () => pool.destroy(),
  );
}
