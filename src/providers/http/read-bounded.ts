import type { Readable } from 'node:stream';

/** The most of an error body we read: enough for any provider's message, bounded for safety. */
export const MAX_ERROR_BODY_BYTES = 64 * 1024;

/**
 * Reads at most `limit` bytes of a body as UTF-8 text, then releases the body (destroying it
 * when it was longer, with an error handler attached first so an abort cannot crash the process).
 */
export async function readBounded(
  body: Readable,
  limit: number = MAX_ERROR_BODY_BYTES,
): Promise<string> {
  body.on('error', () => undefined);
  const pieces: Buffer[] = [];
  let size = 0;
  try {
    for await (const piece of body as AsyncIterable<Buffer>) {
      const room = limit - size;
      if (piece.length >= room) {
        pieces.push(piece.subarray(0, room));
        size = limit;
        break;
      }
      pieces.push(piece);
      size += piece.length;
    }
  } catch {
    // A body that breaks off while we read an error: keep what arrived.
  } finally {
    if (!body.destroyed) body.destroy();
  }
  return Buffer.concat(pieces, size).toString('utf8');
}
