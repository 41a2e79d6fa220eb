import { Observable, defer, lastValueFrom, map, reduce } from 'rxjs';
import type { ChatCompletion, CompletionChoice, ToolCall } from './chat-completion';
import type { StreamingChunk, TokenLogprob } from './streaming-chunk';

interface ChoiceAccumulator {
  content: string[];
  refusal: string[];
  reasoning: string[];
  annotations: Record<string, unknown>[];
  tools: Map<number, { id: string; name: string; arguments: string[] }>;
  /** The token log probabilities, when any chunk carried them. */
  logprobs: { content: TokenLogprob[]; refusal: TokenLogprob[] } | undefined;
  choice: CompletionChoice;
}

interface CompletionAccumulator {
  completion: ChatCompletion;
  choices: Map<number, ChoiceAccumulator>;
}

function seed(): CompletionAccumulator {
  return {
    completion: {
      id: '',
      object: 'chat.completion',
      created: 0,
      model: '',
      provider: '',
      choices: [],
    },
    choices: new Map(),
  };
}

function accumulate(acc: CompletionAccumulator, chunk: StreamingChunk): CompletionAccumulator {
  const { completion } = acc;
  if (completion.id === '') completion.id = chunk.id;
  if (completion.created === 0) completion.created = chunk.created;
  // The last chunk's model and provider win: after a failover they name who finished the answer.
  if (chunk.model !== '') completion.model = chunk.model;
  completion.provider = chunk.provider;
  if (chunk.usage !== undefined) completion.usage = chunk.usage;
  for (const { index, delta, finish_reason, raw_finish_reason, logprobs } of chunk.choices) {
    let state = acc.choices.get(index);
    if (state === undefined) {
      state = {
        content: [],
        refusal: [],
        reasoning: [],
        annotations: [],
        tools: new Map(),
        logprobs: undefined,
        choice: {
          index,
          message: { role: 'assistant', content: null, refusal: null },
          finish_reason: null,
        },
      };
      acc.choices.set(index, state);
    }
    if (typeof delta.content === 'string') state.content.push(delta.content);
    if (typeof delta.refusal === 'string') state.refusal.push(delta.refusal);
    if (delta.reasoning !== undefined) state.reasoning.push(delta.reasoning);
    for (const annotation of delta.annotations ?? []) state.annotations.push(annotation);
    if (logprobs !== undefined) {
      state.logprobs ??= { content: [], refusal: [] };
      // A loop, not push(...): a provider's list may be too long for the call stack.
      for (const token of logprobs.content ?? []) state.logprobs.content.push(token);
      for (const token of logprobs.refusal ?? []) state.logprobs.refusal.push(token);
    }
    if (delta.tool_calls !== undefined) {
      for (const call of delta.tool_calls) {
        let tool = state.tools.get(call.index);
        if (tool === undefined) {
          tool = { id: '', name: '', arguments: [] };
          state.tools.set(call.index, tool);
        }
        if (call.id !== undefined) tool.id = call.id;
        if (call.function.name !== undefined) tool.name += call.function.name;
        if (call.function.arguments !== undefined) tool.arguments.push(call.function.arguments);
      }
    }
    if (finish_reason !== null) {
      state.choice.finish_reason = finish_reason;
      if (raw_finish_reason !== undefined) state.choice.raw_finish_reason = raw_finish_reason;
    }
  }
  return acc;
}

function finish(acc: CompletionAccumulator): ChatCompletion {
  const { completion } = acc;
  completion.choices = [...acc.choices.values()]
    .sort((a, b) => a.choice.index - b.choice.index)
    .map((state) => {
      const { message } = state.choice;
      if (state.content.length > 0) message.content = state.content.join('');
      if (state.refusal.length > 0) message.refusal = state.refusal.join('');
      if (state.reasoning.length > 0) message.reasoning = state.reasoning.join('');
      if (state.annotations.length > 0) message.annotations = state.annotations;
      if (state.tools.size > 0) {
        message.tool_calls = [...state.tools.entries()]
          .sort(([a], [b]) => a - b)
          .map(([, tool]): ToolCall => ({
            id: tool.id,
            type: 'function',
            function: { name: tool.name, arguments: tool.arguments.join('') },
          }));
      }
      if (state.logprobs !== undefined) {
        const { content, refusal } = state.logprobs;
        state.choice.logprobs = {
          content: content.length > 0 ? content : null,
          refusal: refusal.length > 0 ? refusal : null,
        };
      }
      return state.choice;
    });
  return completion;
}

/**
 * Folds a chunk stream into one {@link ChatCompletion}: text, refusal and reasoning joined per
 * choice, tool-call argument pieces concatenated by index, annotations and token log
 * probabilities in order (when the chunks carried any), the finish reason and the usage.
 *
 * 1. As an operator, `chunks$.pipe(collectCompletion())` emits one completion when the stream
 *    completes, and passes errors through unchanged (a broken stream gives no completion).
 * 2. The completion names the model and provider of the last chunk: after a failover, the
 *    provider that finished the answer.
 *
 * ```ts
 * const completion = await lastValueFrom(chunks$.pipe(collectCompletion()));
 * console.log(completion.choices[0]?.message.content, completion.usage);
 * ```
 */
export function collectCompletion(): (
  source: Observable<StreamingChunk>,
) => Observable<ChatCompletion> {
  // `defer` gives every subscription its own accumulator.
  return (source) => defer(() => source.pipe(reduce(accumulate, seed()), map(finish)));
}

/** Awaits a chunk stream and resolves with its {@link ChatCompletion}. */
export function toCompletion(chunks$: Observable<StreamingChunk>): Promise<ChatCompletion> {
  return lastValueFrom(chunks$.pipe(collectCompletion()));
}
