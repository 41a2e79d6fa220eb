import { createParser } from 'eventsource-parser';
import { Pool } from 'undici';
import { startProxyServer, type BenchProxy } from './proxy-server';

/**
 * The parsing proxy: the bare proxy plus the work every normalizing gateway must do and nothing
 * else. It decodes the upstream's server-sent events (eventsource-parser, as our decoder does),
 * parses each event's JSON, stamps the provider on it, serializes it again, and writes the
 * frames of each upstream piece in one write. No validation, routing, retries, breaker,
 * timeouts, sessions, cost or metrics: a reference point for what normalization alone costs,
 * not a usable gateway.
 */
export function startParsingProxy(upstream: string, connections: number): Promise<BenchProxy> {
  const pool = new Pool(upstream, { connections, headersTimeout: 0, bodyTimeout: 0 });
  return startProxyServer(
    async (req, res, body, signal) => {
      const get = req.method === 'GET';
      const upstreamRes = await pool.request({
        path: req.url ?? '/',
        method: get ? 'GET' : 'POST',
        headers: { 'content-type': 'application/json' },
        ...(get ? {} : { body }),
        signal,
      });
      const type = String(upstreamRes.headers['content-type'] ?? '');
      res.writeHead(upstreamRes.statusCode, { 'content-type': type });
      if (!type.startsWith('text/event-stream')) {
        // Not a stream (the warm-up's GET /v1/models, an error): forwarded as it is.
        for await (const piece of upstreamRes.body as AsyncIterable<Uint8Array>) res.write(piece);
        res.end();
        return;
      }
      let out = '';
      const parser = createParser({
        onEvent({ data }) {
          if (data === '[DONE]') {
            out += 'data: [DONE]\n\n';
            return;
          }
          const json = JSON.parse(data) as Record<string, unknown>;
          json.provider = 'openai';
          out += `data: ${JSON.stringify(json)}\n\n`;
        },
      });
      const text = new TextDecoder();
      for await (const piece of upstreamRes.body as AsyncIterable<Uint8Array>) {
        parser.feed(text.decode(piece, { stream: true }));
        if (out !== '') {
          res.write(out);
          out = '';
        }
      }
      res.end();
    },
    () => pool.destroy(),
  );
}
