import type { ChunkDelta, FinishReason, StreamingChunk, Usage } from '../chunk/streaming-chunk';

/** The provider name the builders stamp on chunks unless told otherwise. */
export const FAKE_PROVIDER = 'fake';
/** The model name the builders stamp on chunks unless told otherwise. */
export const FAKE_MODEL = 'fake-model';
/** The chunk id the builders use unless told otherwise. */
export const FAKE_CHUNK_ID = 'chatcmpl-fake';

/**
 * Fields every chunk builder accepts. The defaults are fixed (no clock, no random id), so two
 * chunks built alike are deeply equal and marble expectations can be built with the same calls.
 */
export interface ChunkOptions {
  /** Default {@link FAKE_PROVIDER} (`'fake'`). */
  provider?: string;
  /** Default {@link FAKE_MODEL} (`'fake-model'`). */
  model?: string;
  /** Default {@link FAKE_CHUNK_ID} (`'chatcmpl-fake'`). */
  id?: string;
  /** Unix time in seconds. Default 0. */
  created?: number;
  /** The choice the chunk belongs to. Default 0. */
  choice?: number;
}

/** Token counts for {@link usage} and {@link usageChunk}, with OpenAI's semantics. */
export interface UsageSpec {
  /** All input tokens, cache reads and writes included. */
  prompt: number;
  /** All output tokens, reasoning included. */
  completion: number;
  /** Input tokens read from the prompt cache (part of `prompt`). */
  cached?: number;
  /** Input tokens written to the prompt cache (part of `prompt`). */
  cacheWrite?: number;
  /** Reasoning tokens (part of `completion`). */
  reasoning?: number;
}

/** One tool-call piece for {@link toolCallChunk}. */
export interface ToolCallSpec {
  /** The position of the call among parallel calls. Default 0. */
  index?: number;
  /** Set on the first piece of a call. */
  id?: string;
  /** Set on the first piece of a call. */
  name?: string;
  /** A fragment of the JSON arguments; an object is serialized whole with `JSON.stringify`. */
  arguments?: string | Record<string, unknown>;
}

function envelope(options: ChunkOptions): Omit<StreamingChunk, 'choices'> {
  return {
    id: options.id ?? FAKE_CHUNK_ID,
    object: 'chat.completion.chunk',
    created: options.created ?? 0,
    model: options.model ?? FAKE_MODEL,
    provider: options.provider ?? FAKE_PROVIDER,
  };
}

/**
 * A chunk with one choice, carrying `delta` and `finishReason`. The other builders use it; use
 * it yourself for deltas they do not cover.
 */
export function deltaChunk(
  delta: ChunkDelta,
  finishReason: FinishReason | null = null,
  options: ChunkOptions = {},
): StreamingChunk {
  return {
    ...envelope(options),
    choices: [{ index: options.choice ?? 0, delta, finish_reason: finishReason }],
  };
}

/** A text delta: `delta.content = text`. */
export function textChunk(text: string, options: ChunkOptions = {}): StreamingChunk {
  return deltaChunk({ content: text }, null, options);
}

/** The role-only first chunk OpenAI sends: `delta = { role: 'assistant', content: '' }`. */
export function roleChunk(options: ChunkOptions = {}): StreamingChunk {
  return deltaChunk({ role: 'assistant', content: '' }, null, options);
}

/** A reasoning ("thinking") delta. */
export function reasoningChunk(text: string, options: ChunkOptions = {}): StreamingChunk {
  return deltaChunk({ reasoning: text }, null, options);
}

/** A refusal delta. */
export function refusalChunk(text: string, options: ChunkOptions = {}): StreamingChunk {
  return deltaChunk({ refusal: text }, null, options);
}

/**
 * A tool-call delta. The first piece of a call carries `id` and `name`, the next ones only
 * argument fragments with the same `index`:
 *
 * ```ts
 * toolCallChunk({ id: 'call_1', name: 'weather', arguments: '{"city":' });
 * toolCallChunk({ arguments: '"Paris"}' });
 * ```
 */
export function toolCallChunk(spec: ToolCallSpec, options: ChunkOptions = {}): StreamingChunk {
  const fn: { name?: string; arguments?: string } = {};
  if (spec.name !== undefined) fn.name = spec.name;
  if (spec.arguments !== undefined) {
    fn.arguments =
      typeof spec.arguments === 'string' ? spec.arguments : JSON.stringify(spec.arguments);
  }
  return deltaChunk(
    {
      tool_calls: [
        {
          index: spec.index ?? 0,
          ...(spec.id === undefined ? {} : { id: spec.id, type: 'function' as const }),
          function: fn,
        },
      ],
    },
    null,
    options,
  );
}

/** The finish chunk: an empty delta with `finish_reason` (default `'stop'`). */
export function finishChunk(
  reason: FinishReason = 'stop',
  options: ChunkOptions & { raw?: string } = {},
): StreamingChunk {
  const chunk = deltaChunk({}, reason, options);
  if (options.raw !== undefined && chunk.choices[0] !== undefined) {
    chunk.choices[0].raw_finish_reason = options.raw;
  }
  return chunk;
}

/** A {@link Usage} object from token counts; `total_tokens` is computed. */
export function usage(spec: UsageSpec): Usage {
  const result: Usage = {
    prompt_tokens: spec.prompt,
    completion_tokens: spec.completion,
    total_tokens: spec.prompt + spec.completion,
  };
  if (spec.cached !== undefined || spec.cacheWrite !== undefined) {
    result.prompt_tokens_details = {
      ...(spec.cached === undefined ? {} : { cached_tokens: spec.cached }),
      ...(spec.cacheWrite === undefined ? {} : { cache_write_tokens: spec.cacheWrite }),
    };
  }
  if (spec.reasoning !== undefined) {
    result.completion_tokens_details = { reasoning_tokens: spec.reasoning };
  }
  return result;
}

/** The usage chunk OpenAI sends last: `choices: []` and `usage`. */
export function usageChunk(spec: UsageSpec, options: ChunkOptions = {}): StreamingChunk {
  return { ...envelope(options), choices: [], usage: usage(spec) };
}

/**
 * Splits text into word pieces that join back to it exactly, each word with the whitespace
 * before it: `'Hello big world'` gives `['Hello', ' big', ' world']`.
 */
export function splitWords(text: string): string[] {
  return text.match(/\s*\S+|\s+$/g) ?? [];
}

/** Options of {@link chunksFromText}. */
export interface ChunksFromTextOptions extends ChunkOptions {
  /** Start with a {@link roleChunk}. Default false. */
  role?: boolean;
  /** The finish reason of the finish chunk, or `null` for no finish chunk. Default `'stop'`. */
  finishReason?: FinishReason | null;
  /**
   * The usage chunk's counts, or `false` for none. Missing counts default to 0 prompt tokens
   * and one completion token per word piece.
   */
  usage?: Partial<UsageSpec> | false;
}

/**
 * The chunks of a whole answer: one text chunk per word ({@link splitWords}), then a finish
 * chunk and a usage chunk.
 *
 * ```ts
 * chunksFromText('Hello world', { provider: 'p1' });
 * // [text 'Hello', text ' world', finish 'stop', usage {prompt: 0, completion: 2}]
 * ```
 */
export function chunksFromText(
  text: string,
  options: ChunksFromTextOptions = {},
): StreamingChunk[] {
  const { role = false, finishReason = 'stop', usage: usageSpec = {}, ...chunkOptions } = options;
  const words = splitWords(text);
  const chunks: StreamingChunk[] = [];
  if (role) chunks.push(roleChunk(chunkOptions));
  for (const word of words) chunks.push(textChunk(word, chunkOptions));
  if (finishReason !== null) chunks.push(finishChunk(finishReason, chunkOptions));
  if (usageSpec !== false) {
    chunks.push(
      usageChunk(
        {
          ...usageSpec,
          prompt: usageSpec.prompt ?? 0,
          completion: usageSpec.completion ?? words.length,
        },
        chunkOptions,
      ),
    );
  }
  return chunks;
}
