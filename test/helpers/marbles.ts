import { TestScheduler } from 'rxjs/testing';
import type {
  ChunkChoice,
  ChunkDelta,
  StreamingChunk,
  Usage,
} from '../../src/chunk/streaming-chunk';
import { deltaChunk, type ChunkOptions } from '../../src/testing/chunk-builders';

/** The envelope the marble tests stamp on their chunks: id `c`, model `m`, provider `p`. */
export const MARBLE_CHUNK: ChunkOptions = { id: 'c', model: 'm', provider: 'p' };

/** Errors made comparable field by field (jest compares errors by message only). */
export function comparable(value: unknown): unknown {
  if (value instanceof Error) {
    return {
      ...Object.fromEntries(Object.entries(value)),
      class: value.constructor.name,
      message: value.message,
    };
  }
  if (Array.isArray(value)) return value.map(comparable);
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, comparable(v)]));
  }
  return value;
}

/** A TestScheduler asserting with a plain deep equal. */
export function createScheduler(): TestScheduler {
  return new TestScheduler((actual, expected) => {
    expect(actual).toEqual(expected);
  });
}

/** A TestScheduler asserting with a deep equal that compares errors field by field. */
export function createComparingScheduler(): TestScheduler {
  return new TestScheduler((actual, expected) => {
    expect(comparable(actual)).toEqual(comparable(expected));
  });
}

/** A {@link MARBLE_CHUNK} chunk with these choices. */
export function withChoices(choices: ChunkChoice[]): StreamingChunk {
  return { ...deltaChunk({}, null, MARBLE_CHUNK), choices };
}

/** A {@link MARBLE_CHUNK} chunk with one unfinished choice 0 carrying `delta`, then `extra`. */
export function chunk(delta: ChunkDelta, extra: Partial<StreamingChunk> = {}): StreamingChunk {
  return { ...deltaChunk(delta, null, MARBLE_CHUNK), ...extra };
}

/** A {@link MARBLE_CHUNK} usage chunk: `choices: []` and `usage`. */
export function usageChunk(usage: Usage): StreamingChunk {
  return chunk({}, { choices: [], usage });
}

/** r: role-only, e: empty keep-alive, u: usage-only, a/b: content. */
export const streamValues = {
  r: chunk({ role: 'assistant' }),
  e: chunk({ content: '' }),
  u: usageChunk({ prompt_tokens: 1, completion_tokens: 0, total_tokens: 1 }),
  a: chunk({ content: 'Hel' }),
  b: chunk({ content: 'lo' }),
};
