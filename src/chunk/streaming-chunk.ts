/**
 * The normalized streaming chunk: OpenAI's `chat.completion.chunk` shape, plus the name of the
 * provider that produced it. Every provider stream is decoded into these.
 */

/** OpenAI's finish reasons. Every provider's own reason is mapped onto one of these. */
export type FinishReason = 'stop' | 'length' | 'tool_calls' | 'content_filter' | 'function_call';

/** A piece of a tool call, as it streams. The first piece of a call carries `id` and `name`. */
export interface ToolCallDelta {
  /** Position of the call among the parallel calls of this choice. Pieces are joined by index. */
  index: number;
  id?: string;
  type?: 'function';
  function: {
    name?: string;
    /** A fragment of the JSON arguments; fragments concatenate to the full JSON text. */
    arguments?: string;
  };
}

/** What one chunk adds to a choice. */
export interface ChunkDelta {
  role?: 'assistant';
  content?: string | null;
  refusal?: string | null;
  /** Reasoning ("thinking") text, where the provider streams it. */
  reasoning?: string;
  /**
   * The provider's reasoning signature (Anthropic's thinking `signature_delta`, Gemini's
   * `thoughtSignature`), kept so a conversation can be continued verbatim.
   */
  reasoning_signature?: string;
  /** Anthropic's `redacted_thinking` data, opaque. */
  redacted_reasoning?: string;
  tool_calls?: ToolCallDelta[];
  /**
   * OpenAI's annotations of the text, as sent (`url_citation`s of search models and of
   * OpenRouter's web plugin: `{type, url_citation: {url, title, start_index, end_index}}`).
   */
  annotations?: Record<string, unknown>[];
}

/** A token and its log probability, as OpenAI reports them. */
export interface TopLogprob {
  token: string;
  logprob: number;
  /** The token's UTF-8 bytes, or null when it has none of its own. */
  bytes: number[] | null;
}

/** One generated token's log probability, with the likeliest tokens at its position. */
export interface TokenLogprob extends TopLogprob {
  /** As many as the request's `top_logprobs` asked for (none by default). */
  top_logprobs: TopLogprob[];
}

/** The log probabilities of the tokens a chunk adds to a choice (OpenAI's `logprobs: true`). */
export interface ChoiceLogprobs {
  content: TokenLogprob[] | null;
  refusal: TokenLogprob[] | null;
}

export interface ChunkChoice {
  index: number;
  delta: ChunkDelta;
  finish_reason: FinishReason | null;
  /** The provider's own finish reason, unmapped (`end_turn`, `MAX_TOKENS`, `stop`, ...). */
  raw_finish_reason?: string;
  /** The delta's token log probabilities, when the request asked for them and the provider sent them. */
  logprobs?: ChoiceLogprobs;
}

/** Token usage with OpenAI's semantics, whatever the provider. */
export interface Usage {
  /** All input tokens, including cache reads and cache writes. */
  prompt_tokens: number;
  /** All output tokens, including reasoning tokens. */
  completion_tokens: number;
  /** `prompt_tokens + completion_tokens`. */
  total_tokens: number;
  prompt_tokens_details?: {
    /** Input tokens read from the prompt cache (included in `prompt_tokens`). */
    cached_tokens?: number;
    /** Input tokens written to the prompt cache (included in `prompt_tokens`). */
    cache_write_tokens?: number;
  };
  completion_tokens_details?: {
    /** Reasoning tokens (included in `completion_tokens`). */
    reasoning_tokens?: number;
  };
}

export interface StreamingChunk {
  id: string;
  object: 'chat.completion.chunk';
  /** Unix time in seconds. */
  created: number;
  model: string;
  /** The provider that produced this chunk (`openai`, `anthropic`, `google`, or a custom name). */
  provider: string;
  choices: ChunkChoice[];
  /** Present on the chunk that reports usage, normally the last one. */
  usage?: Usage;
}

/** The wire formats that {@link decodeProviderStream} understands. */
export type StreamFormat = 'openai' | 'anthropic' | 'google';
