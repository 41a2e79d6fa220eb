import type { ChunkChoice, StreamingChunk, Usage } from '../chunk/streaming-chunk';
import type { SseEvent } from '../sse/sse-decoder';

/** What a format decoder knows about the stream it decodes. */
export interface DecoderContext {
  /** The provider name stamped on every chunk. */
  provider: string;
  /** The model to report when the provider's events do not name one. */
  model: string | undefined;
  /** The id to report when the provider's events do not carry one. */
  requestId: string | undefined;
  /** Emits one normalized chunk downstream. */
  emit(chunk: StreamingChunk): void;
}

/**
 * A provider wire-format decoder: SSE events in, normalized chunks out through
 * {@link DecoderContext.emit}. One decoder decodes one stream; it keeps that stream's state.
 * Errors are thrown (typed), and end the stream.
 */
export interface StreamDecoder {
  /** Decodes one SSE event. Returns true when the event ends the stream (`[DONE]`, `message_stop`). */
  event(event: SseEvent): boolean;
  /** A JSON value that arrived outside SSE framing. Decoders throw the error it carries. */
  bareJson(value: unknown, raw: string): void;
  /**
   * Called when the body ends without a terminal event. Returns normally when the stream is
   * complete (a finish reason arrived); throws IncompleteStreamError otherwise.
   */
  end(): void;
}

/** Creates a decoder for one stream. */
export type StreamDecoderFactory = (context: DecoderContext) => StreamDecoder;

/** Builds a normalized chunk. `created` is in seconds. */
export function makeChunk(
  id: string,
  created: number,
  model: string,
  provider: string,
  choices: ChunkChoice[],
  usage?: Usage,
): StreamingChunk {
  const chunk: StreamingChunk = {
    id,
    object: 'chat.completion.chunk',
    created,
    model,
    provider,
    choices,
  };
  if (usage !== undefined) chunk.usage = usage;
  return chunk;
}

/** Builds a usage record from its parts, with OpenAI's semantics and `total_tokens` derived. */
export function makeUsage(parts: {
  promptTokens: number;
  completionTokens: number;
  cachedTokens?: number | undefined;
  cacheWriteTokens?: number | undefined;
  reasoningTokens?: number | undefined;
}): Usage {
  const usage: Usage = {
    prompt_tokens: parts.promptTokens,
    completion_tokens: parts.completionTokens,
    total_tokens: parts.promptTokens + parts.completionTokens,
  };
  if (parts.cachedTokens !== undefined || parts.cacheWriteTokens !== undefined) {
    usage.prompt_tokens_details = {};
    if (parts.cachedTokens !== undefined)
      usage.prompt_tokens_details.cached_tokens = parts.cachedTokens;
    if (parts.cacheWriteTokens !== undefined)
      usage.prompt_tokens_details.cache_write_tokens = parts.cacheWriteTokens;
  }
  if (parts.reasoningTokens !== undefined) {
    usage.completion_tokens_details = { reasoning_tokens: parts.reasoningTokens };
  }
  return usage;
}

/** Narrowing helpers for lenient decoding: unknown fields are ignored, wrong types read as absent. */
export function asRecord(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}

export function asString(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

export function asNumber(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

export function asArray(value: unknown): unknown[] | undefined {
  return Array.isArray(value) ? value : undefined;
}
