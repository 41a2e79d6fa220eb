import type { FinishReason } from '../../chunk/streaming-chunk';

/**
 * Maps an OpenAI-compatible finish reason onto OpenAI's set. OpenAI's own values pass through;
 * values some compatible servers send are mapped (`eos` → stop, `max_tokens` → length); anything
 * else is reported as `stop`, with the raw value kept beside it by the decoder.
 */
export function mapOpenAIFinishReason(reason: string): FinishReason {
  switch (reason) {
    case 'stop':
    case 'length':
    case 'tool_calls':
    case 'content_filter':
    case 'function_call':
      return reason;
    case 'max_tokens':
    case 'model_length':
      return 'length';
    case 'tool_use':
      return 'tool_calls';
    default:
      return 'stop';
  }
}
