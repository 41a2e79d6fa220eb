import type { FinishReason } from '../../chunk/streaming-chunk';

/**
 * Maps an Anthropic `stop_reason` onto OpenAI's finish reasons. The decoder keeps the raw value
 * beside it (`raw_finish_reason`), so nothing is lost.
 *
 * | Anthropic                       | OpenAI           |
 * | ------------------------------- | ---------------- |
 * | `end_turn`, `stop_sequence`     | `stop`           |
 * | `pause_turn`                    | `stop`           |
 * | `max_tokens`                    | `length`         |
 * | `model_context_window_exceeded` | `length`         |
 * | `tool_use`                      | `tool_calls`     |
 * | `refusal`                       | `content_filter` |
 * | anything else                   | `stop`           |
 */
export function mapAnthropicFinishReason(reason: string): FinishReason {
  switch (reason) {
    case 'max_tokens':
    case 'model_context_window_exceeded':
      return 'length';
    case 'tool_use':
      return 'tool_calls';
    case 'refusal':
      return 'content_filter';
    default:
      // end_turn, stop_sequence, pause_turn, and values added after this was written.
      return 'stop';
  }
}
