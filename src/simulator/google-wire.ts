import { googleErrorObject } from './error-bodies';
import { rawFinishReason, type AnswerPlan } from './plan-answer';
import {
  planPieces,
  planTexts,
  type AnswerIds,
  type Frame,
  type Unit,
  type WireEncoder,
} from './wire-frame';

/**
 * Gemini `streamGenerateContent`: every event is a whole `GenerateContentResponse` (one token
 * each here), with `usageMetadata`, `modelVersion` and `responseId`. Thoughts are parts with
 * `"thought": true` (only with `thinkingConfig.includeThoughts`), the first part after them
 * carries a `thoughtSignature`, a function call arrives whole in one part, and the last event is
 * an empty text part with the `finishReason` and the final usage. There is no terminator: the
 * body just ends. Gemini's own errors mid-stream are bare pretty-printed JSON, not `data:`.
 */
export function googleWire(plan: AnswerPlan, ids: AnswerIds): WireEncoder {
  const { request, tool } = plan;
  const prompt = plan.promptTokens;
  const thoughts = plan.reasoningTokens;
  const baseUsage = (): Record<string, unknown> => ({
    promptTokenCount: prompt,
    totalTokenCount: prompt + thoughts,
    promptTokensDetails: [{ modality: 'TEXT', tokenCount: prompt }],
    ...(thoughts > 0 ? { thoughtsTokenCount: thoughts } : {}),
  });
  const finalUsage = (): Record<string, unknown> => ({
    promptTokenCount: prompt,
    candidatesTokenCount: plan.completionTokens - thoughts,
    totalTokenCount: prompt + plan.completionTokens,
    promptTokensDetails: [{ modality: 'TEXT', tokenCount: prompt }],
    ...(thoughts > 0 ? { thoughtsTokenCount: thoughts } : {}),
  });
  const response = (
    parts: Record<string, unknown>[],
    extra: Record<string, unknown> = {},
    usageMetadata = baseUsage(),
  ): Record<string, unknown> => ({
    candidates: [{ content: { parts, role: 'model' }, ...extra, index: 0 }],
    usageMetadata,
    modelVersion: request.model,
    responseId: ids.response,
  });
  let signed = thoughts === 0;
  /** The thought signature goes on the first part after the thoughts. */
  const sign = (part: Record<string, unknown>): Record<string, unknown> => {
    if (signed) return part;
    signed = true;
    return { ...part, thoughtSignature: ids.signature };
  };

  return {
    open: () => [],

    *units(): Generator<Unit, void, undefined> {
      for (const piece of planPieces(plan)) {
        if (piece.kind === 'reasoning') {
          yield { tokens: 1, frames: [{ json: response([{ text: piece.text, thought: true }]) }] };
        } else if (piece.kind === 'text') {
          yield { tokens: 1, frames: [{ json: response([sign({ text: piece.text })]) }] };
        } else if (piece.index === 0 && tool !== undefined) {
          // The whole call in one part; it counts as all its argument pieces.
          const part = sign({ functionCall: { name: tool.name, args: tool.args } });
          yield { tokens: tool.streamed, frames: [{ json: response([part]) }] };
        }
      }
    },

    finish: (): Frame[] => [
      {
        json: response(
          [{ text: '' }],
          { finishReason: rawFinishReason('google', plan.finish) },
          finalUsage(),
        ),
      },
    ],

    extraText: (text) => [{ json: response([{ text }]) }],

    inbandError: (status) => [
      {
        raw: `${JSON.stringify(googleErrorObject(status, { requestId: ids.response, model: request.model }), null, 2)}\n`,
      },
    ],

    body(suffix = '') {
      const { text, reasoning } = planTexts(plan);
      const parts: Record<string, unknown>[] = [];
      if (thoughts > 0) parts.push({ text: reasoning, thought: true });
      if (tool !== undefined) {
        if (tool.streamed > 0)
          parts.push(sign({ functionCall: { name: tool.name, args: tool.args } }));
      } else {
        parts.push(sign({ text: text + suffix }));
      }
      const body = {
        candidates: [
          {
            content: { parts, role: 'model' },
            finishReason: rawFinishReason('google', plan.finish),
            index: 0,
          },
        ],
        usageMetadata: finalUsage(),
        modelVersion: request.model,
        responseId: ids.response,
      };
      return `${JSON.stringify(body, null, 2)}\n`;
    },
  };
}
