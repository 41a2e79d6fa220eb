import type { ChatRequest } from '../request/chat-request';
import { estimateTokensByChars, type TokenEstimator } from './token-estimator';

/** Tokens of framing per message (role and separators), as in OpenAI's counting recipe. */
const TOKENS_PER_MESSAGE = 3;
/** Tokens that prime the reply. */
const TOKENS_PER_REPLY = 3;

/**
 * Estimates the input tokens of `request` before it is sent, so that a budget can count the
 * prompt from the first chunk on (the exact count comes with the usage, at the end).
 *
 * It counts the text of every message (content, refusals, tool-call names and arguments, tool
 * results), the tool definitions as JSON, and OpenAI's framing of 3 tokens per message plus 3.
 * Images, audio and files are not counted: the estimate is low for multimodal requests. The
 * provider's own prompt framing (system prompts it adds, tool-use preambles) is unknown, so
 * expect the true count to be somewhat higher.
 *
 * ```ts
 * const promptTokens = estimatePromptTokens(request);
 * provider.stream(request).pipe(budget(0.05, { promptTokens }));
 * ```
 */
export function estimatePromptTokens(
  request: Pick<ChatRequest, 'model' | 'messages' | 'tools'>,
  estimateTokens: TokenEstimator = estimateTokensByChars,
): number {
  const count = (text: string): number => estimateTokens(text, request.model);
  let total = TOKENS_PER_REPLY;
  for (const message of request.messages) {
    total += TOKENS_PER_MESSAGE;
    const { content } = message;
    if (typeof content === 'string') total += count(content);
    else if (Array.isArray(content)) {
      for (const part of content) {
        if (part.type === 'text') total += count(part.text);
        else if (part.type === 'refusal') total += count(part.refusal);
      }
    }
    if (message.role === 'assistant') {
      if (typeof message.refusal === 'string') total += count(message.refusal);
      for (const call of message.tool_calls ?? []) {
        total += count(call.function.name) + count(call.function.arguments);
      }
    }
  }
  for (const tool of request.tools ?? []) total += count(JSON.stringify(tool.function));
  return Math.ceil(total);
}
