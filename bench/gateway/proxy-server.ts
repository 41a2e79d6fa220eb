import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One proxied request: its body read whole, and a signal that fires if the client leaves. */
export type Forward = (
  req: IncomingMessage,
  res: ServerResponse,
  body: Buffer,
  signal: AbortSignal,
) => Promise<unknown>;

/** A running proxy of the benchmark. */
export interface BenchProxy {
  url: string;
  server: Server;
  close(): Promise<void>;
}

/**
 * The server side shared by the benchmark's proxies: node:http on 127.0.0.1, each request's
 * body read, then `forward`; a failed forward becomes a 502 (or a cut response once started).
 */
export async function startProxyServer(
  forward: Forward,
  closeUpstream: () => Promise<void>,
): Promise<BenchProxy> {
  const server = createServer({ noDelay: true }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const abort = new AbortController();
      res.on('close', () => {
        if (!res.writableFinished) abort.abort();
      });
      forward(req, res, Buffer.concat(chunks), abort.signal).catch(() =>
        res.headersSent ? res.destroy() : res.writeHead(502).end(),
      );
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
      await closeUpstream();
    },
  };
}
