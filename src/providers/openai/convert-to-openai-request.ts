import type { ChatRequest } from '../../request/chat-request';

/** Options of {@link toOpenAIRequest}. */
export interface ToOpenAIRequestOptions {
  /** The model to send, replacing `request.model` (e.g. the deployment a route maps to). */
  model?: string;
}

/**
 * Fields the router consumes itself and never sends upstream: OpenRouter's and LiteLLM's
 * per-request fallback lists (`models`, `fallbacks`) are honoured by the router's failover chain.
 */
export const ROUTER_ONLY_FIELDS = ['models', 'fallbacks'] as const;

/** The streaming body sent to OpenAI's (or an OpenAI-compatible server's) `/chat/completions`. */
export type OpenAIChatRequestBody = Omit<ChatRequest, 'stream' | 'stream_options'> & {
  stream: true;
  /** `include_usage` is always on: without it the stream carries no usage and costs read 0. */
  stream_options: { include_usage: true; [key: string]: unknown };
};

/**
 * Builds the body of a streaming OpenAI chat-completions call from a {@link ChatRequest}.
 * Gloss: the request as it came, made to stream with usage.
 *
 * 1. Every field passes through untouched, unknown extra fields included (servers add fields all
 *    the time), except the router-only {@link ROUTER_ONLY_FIELDS}, which are removed.
 * 2. `stream` is always `true`.
 * 3. `stream_options.include_usage` is always `true`, whatever the caller sent; other
 *    `stream_options` keys are kept. The usage chunk (`choices: []`) is what cost tracking reads.
 * 4. `options.model`, when given, replaces `request.model`.
 *
 * The input is not mutated. Nothing is validated here: validate with `validateChatRequest` first.
 *
 * ## Examples
 *
 * ```ts
 * const body = toOpenAIRequest(
 *   { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Hi' }], fallbacks: ['b'] },
 *   { model: 'gpt-4o-mini-2024-07-18' },
 * );
 * // { model: 'gpt-4o-mini-2024-07-18', messages: [...], stream: true,
 * //   stream_options: { include_usage: true } }
 * ```
 *
 * @see toAnthropicRequest
 * @see toGoogleRequest
 * @param request An OpenAI-shaped chat request.
 * @param options The model override.
 * @return The JSON body to POST to `/chat/completions`.
 */
export function toOpenAIRequest(
  request: ChatRequest,
  options: ToOpenAIRequestOptions = {},
): OpenAIChatRequestBody {
  const { model = request.model } = options;
  const {
    models: _models,
    fallbacks: _fallbacks,
    ...rest
  } = request as ChatRequest & Partial<Record<(typeof ROUTER_ONLY_FIELDS)[number], unknown>>;
  return {
    ...rest,
    model,
    stream: true,
    stream_options: { ...(request.stream_options ?? {}), include_usage: true },
  };
}
