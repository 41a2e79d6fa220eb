import { filter, map, pipe, type OperatorFunction } from 'rxjs';
import type { StreamingChunk } from '../chunk/streaming-chunk';

/** Configuration of {@link textDeltas}. */
export interface TextDeltasConfig {
  /** The `index` of the choice whose text is emitted (not its position in `choices`). Default 0. */
  choice?: number | undefined;
}

/**
 * Maps a chunk stream to the pieces of answer text it carries, for printing or piping as they
 * arrive.
 *
 * <span class="informal">The `delta.content` strings of one choice, empty ones skipped.</span>
 *
 * 1. For each chunk, finds the choice whose `index` is `choice` (chunks without it, such as
 *    usage-only chunks with `choices: []`, emit nothing).
 * 2. Emits its `delta.content` when it is a non-empty string; `null`, missing and `''` are skipped.
 * 3. Only answer text: refusals, reasoning and tool-call arguments are not emitted (read the
 *    chunks, or `collectCompletion`, for those).
 * 4. Errors and completion are passed through; it is cold and unsubscribes from the source with
 *    its subscriber.
 *
 * ```
 * r = role-only, e = { content: '' }, a = 'Hel', b = 'lo', u = usage (choices: [])
 *
 * source:     -r-a-e-b-u-|
 * textDeltas: ---a---b---|      values 'Hel', 'lo'
 * ```
 *
 * ## Example
 *
 * ```ts
 * import { from } from 'rxjs';
 * import { textDeltas, type StreamingChunk } from 'rx-llm-router';
 *
 * const chunk = (content: string): StreamingChunk => ({
 *   id: 'c', object: 'chat.completion.chunk', created: 0, model: 'm', provider: 'p',
 *   choices: [{ index: 0, delta: { content }, finish_reason: null }],
 * });
 * from([chunk(''), chunk('Hel'), chunk('lo')])
 *   .pipe(textDeltas())
 *   .subscribe((text) => console.log(text)); // 'Hel', then 'lo'
 * ```
 *
 * @param config Which choice to read. Default: choice 0.
 * @return A function that returns an Observable of the non-empty content strings of the choice.
 */
export function textDeltas(
  config: TextDeltasConfig = {},
): OperatorFunction<StreamingChunk, string> {
  const { choice = 0 } = config;
  if (!Number.isInteger(choice) || choice < 0) {
    throw new RangeError(
      `textDeltas: choice must be a choice index (an integer ≥ 0), got ${String(choice)}.`,
    );
  }
  return pipe(
    map((chunk: StreamingChunk) => chunk.choices.find((c) => c.index === choice)?.delta.content),
    filter((content): content is string => typeof content === 'string' && content !== ''),
  );
}
