import type { FinishReason } from '../../chunk/streaming-chunk';

/**
 * Maps a Gemini `finishReason` onto OpenAI's set.
 *
 * 1. `STOP` → `stop`, or `tool_calls` when the candidate emitted a `functionCall` (Gemini says
 *    `STOP` after a function call; OpenAI says `tool_calls`).
 * 2. `MAX_TOKENS` → `length`.
 * 3. The safety family (`SAFETY`, `RECITATION`, `BLOCKLIST`, `PROHIBITED_CONTENT`, `SPII`,
 *    `IMAGE_SAFETY`, `IMAGE_PROHIBITED_CONTENT`, `IMAGE_RECITATION`) → `content_filter`.
 * 4. Everything else → `stop`, including `MALFORMED_FUNCTION_CALL` (the model tried to call a
 *    tool and produced an invalid call, so no tool call is reported; OpenAI has no `error`
 *    reason), `UNEXPECTED_TOOL_CALL`, `TOO_MANY_TOOL_CALLS`, `LANGUAGE`, `OTHER` and values not
 *    yet known. The decoder keeps the raw value beside it in `raw_finish_reason`.
 *
 * @param reason Gemini's `candidates[].finishReason`.
 * @param hasToolCalls Whether the candidate emitted at least one `functionCall`.
 * @return The OpenAI finish reason.
 */
export function mapGoogleFinishReason(reason: string, hasToolCalls = false): FinishReason {
  switch (reason) {
    case 'STOP':
      return hasToolCalls ? 'tool_calls' : 'stop';
    case 'MAX_TOKENS':
      return 'length';
    case 'SAFETY':
    case 'RECITATION':
    case 'BLOCKLIST':
    case 'PROHIBITED_CONTENT':
    case 'SPII':
    case 'IMAGE_SAFETY':
    case 'IMAGE_PROHIBITED_CONTENT':
    case 'IMAGE_RECITATION':
      return 'content_filter';
    default:
      return 'stop';
  }
}
