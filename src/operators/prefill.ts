import type { Usage } from '../chunk/streaming-chunk';
import type { ChatMessage, ChatRequest } from '../request/chat-request';

/**
 * Internal helpers of `failover`: the assistant prefill that asks a model to continue a partial
 * answer, and the usage arithmetic of a spliced answer. Not part of the public API.
 */

/** A request that continues a partial answer, and what was added to it. */
export interface PrefilledRequest {
  request: ChatRequest;
  /**
   * The text this prefill added to the conversation, after trimming: what the new leg reads as
   * extra input, on top of the original request.
   */
  appended: string;
  /**
   * Whitespace cut from the end of the prefill. Anthropic rejects a prefill that ends in
   * whitespace, so it is never sent; the continuation usually starts with it again, and the
   * caller drops it there (the consumer already has it).
   */
  trimmed: string;
}

/**
 * Appends `partialText` to `request` as an assistant prefill: merged into a trailing assistant
 * text message (the caller's own prefill) when there is one, else a new
 * `{ role: 'assistant', content }` message at the end. Trailing whitespace is trimmed (see
 * {@link PrefilledRequest.trimmed}). Returns undefined when nothing but whitespace would be sent.
 */
export function withPrefill(
  request: ChatRequest,
  partialText: string,
): PrefilledRequest | undefined {
  const messages = request.messages;
  const last = messages[messages.length - 1];
  const mergeable =
    last !== undefined &&
    last.role === 'assistant' &&
    (last.tool_calls === undefined || last.tool_calls.length === 0) &&
    (typeof last.content === 'string' || last.content === null || last.content === undefined);
  const base = mergeable && typeof last.content === 'string' ? last.content : '';
  const merged = base + partialText;
  const content = merged.replace(/\s+$/u, '');
  if (content === '') return undefined;
  const prefill: ChatMessage = mergeable ? { ...last, content } : { role: 'assistant', content };
  return {
    request: {
      ...request,
      messages: mergeable ? [...messages.slice(0, -1), prefill] : [...messages, prefill],
    },
    appended: content.slice(Math.min(base.length, content.length)),
    trimmed: merged.slice(content.length),
  };
}

/**
 * The default token estimate for text whose usage no provider reported: one token per four
 * characters (UTF-16 code units), rounded up. It is the usual rule of thumb for English with
 * OpenAI's and Anthropic's tokenizers; inject a better one where it matters.
 */
export function estimateTokensByLength(text: string): number {
  return Math.ceil(text.length / 4);
}

/** `a + b`, field by field; detail fields are summed where either side has them. */
export function addUsage(a: Usage, b: Usage): Usage {
  const prompt = a.prompt_tokens + b.prompt_tokens;
  const completion = a.completion_tokens + b.completion_tokens;
  const usage: Usage = {
    prompt_tokens: prompt,
    completion_tokens: completion,
    total_tokens: prompt + completion,
  };
  const cached = sum(
    a.prompt_tokens_details?.cached_tokens,
    b.prompt_tokens_details?.cached_tokens,
  );
  const written = sum(
    a.prompt_tokens_details?.cache_write_tokens,
    b.prompt_tokens_details?.cache_write_tokens,
  );
  if (cached !== undefined || written !== undefined) {
    usage.prompt_tokens_details = {
      ...(cached === undefined ? {} : { cached_tokens: cached }),
      ...(written === undefined ? {} : { cache_write_tokens: written }),
    };
  }
  const reasoning = sum(
    a.completion_tokens_details?.reasoning_tokens,
    b.completion_tokens_details?.reasoning_tokens,
  );
  if (reasoning !== undefined) usage.completion_tokens_details = { reasoning_tokens: reasoning };
  return usage;
}

function sum(a: number | undefined, b: number | undefined): number | undefined {
  return a === undefined && b === undefined ? undefined : (a ?? 0) + (b ?? 0);
}
