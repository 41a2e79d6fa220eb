import type { ServerResponse } from 'node:http';
import { Writable } from 'node:stream';
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
    (req, res, body, signal) => {
      const get = req.method === 'GET';
      // undici hands the body's pieces straight to a Writable (`pool.stream`), as in the bare
      // proxy: no Readable and no async iteration between the socket and the parser.
      return pool.stream(
        {
          path: req.url ?? '/',
          method: get ? 'GET' : 'POST',
          headers: { 'content-type': 'application/json' },
          ...(get ? {} : { body }),
          signal,
        },
        (upstreamRes) => {
          const type = String(upstreamRes.headers['content-type'] ?? '');
          res.writeHead(upstreamRes.statusCode, { 'content-type': type });
          // Not a stream (the warm-up's GET /v1/models, an error): forwarded as it is.
          if (!type.startsWith('text/event-stream')) return res;
          return normalizingWriter(res);
        },
      );
    },
    () => pool.destroy(),
  );
}

/** A Writable of upstream SSE bytes that writes the normalized frames of each piece to `res`. */
function normalizingWriter(res: ServerResponse): Writable {
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
  return new Writable({
    write(piece: Buffer, _encoding, callback) {
      try {
        parser.feed(text.decode(piece, { stream: true }));
      } catch (error) {
        callback(error as Error);
        return;
      }
      const frames = out;
      out = '';
      if (frames === '' || res.write(frames)) callback();
      else
        res.once('drain', () => {
          callback();
        });
    },
    final(callback) {
      res.end(callback);
    },
  });
}
