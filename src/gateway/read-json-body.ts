import type { IncomingMessage } from 'node:http';
import type { Transform } from 'node:stream';
import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib';
import { gatewayError, type MappedError } from './openai-error';

/** The `Content-Encoding`s a request body may have, and their decoders. */
const decoders: Readonly<Record<string, () => Transform>> = {
  gzip: createGunzip,
  'x-gzip': createGunzip,
  deflate: createInflate,
  br: createBrotliDecompress,
};

/** The parsed body, or the error response to send instead. */
export type JsonBodyResult =
  | { ok: true; body: Record<string, unknown> }
  | { ok: false; error: MappedError; closeConnection: boolean };

function tooLarge(limit: number): JsonBodyResult {
  return {
    ok: false,
    error: gatewayError(
      413,
      `The request body is larger than the gateway's limit of ${limit} bytes. Send a shorter request, or raise server.bodyLimitBytes.`,
      'request_too_large',
    ),
    closeConnection: true,
  };
}

function invalid(message: string, code: string): JsonBodyResult {
  return { ok: false, error: gatewayError(400, message, code), closeConnection: false };
}

/**
 * Reads a JSON object body of at most `limit` bytes.
 *
 * 1. A declared `Content-Length` over the limit is refused before reading anything.
 * 2. A body that grows past the limit stops being read: nothing more is kept, and the caller
 *    answers 413 and closes the connection (`closeConnection`), so memory stays bounded.
 * 3. Invalid JSON gets a 400 naming the problem and where; a body that is not a JSON object gets
 *    a 400 saying what it is.
 * 4. A connection that closes mid-body resolves `undefined`: there is nobody to answer.
 * 5. A `Content-Encoding` of gzip, deflate or br is decoded as it arrives, and the limit counts
 *    the decoded bytes (a small body that inflates past it gets the 413, and decoding stops
 *    there) as well as the encoded ones; a corrupt one gets a 400. Any other encoding gets a 415
 *    naming those three.
 */
export function readJsonBody(
  req: IncomingMessage,
  limit: number,
): Promise<JsonBodyResult | undefined> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) return Promise.resolve(tooLarge(limit));
  const encoding = (req.headers['content-encoding'] ?? 'identity').trim().toLowerCase();
  const decoder = encoding === 'identity' ? undefined : decoders[encoding];
  if (encoding !== 'identity' && decoder === undefined) {
    return Promise.resolve(unsupportedEncoding(encoding));
  }
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const decoding = decoder?.();
    const settle = (result: JsonBodyResult | undefined): void => {
      if (settled) return;
      settled = true;
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('close', onClose);
      req.off('error', onClose);
      decoding?.destroy();
      chunks.length = 0;
      resolve(result);
    };
    /** Settles without reading the rest of the body (the caller closes the connection). */
    const stop = (result: JsonBodyResult): void => {
      req.pause();
      settle(result);
    };
    /** Keeps a piece of the (decoded) body, or stops at the limit. */
    const keep = (chunk: Buffer): void => {
      if (settled) return;
      size += chunk.length;
      if (size > limit) stop(tooLarge(limit));
      else chunks.push(chunk);
    };
    const parse = (): void => {
      const [only] = chunks;
      const text = (
        chunks.length === 1 && only !== undefined ? only : Buffer.concat(chunks)
      ).toString('utf8');
      settle(parseObject(text));
    };
    let wire = 0;
    const onData = (chunk: Buffer): void => {
      if (decoding === undefined) {
        keep(chunk);
        return;
      }
      // The encoded bytes are bounded too: a stream of empty gzip members decodes to nothing.
      wire += chunk.length;
      if (wire > limit) stop(tooLarge(limit));
      else decoding.write(chunk);
    };
    let received = false;
    const onEnd = (): void => {
      received = true;
      if (decoding === undefined) parse();
      else decoding.end();
    };
    const onClose = (): void => {
      // After the whole body came, 'close' only says the request is consumed (it may come while
      // the decoder finishes); before, the client went away.
      if (!received) settle(undefined);
    };
    if (decoding !== undefined) {
      decoding.on('data', keep);
      decoding.on('end', parse);
      decoding.on('error', (error: Error) => {
        stop({
          ok: false,
          error: gatewayError(
            400,
            `The request body is not valid ${encoding} (${error.message}). Send it as its Content-Encoding says, or uncompressed.`,
            'invalid_encoding',
          ),
          // The rest of the body was not read: the connection cannot be reused.
          closeConnection: true,
        });
      });
    }
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('close', onClose);
    req.on('error', onClose);
  });
}

function unsupportedEncoding(encoding: string): JsonBodyResult {
  return {
    ok: false,
    error: gatewayError(
      415,
      `The request body's Content-Encoding ${JSON.stringify(encoding)} is not supported: send it uncompressed, or as gzip, deflate or br.`,
      'unsupported_encoding',
    ),
    // The body was not read: the connection cannot be reused.
    closeConnection: true,
  };
}

/** Parses `text` as a JSON object, or says precisely why it is not one. */
export function parseObject(text: string): JsonBodyResult {
  if (text.trim() === '') {
    return invalid(
      'The request body is empty: send a JSON object such as {"model": "...", "messages": [...]}.',
      'invalid_json',
    );
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    return invalid(
      `The request body is not valid JSON (${detail}). Send a JSON object with Content-Type: application/json.`,
      'invalid_json',
    );
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    const what = value === null ? 'null' : Array.isArray(value) ? 'an array' : `a ${typeof value}`;
    return invalid(`The request body must be a JSON object, got ${what}.`, 'invalid_json');
  }
  return { ok: true, body: value as Record<string, unknown> };
}
