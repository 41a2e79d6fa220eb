import { anthropicErrorObject } from './error-bodies';
import { rawFinishReason, type AnswerPlan } from './plan-answer';
import {
  planPieces,
  planTexts,
  type AnswerIds,
  type Frame,
  type Piece,
  type Unit,
  type WireEncoder,
} from './wire-frame';

const cacheFields = {
  cache_creation_input_tokens: 0,
  cache_read_input_tokens: 0,
  cache_creation: { ephemeral_5m_input_tokens: 0, ephemeral_1h_input_tokens: 0 },
};

/**
 * Anthropic Messages: `event: <type>` + `data: {json}` events. `message_start` (input and cache
 * usage) and a `ping` go out with the headers; then one content block per kind (`thinking` with
 * `thinking_delta`s and a `signature_delta`, `text` with `text_delta`s, `tool_use` with an empty
 * `input_json_delta` and then the argument pieces), each closed by `content_block_stop` (except a
 * tool call cut by `max_tokens`, as the real API does); then `message_delta` (stop reason and
 * output usage) and `message_stop`.
 */
export function anthropicWire(plan: AnswerPlan, ids: AnswerIds): WireEncoder {
  const { request, tool } = plan;
  const event = (type: string, json: Record<string, unknown>): Frame => ({
    event: type,
    json: { type, ...json },
  });
  let index = -1;
  let kind: Piece['kind'] | undefined;

  const closeBlock = (): Frame[] => {
    if (kind === undefined) return [];
    const frames: Frame[] = [];
    if (kind === 'reasoning') {
      frames.push(
        event('content_block_delta', {
          index,
          delta: { type: 'signature_delta', signature: ids.signature },
        }),
      );
    }
    frames.push(event('content_block_stop', { index }));
    kind = undefined;
    return frames;
  };

  const openBlock = (next: Piece['kind']): Frame[] => {
    const frames = closeBlock();
    index++;
    kind = next;
    const block =
      next === 'reasoning'
        ? { type: 'thinking', thinking: '', signature: '' }
        : next === 'text'
          ? { type: 'text', text: '' }
          : { type: 'tool_use', id: ids.tool, name: tool?.name ?? '', input: {} };
    frames.push(event('content_block_start', { index, content_block: block }));
    if (next === 'tool') {
      frames.push(
        event('content_block_delta', {
          index,
          delta: { type: 'input_json_delta', partial_json: '' },
        }),
      );
    }
    return frames;
  };

  const delta = (piece: Piece): Frame =>
    event('content_block_delta', {
      index,
      delta:
        piece.kind === 'reasoning'
          ? { type: 'thinking_delta', thinking: piece.text }
          : piece.kind === 'text'
            ? { type: 'text_delta', text: piece.text }
            : { type: 'input_json_delta', partial_json: piece.text },
    });

  const usage = (): Record<string, unknown> => ({
    input_tokens: plan.promptTokens,
    ...cacheFields,
    output_tokens: plan.completionTokens,
    service_tier: 'standard',
  });

  return {
    open: () => [
      event('message_start', {
        message: {
          id: ids.response,
          type: 'message',
          role: 'assistant',
          model: request.model,
          content: [],
          stop_reason: null,
          stop_sequence: null,
          usage: {
            input_tokens: plan.promptTokens,
            ...cacheFields,
            output_tokens: 1,
            service_tier: 'standard',
          },
        },
      }),
      { event: 'ping', data: '{"type": "ping"}' },
    ],

    *units(): Generator<Unit, void, undefined> {
      for (const piece of planPieces(plan)) {
        const frames = piece.kind === kind ? [] : openBlock(piece.kind);
        frames.push(delta(piece));
        yield { tokens: 1, frames };
      }
    },

    finish() {
      // A tool call cut by max_tokens gets no content_block_stop: its JSON is unfinished.
      const cutTool = plan.finish === 'length' && kind === 'tool';
      const frames = cutTool ? [] : closeBlock();
      frames.push(
        event('message_delta', {
          delta: { stop_reason: rawFinishReason('anthropic', plan.finish), stop_sequence: null },
          usage: { output_tokens: plan.completionTokens },
        }),
        event('message_stop', {}),
      );
      return frames;
    },

    extraText: (text) => [
      event('content_block_delta', {
        index: Math.max(index, 0),
        delta: { type: 'text_delta', text },
      }),
    ],

    inbandError(status) {
      const type = status === 503 || status === 529 ? 'overloaded_error' : undefined;
      return [
        {
          event: 'error',
          json: anthropicErrorObject(status === 503 ? 529 : status, {
            requestId: `req_${ids.response.slice(4)}`,
            model: request.model,
            code: type,
          }),
        },
      ];
    },

    body(suffix = '') {
      const { text, reasoning } = planTexts(plan);
      const content: Record<string, unknown>[] = [];
      if (plan.reasoning.count > 0)
        content.push({ type: 'thinking', thinking: reasoning, signature: ids.signature });
      if (tool !== undefined) {
        if (tool.streamed > 0) {
          content.push({
            type: 'tool_use',
            id: ids.tool,
            name: tool.name,
            input: tool.streamed === tool.pieces.length ? tool.args : {},
          });
        }
      } else if (text + suffix !== '') {
        content.push({ type: 'text', text: text + suffix });
      }
      return JSON.stringify({
        id: ids.response,
        type: 'message',
        role: 'assistant',
        model: request.model,
        content,
        stop_reason: rawFinishReason('anthropic', plan.finish),
        stop_sequence: null,
        usage: usage(),
      });
    },
  };
}
