import type { StreamingChunk } from '../chunk/streaming-chunk';

/**
 * True when a chunk carries content: text, refusal, reasoning or tool-call data. Role-only,
 * empty and usage-only chunks do not count. "Before the first content chunk" in every operator
 * (retries, failover, first-token timeout) means before the first chunk this returns true for:
 * until then, nothing the consumer could have shown has been emitted.
 */
export function isContentChunk(chunk: StreamingChunk): boolean {
  for (const { delta } of chunk.choices) {
    if (typeof delta.content === 'string' && delta.content !== '') return true;
    if (typeof delta.refusal === 'string' && delta.refusal !== '') return true;
    if (delta.reasoning !== undefined && delta.reasoning !== '') return true;
    if (delta.redacted_reasoning !== undefined) return true;
    if (delta.tool_calls !== undefined && delta.tool_calls.length > 0) return true;
  }
  return false;
}
