import type { IncomingMessage } from 'node:http';

/** The body, or why there is none. */
export type BodyResult =
  { kind: 'ok'; body: Buffer } | { kind: 'too-large'; limit: number } | { kind: 'closed' };

/**
 * Reads a request body of at most `limit` bytes. A declared `Content-Length` over the limit is
 * refused before reading; a body that grows past it stops being kept (the rest is discarded as
 * it arrives, so memory stays bounded).
 */
export function readRequestBody(req: IncomingMessage, limit: number): Promise<BodyResult> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) {
    req.resume();
    return Promise.resolve({ kind: 'too-large', limit });
  }
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const settle = (result: BodyResult): void => {
      if (settled) return;
      settled = true;
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('close', onClose);
      if (result.kind !== 'ok') req.resume();
      resolve(result);
    };
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > limit) {
        chunks.length = 0;
        settle({ kind: 'too-large', limit });
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = (): void => {
      settle({ kind: 'ok', body: Buffer.concat(chunks) });
    };
    const onClose = (): void => {
      settle({ kind: 'closed' });
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('close', onClose);
  });
}
