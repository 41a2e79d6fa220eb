/** A body that can be read piece by piece: a web ReadableStream or any async iterable of bytes. */
export type ByteBody = AsyncIterable<Uint8Array> | ReadableStream<Uint8Array>;

/** A pull reader over a {@link ByteBody} that can be released at any time. */
export interface BodyReader {
  read(): Promise<IteratorResult<Uint8Array, unknown>>;
  /** Stops reading and releases the body. Idempotent; never throws. */
  release(): void;
}

function isReadableStream(body: ByteBody): body is ReadableStream<Uint8Array> {
  return typeof (body as ReadableStream<Uint8Array>).getReader === 'function';
}

// Bodies already opened. An async iterable has no lock of its own (a generator or a Node stream
// hands every caller the same bytes), so a second reader would silently split the body.
const opened = new WeakSet();

/**
 * Opens a pull reader over `body`. A ReadableStream is read through its reader (so it works in
 * browsers whose streams are not async iterable) and cancelled on release; an async iterable is
 * read through its iterator and closed with `return()` on release.
 *
 * A body can be opened once: opening it again throws a TypeError, even after it was released.
 */
export function openBody(body: ByteBody): BodyReader {
  if (opened.has(body))
    throw new TypeError('This body was already opened; a body can be read once.');
  opened.add(body);
  let released = false;
  if (isReadableStream(body)) {
    const reader = body.getReader();
    return {
      read: () => reader.read(),
      release() {
        if (released) return;
        released = true;
        reader.cancel().catch(() => undefined);
      },
    };
  }
  const iterator = body[Symbol.asyncIterator]();
  return {
    read: () => iterator.next(),
    release() {
      if (released) return;
      released = true;
      try {
        const result = iterator.return?.();
        if (result !== undefined) result.catch(() => undefined);
      } catch {
        // A body that cannot be closed has nothing more to release.
      }
    },
  };
}
