import type {
  ChoiceLogprobs,
  ChunkChoice,
  ChunkDelta,
  TokenLogprob,
  ToolCallDelta,
  TopLogprob,
  Usage,
} from '../../chunk/streaming-chunk';
import { IncompleteStreamError } from '../../errors/incomplete-stream-error';
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
import { mapOpenAIFinishReason } from './map-openai-finish-reason';

/**
 * Decodes OpenAI Chat Completions streams, and those of OpenAI-compatible servers (vLLM, Ollama,
 * llama.cpp, OpenRouter, DeepSeek, Azure).
 *
 * - `data: [DONE]` ends the stream.
 * - `delta.reasoning_content` and `delta.reasoning` become `delta.reasoning`.
 * - A choice's `logprobs` (`logprobs: true` in the request) is kept, its entries checked, and so
 *   are `delta.annotations` (URL citations).
 * - An in-band `{"error": {...}}` (even beside `choices`) is thrown as a typed error, and so is
 *   a `finish_reason: "error"` (OpenRouter).
 * - Chunks with no choices and no usage (Azure's prompt-filter preamble) carry nothing and are
 *   skipped; `usage: null` is ignored.
 */
export function createOpenAIDecoder(context: DecoderContext): StreamDecoder {
  const { provider } = context;
  const started = new Set<number>();
  const finished = new Set<number>();
  let fallbackCreated: number | undefined;

  return {
    event(event) {
      const { data } = event;
      if (data === '[DONE]') return true;
      if (data === '') return false;
      const json = asRecord(parseEventJson(data, provider, event.event));
      if (json === undefined) return false;
      if (json.error !== undefined && json.error !== null) throw inBandError(provider, json.error);

      const rawChoices = asArray(json.choices);
      const choices: ChunkChoice[] = [];
      if (rawChoices !== undefined) {
        for (const raw of rawChoices) {
          const choice = decodeChoice(raw, provider);
          if (choice === undefined) continue;
          started.add(choice.index);
          if (choice.finish_reason !== null) finished.add(choice.index);
          choices.push(choice);
        }
      }
      const usage = decodeUsage(json.usage);
      if (choices.length === 0 && usage === undefined) return false;

      const created = asNumber(json.created) ?? (fallbackCreated ??= Math.floor(Date.now() / 1000));
      context.emit(
        makeChunk(
          asString(json.id) || context.requestId || '',
          created,
          asString(json.model) || context.model || '',
          provider,
          choices,
          usage,
        ),
      );
      return false;
    },

    bareJson(value) {
      const json = asRecord(value);
      throw inBandError(provider, json?.error ?? value);
    },

    end() {
      if (finished.size > 0 && [...started].every((index) => finished.has(index))) return;
      throw new IncompleteStreamError(
        `The ${provider} stream ended before a finish reason or [DONE]; the answer is truncated. Retry or fail over.`,
        { provider },
      );
    },
  };
}

function decodeChoice(raw: unknown, provider: string): ChunkChoice | undefined {
  const choice = asRecord(raw);
  if (choice === undefined) return undefined;
  const index = asNumber(choice.index) ?? 0;
  const delta: ChunkDelta = {};
  const rawDelta = asRecord(choice.delta);
  if (rawDelta !== undefined) {
    if (rawDelta.role === 'assistant') delta.role = 'assistant';
    if (typeof rawDelta.content === 'string' || rawDelta.content === null)
      delta.content = rawDelta.content;
    if (typeof rawDelta.refusal === 'string' || rawDelta.refusal === null)
      delta.refusal = rawDelta.refusal;
    const reasoning = asString(rawDelta.reasoning_content) ?? asString(rawDelta.reasoning);
    if (reasoning !== undefined) delta.reasoning = reasoning;
    const toolCalls = asArray(rawDelta.tool_calls);
    if (toolCalls !== undefined && toolCalls.length > 0)
      delta.tool_calls = toolCalls.map(decodeToolCall);
    const annotations = asArray(rawDelta.annotations);
    if (annotations !== undefined && annotations.length > 0) {
      const records = annotations.filter(
        (a): a is Record<string, unknown> => asRecord(a) !== undefined,
      );
      if (records.length > 0) delta.annotations = records;
    }
  }
  // Some compatible servers (Ollama, SGLang) send `finish_reason: ""` on every chunk before the
  // last: that means "not finished", not `stop`.
  const rawReason = asString(choice.finish_reason) || undefined;
  if (rawReason === 'error') {
    throw classifyProviderError({
      provider,
      message: 'the stream finished with finish_reason "error"',
    });
  }
  const result: ChunkChoice = {
    index,
    delta,
    finish_reason: rawReason === undefined ? null : mapOpenAIFinishReason(rawReason),
  };
  if (rawReason !== undefined && rawReason !== result.finish_reason)
    result.raw_finish_reason = rawReason;
  if (choice.logprobs != null) {
    const logprobs = decodeLogprobs(choice.logprobs);
    if (logprobs !== undefined) result.logprobs = logprobs;
  }
  return result;
}

/**
 * A choice's `logprobs` (`{content, refusal}`), its entries checked. Undefined when it holds no
 * token: some servers send `{"content": [], "refusal": null}` on every chunk.
 */
function decodeLogprobs(raw: unknown): ChoiceLogprobs | undefined {
  const logprobs = asRecord(raw);
  if (logprobs === undefined) return undefined;
  const content = decodeTokenLogprobs(logprobs.content);
  const refusal = decodeTokenLogprobs(logprobs.refusal);
  return content === null && refusal === null ? undefined : { content, refusal };
}

function decodeTokenLogprobs(raw: unknown): TokenLogprob[] | null {
  const entries = asArray(raw);
  if (entries === undefined || entries.length === 0) return null;
  const out: TokenLogprob[] = [];
  for (const entry of entries) {
    const top = decodeTopLogprob(entry);
    if (top === undefined) continue;
    const alternatives: TopLogprob[] = [];
    for (const alternative of asArray(asRecord(entry)?.top_logprobs) ?? []) {
      const decoded = decodeTopLogprob(alternative);
      if (decoded !== undefined) alternatives.push(decoded);
    }
    out.push({ ...top, top_logprobs: alternatives });
  }
  return out.length === 0 ? null : out;
}

function decodeTopLogprob(raw: unknown): TopLogprob | undefined {
  const entry = asRecord(raw);
  const token = asString(entry?.token);
  const logprob = asNumber(entry?.logprob);
  if (token === undefined || logprob === undefined) return undefined;
  const bytes = asArray(entry?.bytes);
  return {
    token,
    logprob,
    bytes: bytes !== undefined && bytes.every((b) => typeof b === 'number') ? bytes : null,
  };
}

function decodeToolCall(raw: unknown, position: number): ToolCallDelta {
  const call = asRecord(raw) ?? {};
  const fn = asRecord(call.function) ?? {};
  const out: ToolCallDelta = { index: asNumber(call.index) ?? position, function: {} };
  const id = asString(call.id);
  if (id !== undefined && id !== '') out.id = id;
  if (call.type === 'function') out.type = 'function';
  const name = asString(fn.name);
  if (name !== undefined && name !== '') out.function.name = name;
  const args = asString(fn.arguments);
  if (args !== undefined) out.function.arguments = args;
  return out;
}

function decodeUsage(raw: unknown): Usage | undefined {
  const usage = asRecord(raw);
  if (usage === undefined) return undefined;
  const promptTokens = asNumber(usage.prompt_tokens) ?? 0;
  const completionTokens = asNumber(usage.completion_tokens) ?? 0;
  const promptDetails = asRecord(usage.prompt_tokens_details);
  const completionDetails = asRecord(usage.completion_tokens_details);
  return makeUsage({
    promptTokens,
    completionTokens,
    // DeepSeek reports cache reads as prompt_cache_hit_tokens.
    cachedTokens: asNumber(promptDetails?.cached_tokens) ?? asNumber(usage.prompt_cache_hit_tokens),
    cacheWriteTokens: asNumber(promptDetails?.cache_write_tokens),
    reasoningTokens: asNumber(completionDetails?.reasoning_tokens),
  });
}

function inBandError(provider: string, raw: unknown): Error {
  const error = asRecord(raw);
  const code = error?.code;
  const status = asNumber(code);
  return classifyProviderError({
    provider,
    // OpenRouter puts the upstream HTTP status in `code`.
    status: status !== undefined && status >= 400 && status < 600 ? status : undefined,
    type: asString(error?.type),
    code: asString(code),
    message: asString(error?.message) ?? (typeof raw === 'string' ? raw : undefined),
    cause: raw,
  });
}
