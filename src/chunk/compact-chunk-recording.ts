import type { RecordingCodec } from '../operators/share-stream';
import type { StreamingChunk } from './streaming-chunk';

/**
 * A {@link RecordingCodec} for chunk streams: a text chunk that only continues the one before it
 * (same id, created, model and provider; one choice, index 0, no finish reason, a delta with
 * nothing but `content`) is recorded as its text alone; every other chunk is kept whole.
 *
 * A session records every chunk of its answer so that viewers can attach and replay it. Kept
 * whole, a 60-token answer is about 300 objects that outlive several young-generation garbage
 * collections, each of which copies them; kept as strings, it is about 60 small strings. The
 * subscriber that gets a chunk live gets the original; one that replays it gets an equal copy.
 *
 * ```ts
 * const shared = new SharedStream(chunks$, { recording: compactChunkRecording });
 * ```
 */
export const compactChunkRecording: RecordingCodec<StreamingChunk> = {
  pack(chunk, previous) {
    if (previous === undefined || chunk.usage !== undefined) return chunk;
    if (
      chunk.id !== previous.id ||
      chunk.created !== previous.created ||
      chunk.model !== previous.model ||
      chunk.provider !== previous.provider ||
      chunk.choices.length !== 1
    ) {
      return chunk;
    }
    const choice = chunk.choices[0] as StreamingChunk['choices'][number];
    const { content } = choice.delta;
    if (choice.index !== 0 || choice.finish_reason !== null || typeof content !== 'string') {
      return chunk;
    }
    // Nothing else may ride along: an extra field would be lost in the rebuilt chunk.
    if (!hasKeys(chunk, 6) || !hasKeys(choice, 3) || !hasKeys(choice.delta, 1)) return chunk;
    return content;
  },

  unpack(recorded, previous) {
    if (typeof recorded !== 'string') return recorded as StreamingChunk;
    if (previous === undefined) {
      throw new TypeError(
        'compactChunkRecording: a text chunk was recorded without one before it.',
      );
    }
    return {
      id: previous.id,
      object: 'chat.completion.chunk',
      created: previous.created,
      model: previous.model,
      provider: previous.provider,
      choices: [{ index: 0, delta: { content: recorded }, finish_reason: null }],
    };
  },
};

/** Whether `value` has exactly `count` enumerable keys (counted without allocating). */
function hasKeys(value: object, count: number): boolean {
  let seen = 0;
  for (const key in value) {
    if (!Object.hasOwn(value, key) || ++seen > count) return false;
  }
  return seen === count;
}
