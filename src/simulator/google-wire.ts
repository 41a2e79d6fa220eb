import { hashString } from './deterministic-text';
import { googleErrorObject } from './error-bodies';
import { rawFinishReason, responseUsage, type AnswerPlans } from './plan-answer';
import {
  planPieces,
  planTexts,
  type AnswerIds,
  type Frame,
  type Unit,
  type WireEncoder,
} from './wire-frame';
import { plannedLogprobs, type PlannedLogprob, type PlannedTokenLogprob } from './token-logprobs';

/**
 * Gemini `streamGenerateContent`: every event is a whole `GenerateContentResponse` (one token
 * each here), with `usageMetadata`, `modelVersion` and `responseId`. Thoughts are parts with
 * `"thought": true` (only with `thinkingConfig.includeThoughts`), the first part after them
 * carries a `thoughtSignature`, a function call arrives whole in one part, and the last event is
 * an empty text part with the `finishReason` and the final usage. There is no terminator: the
 * body just ends. Gemini's own errors mid-stream are bare pretty-printed JSON, not `data:`.
 *
 * With `candidateCount` above 1 each event carries one part of every candidate still going, each
 * with its `index`; the last event finishes them all, and the usage counts all their tokens.
 * With `responseLogprobs: true` a text part's candidate carries its `logprobsResult` (one step,
 * with `logprobs` top candidates).
 */
export function googleWire(plans: AnswerPlans, ids: AnswerIds): WireEncoder {
  const { request } = plans[0];
  const {
    promptTokens: prompt,
    completionTokens,
    reasoningTokens: thoughts,
  } = responseUsage(plans);
  const baseUsage = (): Record<string, unknown> => ({
    promptTokenCount: prompt,
    totalTokenCount: prompt + thoughts,
    promptTokensDetails: [{ modality: 'TEXT', tokenCount: prompt }],
    ...(thoughts > 0 ? { thoughtsTokenCount: thoughts } : {}),
  });
  const finalUsage = (): Record<string, unknown> => ({
    promptTokenCount: prompt,
    candidatesTokenCount: completionTokens - thoughts,
    totalTokenCount: prompt + completionTokens,
    promptTokensDetails: [{ modality: 'TEXT', tokenCount: prompt }],
    ...(thoughts > 0 ? { thoughtsTokenCount: thoughts } : {}),
  });
  type Part = Record<string, unknown>;
  const candidate = (index: number, parts: Part[], extra: Record<string, unknown> = {}): Part => ({
    content: { parts, role: 'model' },
    ...extra,
    index,
  });
  const response = (candidates: Part[], usageMetadata = baseUsage()): Record<string, unknown> => ({
    candidates,
    usageMetadata,
    modelVersion: request.model,
    responseId: ids.response,
  });

  const top = request.logprobs;
  /** Gemini's `logprobsResult` of some text tokens: one step each. */
  const logprobsResult = (tokens: readonly PlannedTokenLogprob[]): Part => {
    const entry = ({ token, logprob }: PlannedLogprob): Part => ({
      token,
      tokenId: hashString(token) % 256_000,
      logProbability: logprob,
    });
    return {
      topCandidates: tokens.map((token) => ({ candidates: token.top.map(entry) })),
      chosenCandidates: tokens.map(entry),
    };
  };

  /** Each candidate's parts in order, with the tokens each counts for. */
  const streams = plans.map((plan, index) => {
    const next = top === undefined ? undefined : plannedLogprobs(plan, index, top);
    let signed = plan.reasoningTokens === 0;
    /** The thought signature goes on the first part after the thoughts. */
    const sign = (part: Part): Part => {
      if (signed) return part;
      signed = true;
      return { ...part, thoughtSignature: ids.signature };
    };
    function* parts(): Generator<
      { tokens: number; part: Part; logprobs?: PlannedTokenLogprob },
      void,
      undefined
    > {
      const { tool } = plan;
      for (const piece of planPieces(plan)) {
        if (piece.kind === 'reasoning') {
          yield { tokens: 1, part: { text: piece.text, thought: true } };
        } else if (piece.kind === 'text') {
          const part = sign({ text: piece.text });
          yield next === undefined
            ? { tokens: 1, part }
            : { tokens: 1, part, logprobs: next(piece.text) };
        } else if (piece.index === 0 && tool !== undefined) {
          // The whole call in one part; it counts as all its argument pieces.
          yield {
            tokens: tool.streamed,
            part: sign({ functionCall: { name: tool.name, args: tool.args } }),
          };
        }
      }
    }
    const body = (suffix: string): Part => {
      const { tool } = plan;
      const { text, reasoning } = planTexts(plan);
      const all: Part[] = [];
      if (plan.reasoningTokens > 0) all.push({ text: reasoning, thought: true });
      if (tool !== undefined) {
        if (tool.streamed > 0)
          all.push(sign({ functionCall: { name: tool.name, args: tool.args } }));
      } else {
        all.push(sign({ text: text + suffix }));
      }
      const extra: Part = { finishReason: rawFinishReason('google', plan.finish) };
      if (next !== undefined) {
        const tokens: PlannedTokenLogprob[] = [];
        for (const piece of planPieces(plan))
          if (piece.kind === 'text') tokens.push(next(piece.text));
        extra.logprobsResult = logprobsResult(tokens);
      }
      return candidate(index, all, extra);
    };
    return { index, plan, parts, body };
  });

  return {
    open: () => [],

    *units(): Generator<Unit, void, undefined> {
      let live = streams.map((stream) => ({ index: stream.index, parts: stream.parts() }));
      while (live.length > 0) {
        const candidates: Part[] = [];
        let tokens = 0;
        live = live.filter(({ index, parts }) => {
          const step = parts.next();
          if (step.done === true) return false;
          tokens += step.value.tokens;
          const { part, logprobs } = step.value;
          candidates.push(
            candidate(
              index,
              [part],
              logprobs === undefined ? {} : { logprobsResult: logprobsResult([logprobs]) },
            ),
          );
          return true;
        });
        if (candidates.length > 0) yield { tokens, frames: [{ json: response(candidates) }] };
      }
    },

    finish: (): Frame[] => [
      {
        json: response(
          streams.map(({ index, plan }) =>
            candidate(index, [{ text: '' }], {
              finishReason: rawFinishReason('google', plan.finish),
            }),
          ),
          finalUsage(),
        ),
      },
    ],

    extraText: (text) => [{ json: response([candidate(0, [{ text }])]) }],

    inbandError: (status) => [
      {
        raw: `${JSON.stringify(googleErrorObject(status, { requestId: ids.response, model: request.model }), null, 2)}\n`,
      },
    ],

    body(suffix = '') {
      // A fault's suffix goes into the first candidate only.
      const body = {
        candidates: streams.map((stream) => stream.body(stream.index === 0 ? suffix : '')),
        usageMetadata: finalUsage(),
        modelVersion: request.model,
        responseId: ids.response,
      };
      return `${JSON.stringify(body, null, 2)}\n`;
    },
  };
}
