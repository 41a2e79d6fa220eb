import { openAIError } from './error-bodies';
import { rawFinishReason, responseUsage, type AnswerPlan, type AnswerPlans } from './plan-answer';
import {
  planPieces,
  planTexts,
  type AnswerIds,
  type Frame,
  type Unit,
  type WireEncoder,
} from './wire-frame';
import { plannedLogprobs, type PlannedLogprob, type PlannedTokenLogprob } from './token-logprobs';

/** OpenAI's usage object, as the Chat Completions API reports it: every choice's tokens. */
function usage(plans: AnswerPlans): Record<string, unknown> {
  const { promptTokens, completionTokens, reasoningTokens } = responseUsage(plans);
  return {
    prompt_tokens: promptTokens,
    completion_tokens: completionTokens,
    total_tokens: promptTokens + completionTokens,
    prompt_tokens_details: { cached_tokens: 0, audio_tokens: 0 },
    completion_tokens_details: {
      reasoning_tokens: reasoningTokens,
      audio_tokens: 0,
      accepted_prediction_tokens: 0,
      rejected_prediction_tokens: 0,
    },
  };
}

/** OpenAI's shape of a planned log probability: with `bytes` and `top_logprobs`. */
function openAILogprob(planned: PlannedTokenLogprob): Record<string, unknown> {
  const entry = ({ token, logprob }: PlannedLogprob): Record<string, unknown> => ({
    token,
    logprob,
    bytes: [...Buffer.from(token, 'utf8')],
  });
  return { ...entry(planned), top_logprobs: planned.top.map(entry) };
}

/**
 * OpenAI Chat Completions (and OpenAI-compatible servers): `data: {chunk}` events, a role chunk
 * with the first token, `delta.reasoning_content` for reasoning (as vLLM and DeepSeek stream
 * it), tool calls as `tool_calls` deltas (id, type and name first, with `arguments: ""`, then
 * argument pieces), a finish chunk, a usage chunk with `choices: []` when
 * `stream_options.include_usage` is set, and `data: [DONE]`.
 *
 * With `n` above 1 the choices stream interleaved, one token of each in turn, every chunk
 * carrying one choice with its `index`; each choice ends with its own finish chunk, and the usage
 * counts the tokens of all of them.
 *
 * With `logprobs: true` every text chunk carries its token's log probability (and
 * `top_logprobs` alternatives) in `choices[].logprobs.content`, the role chunk an empty list.
 */
export function openAIWire(plans: AnswerPlans, ids: AnswerIds): WireEncoder {
  const { request } = plans[0];
  const top = request.logprobs;
  const chunk = (
    index: number,
    delta: Record<string, unknown>,
    finish: string | null = null,
    logprobs: Record<string, unknown>[] | null = null,
  ): Frame => ({
    json: {
      id: ids.response,
      object: 'chat.completion.chunk',
      created: ids.created,
      model: request.model,
      service_tier: 'default',
      system_fingerprint: ids.fingerprint,
      choices: [
        {
          index,
          delta,
          logprobs: logprobs === null ? null : { content: logprobs, refusal: null },
          finish_reason: finish,
        },
      ],
      usage: null,
    },
  });
  /** The log probabilities of a choice's text tokens, in order (`logprobs: true` only). */
  const logprobsOf = (
    plan: AnswerPlan,
    index: number,
  ): ((token: string) => Record<string, unknown>[] | null) => {
    if (top === undefined) return () => null;
    const next = plannedLogprobs(plan, index, top);
    return (token) => [openAILogprob(next(token))];
  };
  const toolId = (index: number): string => (index === 0 ? ids.tool : `${ids.tool}_${index}`);
  const choices = plans.map((plan, index) => {
    const textLogprobs = logprobsOf(plan, index);
    const toolStart = (): Record<string, unknown> => ({
      tool_calls: [
        {
          index: 0,
          id: toolId(index),
          type: 'function',
          function: { name: plan.tool?.name ?? '', arguments: '' },
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
        return [chunk(index, { role: 'assistant', content: null, ...toolStart(), refusal: null })];
      }
      return [
        chunk(
          index,
          { role: 'assistant', content: '', refusal: null },
          null,
          top === undefined ? null : [],
        ),
      ];
    };
    function* units(): Generator<Unit, void, undefined> {
      for (const piece of planPieces(plan)) {
        const frames = role(piece.kind === 'tool');
        switch (piece.kind) {
          case 'reasoning':
            frames.push(chunk(index, { reasoning_content: piece.text }));
            break;
          case 'text':
            frames.push(chunk(index, { content: piece.text }, null, textLogprobs(piece.text)));
            break;
          case 'tool':
            if (!toolStarted) {
              toolStarted = true;
              frames.push(chunk(index, toolStart()));
            }
            frames.push(
              chunk(index, { tool_calls: [{ index: 0, function: { arguments: piece.text } }] }),
            );
            break;
        }
        yield { tokens: 1, frames };
      }
    }
    const finish = (): Frame[] => [
      ...role(false),
      chunk(index, {}, rawFinishReason('openai', plan.finish)),
    ];
    return { units, finish };
  });

  return {
    open: () => [],

    *units(): Generator<Unit, void, undefined> {
      const streams = choices.map((choice) => choice.units());
      for (let live = streams; live.length > 0;) {
        const next: typeof streams = [];
        for (const stream of live) {
          const step = stream.next();
          if (step.done === true) continue;
          next.push(stream);
          yield step.value;
        }
        live = next;
      }
    },

    finish() {
      const frames = choices.flatMap((choice) => choice.finish());
      if (request.includeUsage) {
        const last = frames[frames.length - 1]?.json as Record<string, unknown>;
        frames.push({ json: { ...last, choices: [], usage: usage(plans) } });
      }
      frames.push({ data: '[DONE]' });
      return frames;
    },

    extraText: (text) => [chunk(0, { content: text })],

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
      const logprobsOfBody = (plan: AnswerPlan, index: number): Record<string, unknown> | null => {
        if (top === undefined || plan.text === undefined) return null;
        const next = logprobsOf(plan, index);
        const content: Record<string, unknown>[] = [];
        for (const piece of planPieces(plan)) {
          if (piece.kind === 'text') content.push(...(next(piece.text) ?? []));
        }
        return { content, refusal: null };
      };
      return JSON.stringify({
        id: ids.response,
        object: 'chat.completion',
        created: ids.created,
        model: request.model,
        choices: plans.map((plan, index) => {
          const { tool } = plan;
          const { text, reasoning } = planTexts(plan);
          // A fault's suffix goes into the first choice only.
          const message: Record<string, unknown> = {
            role: 'assistant',
            content: tool === undefined ? text + (index === 0 ? suffix : '') : null,
            refusal: null,
            annotations: [],
          };
          if (plan.reasoning.count > 0) message.reasoning_content = reasoning;
          if (tool !== undefined && tool.streamed > 0) {
            message.tool_calls = [
              {
                id: toolId(index),
                type: 'function',
                function: {
                  name: tool.name,
                  arguments: tool.pieces.slice(0, tool.streamed).join(''),
                },
              },
            ];
          }
          return {
            index,
            message,
            logprobs: logprobsOfBody(plan, index),
            finish_reason: rawFinishReason('openai', plan.finish),
          };
        }),
        usage: usage(plans),
        service_tier: 'default',
        system_fingerprint: ids.fingerprint,
      });
    },
  };
}
