import { openAIError } from './error-bodies';
import { rawFinishReason, type AnswerPlan } from './plan-answer';
import {
  planPieces,
  planTexts,
  type AnswerIds,
  type Frame,
  type Unit,
  type WireEncoder,
} from './wire-frame';

/** OpenAI's usage object, as the Chat Completions API reports it. */
function usage(plan: AnswerPlan): Record<string, unknown> {
  return {
    prompt_tokens: plan.promptTokens,
    completion_tokens: plan.completionTokens,
    total_tokens: plan.promptTokens + plan.completionTokens,
    prompt_tokens_details: { cached_tokens: 0, audio_tokens: 0 },
    completion_tokens_details: {
      reasoning_tokens: plan.reasoningTokens,
      audio_tokens: 0,
      accepted_prediction_tokens: 0,
      rejected_prediction_tokens: 0,
    },
  };
}

/**
 * OpenAI Chat Completions (and OpenAI-compatible servers): `data: {chunk}` events, a role chunk
 * with the first token, `delta.reasoning_content` for reasoning (as vLLM and DeepSeek stream
 * it), tool calls as `tool_calls` deltas (id, type and name first, with `arguments: ""`, then
 * argument pieces), a finish chunk, a usage chunk with `choices: []` when
 * `stream_options.include_usage` is set, and `data: [DONE]`.
 */
export function openAIWire(plan: AnswerPlan, ids: AnswerIds): WireEncoder {
  const { request, tool } = plan;
  const chunk = (delta: Record<string, unknown>, finish: string | null = null): Frame => ({
    json: {
      id: ids.response,
      object: 'chat.completion.chunk',
      created: ids.created,
      model: request.model,
      service_tier: 'default',
      system_fingerprint: ids.fingerprint,
      choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }],
      usage: null,
    },
  });
  const toolStart = (): Record<string, unknown> => ({
    tool_calls: [
      {
        index: 0,
        id: ids.tool,
        type: 'function',
        function: { name: tool?.name ?? '', arguments: '' },
      },
    ],
  });
  let roleSent = false;
  let toolStarted = false;

  /** The role chunk, merged with the tool call's start when the answer opens with it. */
  const role = (opensWithTool: boolean): Frame[] => {
    if (roleSent) return [];
    roleSent = true;
    if (opensWithTool) {
      toolStarted = true;
      return [chunk({ role: 'assistant', content: null, ...toolStart(), refusal: null })];
    }
    return [chunk({ role: 'assistant', content: '', refusal: null })];
  };

  return {
    open: () => [],

    *units(): Generator<Unit, void, undefined> {
      for (const piece of planPieces(plan)) {
        const frames = role(piece.kind === 'tool');
        switch (piece.kind) {
          case 'reasoning':
            frames.push(chunk({ reasoning_content: piece.text }));
            break;
          case 'text':
            frames.push(chunk({ content: piece.text }));
            break;
          case 'tool':
            if (!toolStarted) {
              toolStarted = true;
              frames.push(chunk(toolStart()));
            }
            frames.push(chunk({ tool_calls: [{ index: 0, function: { arguments: piece.text } }] }));
            break;
        }
        yield { tokens: 1, frames };
      }
    },

    finish() {
      const frames = role(false);
      frames.push(chunk({}, rawFinishReason('openai', plan.finish)));
      if (request.includeUsage) {
        const last = frames[frames.length - 1]?.json as Record<string, unknown>;
        frames.push({ json: { ...last, choices: [], usage: usage(plan) } });
      }
      frames.push({ data: '[DONE]' });
      return frames;
    },

    extraText: (text) => [chunk({ content: text })],

    inbandError(status) {
      return [
        {
          json: JSON.parse(
            openAIError(status, { requestId: ids.response, model: request.model }).body,
          ),
        },
      ];
    },

    body(suffix = '') {
      const { text, reasoning } = planTexts(plan);
      const message: Record<string, unknown> = {
        role: 'assistant',
        content: tool === undefined ? text + suffix : null,
        refusal: null,
        annotations: [],
      };
      if (plan.reasoning.count > 0) message.reasoning_content = reasoning;
      if (tool !== undefined && tool.streamed > 0) {
        message.tool_calls = [
          {
            id: ids.tool,
            type: 'function',
            function: { name: tool.name, arguments: tool.pieces.slice(0, tool.streamed).join('') },
          },
        ];
      }
      return JSON.stringify({
        id: ids.response,
        object: 'chat.completion',
        created: ids.created,
        model: request.model,
        choices: [
          {
            index: 0,
            message,
            logprobs: null,
            finish_reason: rawFinishReason('openai', plan.finish),
          },
        ],
        usage: usage(plan),
        service_tier: 'default',
        system_fingerprint: ids.fingerprint,
      });
    },
  };
}
