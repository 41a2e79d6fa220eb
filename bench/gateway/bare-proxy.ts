import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Pool } from 'undici';

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
export async function startBareProxy(
  upstream: string,
  connections: number,
): Promise<{ url: string; server: Server; close(): Promise<void> }> {
  const pool = new Pool(upstream, { connections, headersTimeout: 0, bodyTimeout: 0 });
  const server = createServer({ noDelay: true }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const abort = new AbortController();
      res.on('close', () => {
        if (!res.writableFinished) abort.abort();
      });
      const body = Buffer.concat(chunks);
      const headers = forwardable(req.headers);
      const method = req.method === 'GET' ? 'GET' : 'POST';
      // undici writes the upstream body straight into `res` (and ends it): no Readable between.
      pool
        .stream(
          { path: req.url ?? '/', method, headers, body, signal: abort.signal },
          (upstream) => {
            res.writeHead(upstream.statusCode, forwardable(upstream.headers));
            return res;
          },
        )
        .catch(() => (res.headersSent ? res.destroy() : res.writeHead(502).end()));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    server,
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await pool.destroy();
    },
  };
}
