import type {
  ChoiceLogprobs,
  ChunkChoice,
  ChunkDelta,
  FinishReason,
  TokenLogprob,
  ToolCallDelta,
  TopLogprob,
  Usage,
} from '../../chunk/streaming-chunk';
import { IncompleteStreamError } from '../../errors/incomplete-stream-error';
import { ParseError, excerpt } from '../../errors/parse-error';
import type { RouterError } from '../../errors/router-error';
import { classifyProviderError } from '../classify-error';
import { parseEventJson } from '../parse-event-json';
import {
  asArray,
  asNumber,
  asRecord,
  asString,
  makeChunk,
  makeUsage,
  type DecoderContext,
  type StreamDecoder,
} from '../stream-decoder';
import { mapGoogleFinishReason } from './map-google-finish-reason';
import { parseGoogleRetryDelay } from './parse-retry-delay';

/** What the decoder remembers of one candidate (one choice). */
interface CandidateState {
  finished: boolean;
  /** How many `functionCall` parts it emitted: the next call's `index`. */
  toolCalls: number;
}

/**
 * Decodes Gemini `streamGenerateContent?alt=sse` streams (Google AI and Vertex AI).
 *
 * 1. Each event is a whole `GenerateContentResponse`; the stream ends when the connection closes
 *    (there is no terminator), so `event()` never reports an end. The body may end once every
 *    candidate seen has a `finishReason`, or the prompt was blocked; otherwise `end()` throws
 *    `IncompleteStreamError`.
 * 2. Each candidate becomes the choice of the same `index` (default 0). Text parts become
 *    `delta.content`, `"thought": true` parts `delta.reasoning`. A part's `thoughtSignature` is
 *    kept in `delta.reasoning_signature` (the first one of the event, per candidate): Gemini needs
 *    it back, on the same part, to continue a function-calling conversation. A candidate's
 *    `logprobsResult` (`responseLogprobs: true`) becomes the choice's `logprobs`: each of
 *    `chosenCandidates` a token, with the `topCandidates` of its step as `top_logprobs`.
 * 3. A `functionCall {name, args}` arrives whole and becomes one complete tool call:
 *    `arguments` is `JSON.stringify(args)`, `index` counts the candidate's calls, and `id` is the
 *    call's own `id` if Gemini sent one, else `call_<responseId or requestId>_<n>` (`n` counts the
 *    stream's calls), deterministic for a given stream.
 * 4. `finishReason` is mapped by {@link mapGoogleFinishReason}, with the raw value kept in
 *    `raw_finish_reason`; a `STOP` after a `functionCall` is reported as `tool_calls`.
 * 5. `promptFeedback.blockReason` (the prompt was blocked, no candidates) is reported as a
 *    complete answer: choice 0 with `finish_reason: 'content_filter'` and the block reason raw.
 * 6. `usageMetadata` comes on most events and the last one wins. It is converted once the
 *    answer is complete and attached to the chunk that completes it; if a later event changes
 *    it, a usage-only chunk (`choices: []`) follows. `prompt_tokens` = `promptTokenCount` (it
 *    includes `cachedContentTokenCount`), `completion_tokens` = `candidatesTokenCount` +
 *    `thoughtsTokenCount`, and `total_tokens` is their sum (`totalTokenCount` is not used: it can
 *    include `toolUsePromptTokenCount`).
 * 7. `id` is `responseId` (else the request id), `model` is `modelVersion` (else the requested
 *    model), and `created` is stamped once from the clock.
 * 8. An error, in a `data:` event or as bare pretty-printed JSON outside SSE framing, is thrown
 *    as a typed error (`classifyProviderError`), with `RetryInfo.retryDelay` as `retryAfterMs`.
 *    Unknown fields (`safetyRatings`, `citationMetadata`, `groundingMetadata`, ...) are ignored.
 */
export function createGoogleDecoder(context: DecoderContext): StreamDecoder {
  const { provider } = context;
  const candidates = new Map<number, CandidateState>();
  /** Candidates seen without a finish reason yet. */
  let unfinished = 0;
  let responseId: string | undefined;
  let modelVersion: string | undefined;
  let created: number | undefined;
  /** The last `usageMetadata` seen, and whether it has not been considered for emission yet. */
  let usageMetadata: Record<string, unknown> | undefined;
  let usagePending = false;
  let emittedUsage: Usage | undefined;
  /** Tool calls generated so far in the stream, for ids. */
  let calls = 0;

  const openCandidate = (index: number): CandidateState => {
    const state: CandidateState = { finished: false, toolCalls: 0 };
    candidates.set(index, state);
    unfinished++;
    return state;
  };

  const finish = (state: CandidateState): void => {
    state.finished = true;
    unfinished--;
  };

  const toolCall = (call: Record<string, unknown>, state: CandidateState): ToolCallDelta => {
    const ownId = asString(call.id);
    const base = responseId ?? context.requestId;
    const out: ToolCallDelta = {
      index: state.toolCalls++,
      id:
        ownId !== undefined && ownId !== ''
          ? ownId
          : base === undefined || base === ''
            ? `call_${calls++}`
            : `call_${base}_${calls++}`,
      type: 'function',
      function: {},
    };
    const name = asString(call.name);
    if (name !== undefined) out.function.name = name;
    out.function.arguments = JSON.stringify(call.args ?? {});
    return out;
  };

  const decodeCandidate = (raw: unknown): ChunkChoice | undefined => {
    const candidate = asRecord(raw);
    if (candidate === undefined) return undefined;
    const index = asNumber(candidate.index) ?? 0;
    const delta: ChunkDelta = {};
    let state = candidates.get(index);
    let carries = false;
    if (state === undefined) {
      state = openCandidate(index);
      delta.role = 'assistant';
      carries = true;
    }

    const parts = asArray(asRecord(candidate.content)?.parts);
    if (parts !== undefined) {
      let text: string | undefined;
      let reasoning: string | undefined;
      let toolCalls: ToolCallDelta[] | undefined;
      for (const rawPart of parts) {
        const part = asRecord(rawPart);
        if (part === undefined) continue;
        const signature = part.thoughtSignature;
        if (typeof signature === 'string' && signature !== '') {
          delta.reasoning_signature ??= signature;
          carries = true;
        }
        const call = asRecord(part.functionCall);
        if (call !== undefined) {
          (toolCalls ??= []).push(toolCall(call, state));
          continue;
        }
        const value = part.text;
        if (typeof value !== 'string' || value === '') continue;
        if (part.thought === true) reasoning = reasoning === undefined ? value : reasoning + value;
        else text = text === undefined ? value : text + value;
      }
      if (reasoning !== undefined) delta.reasoning = reasoning;
      if (text !== undefined) delta.content = text;
      if (toolCalls !== undefined) delta.tool_calls = toolCalls;
      carries ||= reasoning !== undefined || text !== undefined || toolCalls !== undefined;
    }

    let finishReason: FinishReason | null = null;
    const rawReason = asString(candidate.finishReason);
    if (rawReason !== undefined && rawReason !== '' && !state.finished) {
      finishReason = mapGoogleFinishReason(rawReason, state.toolCalls > 0);
      finish(state);
    }
    const logprobs =
      candidate.logprobsResult == null ? undefined : decodeLogprobs(candidate.logprobsResult);
    if (finishReason === null && !carries) return undefined;
    const choice: ChunkChoice = { index, delta, finish_reason: finishReason };
    if (rawReason !== undefined && rawReason !== finishReason) choice.raw_finish_reason = rawReason;
    if (logprobs !== undefined) choice.logprobs = logprobs;
    return choice;
  };

  return {
    event(event) {
      const { data } = event;
      if (data === '') return false;
      const json = asRecord(parseEventJson(data, provider, event.event));
      if (json === undefined) return false;
      if (json.error !== undefined && json.error !== null) throw googleError(provider, json.error);

      const id = json.responseId;
      if (typeof id === 'string' && id !== '') responseId = id;
      const model = json.modelVersion;
      if (typeof model === 'string' && model !== '') modelVersion = model;
      const usageRecord = asRecord(json.usageMetadata);
      if (usageRecord !== undefined) {
        usageMetadata = usageRecord;
        usagePending = true;
      }

      const choices: ChunkChoice[] = [];
      const rawCandidates = asArray(json.candidates);
      if (rawCandidates !== undefined) {
        for (const raw of rawCandidates) {
          const choice = decodeCandidate(raw);
          if (choice !== undefined) choices.push(choice);
        }
      }
      if (candidates.size === 0 && json.promptFeedback !== undefined) {
        const blockReason = asString(asRecord(json.promptFeedback)?.blockReason);
        if (blockReason !== undefined && blockReason !== '') {
          finish(openCandidate(0));
          choices.push({
            index: 0,
            delta: { role: 'assistant' },
            finish_reason: 'content_filter',
            raw_finish_reason: blockReason,
          });
        }
      }

      // Usage is final only once the answer is: attach it to the completing chunk, and send it
      // again (alone) only if a later event changes it.
      let usage: Usage | undefined;
      if (usagePending && unfinished === 0 && candidates.size > 0) {
        usagePending = false;
        const next = decodeUsage(usageMetadata);
        if (emittedUsage === undefined || !sameUsage(next, emittedUsage)) {
          usage = next;
          emittedUsage = next;
        }
      }
      if (choices.length === 0 && usage === undefined) return false;

      context.emit(
        makeChunk(
          responseId ?? context.requestId ?? '',
          (created ??= Math.floor(Date.now() / 1000)),
          modelVersion ?? context.model ?? '',
          provider,
          choices,
          usage,
        ),
      );
      return false;
    },

    bareJson(value, raw) {
      const error = Array.isArray(value)
        ? value.map((item) => asRecord(item)?.error).find((e) => e !== undefined && e !== null)
        : asRecord(value)?.error;
      if (error !== undefined && error !== null) throw googleError(provider, error);
      throw new ParseError(
        Array.isArray(value)
          ? `${provider} sent a JSON array instead of SSE events: ${excerpt(raw)}. Request streamGenerateContent with ?alt=sse.`
          : `${provider} sent JSON outside SSE framing that is not an error: ${excerpt(raw)}. The stream is corrupt; retry the request.`,
        { provider, excerpt: raw },
      );
    },

    end() {
      if (candidates.size > 0 && unfinished === 0) return;
      throw new IncompleteStreamError(
        `The ${provider} stream ended before a finish reason for every candidate; the answer is truncated. Retry or fail over.`,
        { provider },
      );
    },
  };
}

function decodeUsage(raw: Record<string, unknown> | undefined): Usage {
  const promptTokens = asNumber(raw?.promptTokenCount) ?? 0;
  const candidatesTokens = asNumber(raw?.candidatesTokenCount) ?? 0;
  const thoughtsTokens = asNumber(raw?.thoughtsTokenCount);
  return makeUsage({
    promptTokens,
    completionTokens: candidatesTokens + (thoughtsTokens ?? 0),
    cachedTokens: asNumber(raw?.cachedContentTokenCount),
    reasoningTokens: thoughtsTokens,
  });
}

function sameUsage(a: Usage, b: Usage): boolean {
  return (
    a.prompt_tokens === b.prompt_tokens &&
    a.completion_tokens === b.completion_tokens &&
    a.prompt_tokens_details?.cached_tokens === b.prompt_tokens_details?.cached_tokens &&
    a.completion_tokens_details?.reasoning_tokens === b.completion_tokens_details?.reasoning_tokens
  );
}

/** Turns a Gemini error object (`{code, message, status, details}`) into a typed error. */
function googleError(provider: string, raw: unknown): RouterError {
  const error = asRecord(raw);
  const code = asNumber(error?.code);
  return classifyProviderError({
    provider,
    status: code !== undefined && code >= 400 && code < 600 ? code : undefined,
    type: asString(error?.status),
    message: asString(error?.message) ?? (typeof raw === 'string' ? raw : undefined),
    retryAfterMs: parseGoogleRetryDelay(error),
    cause: raw,
  });
}

const utf8 = new TextEncoder();

/** One of Gemini's `{token, logProbability}`, in OpenAI's terms. */
function topLogprob(raw: unknown): TopLogprob | undefined {
  const entry = asRecord(raw);
  const token = asString(entry?.token);
  const logprob = asNumber(entry?.logProbability);
  if (token === undefined || logprob === undefined) return undefined;
  return { token, logprob, bytes: Array.from(utf8.encode(token)) };
}

/**
 * Gemini's `logprobsResult` (`responseLogprobs: true`) as OpenAI's `logprobs`: each of
 * `chosenCandidates` is a token, with the `topCandidates` of the same step as its alternatives.
 * Undefined when it holds no token.
 */
function decodeLogprobs(raw: unknown): ChoiceLogprobs | undefined {
  const result = asRecord(raw);
  const chosen = asArray(result?.chosenCandidates) ?? [];
  const steps = asArray(result?.topCandidates) ?? [];
  const content: TokenLogprob[] = [];
  chosen.forEach((entry, step) => {
    const token = topLogprob(entry);
    if (token === undefined) return;
    const alternatives: TopLogprob[] = [];
    for (const alternative of asArray(asRecord(steps[step])?.candidates) ?? []) {
      const decoded = topLogprob(alternative);
      if (decoded !== undefined) alternatives.push(decoded);
    }
    content.push({ ...token, top_logprobs: alternatives });
  });
  return content.length === 0 ? undefined : { content, refusal: null };
}
