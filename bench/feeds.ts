/**
 * How bodies are fed to the contenders: the same pre-built bytes, cut into the same pieces
 * (`subarray`, no copy), either as an async iterable or as a web ReadableStream.
 */

/**
 * The piece size every contender is fed, as a network read might deliver it: 16 KiB, or
 * `BENCH_PIECE_KIB` KiB.
 */
export const pieceSize = Number(process.env.BENCH_PIECE_KIB ?? 16) * 1024;

/**
 * Feeds `bytes` as an async iterable of `size`-byte pieces. Every piece is ready at once, as
 * from a fast socket: `next()` resolves immediately, with no generator machinery in between.
 */
export function piecesOf(bytes: Uint8Array, size = pieceSize): AsyncIterable<Uint8Array> {
  return {
    [Symbol.asyncIterator](): AsyncIterator<Uint8Array, undefined> {
      let offset = 0;
      return {
        next() {
          if (offset >= bytes.length) return Promise.resolve({ done: true, value: undefined });
          const value = bytes.subarray(offset, offset + size);
          offset += size;
          return Promise.resolve({ done: false, value });
        },
        return() {
          offset = bytes.length;
          return Promise.resolve({ done: true, value: undefined });
        },
      };
    },
  };
}

/** Feeds `bytes` as a web ReadableStream of `size`-byte pieces, enqueued on demand. */
export function streamOf(bytes: Uint8Array, size = pieceSize): ReadableStream<Uint8Array> {
  let offset = 0;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (offset >= bytes.length) {
        controller.close();
        return;
      }
      controller.enqueue(bytes.subarray(offset, offset + size));
      offset += size;
    },
  });
}

export interface RepeatedBodyOptions {
  /** Bytes before the repeated block. */
  head: Uint8Array;
  /** A block of whole events, repeated; its length should be a multiple of the piece size. */
  block: Uint8Array;
  /** How many times the block is sent. */
  repeat: number;
  /** Bytes after the last block. */
  tail: Uint8Array;
  /** Called after every block, e.g. to sample the heap. */
  onBlock?: (sent: number) => void;
}

/**
 * Feeds a large body lazily: the head, then the same pre-built block `repeat` times, then the
 * tail, each in `pieceSize` pieces. Only the block is held in memory, never the whole body.
 */
export async function* repeatedBody(options: RepeatedBodyOptions): AsyncGenerator<Uint8Array> {
  const { head, block, repeat, tail, onBlock } = options;
  yield* piecesOf(head);
  for (let i = 0; i < repeat; i++) {
    yield* piecesOf(block);
    onBlock?.(i + 1);
  }
  yield* piecesOf(tail);
}
