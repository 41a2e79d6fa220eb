import type { ChunkChoice, ChunkDelta, ToolCallDelta, Usage } from '../../chunk/streaming-chunk';
import { IncompleteStreamError } from '../../errors/incomplete-stream-error';
import { classifyProviderError } from '../classify-error';
import { parseEventJson } from '../parse-event-json';
import {
  asNumber,
  asRecord,
  asString,
  makeChunk,
  makeUsage,
  type DecoderContext,
  type StreamDecoder,
} from '../stream-decoder';
import { mapAnthropicFinishReason } from './map-anthropic-finish-reason';

/** The content-block types the decoder turns into deltas; every other type is ignored. */
type BlockKind = 'text' | 'thinking' | 'redacted_thinking' | 'tool_use' | 'ignored';

/** What the decoder remembers of one content block, under its content-block index. */
interface BlockState {
  kind: BlockKind;
  /** For `tool_use` blocks: the call's ordinal among the tool_use blocks (its OpenAI `index`). */
  toolIndex: number;
  /** For `tool_use` blocks: whether a non-empty `partial_json` piece has been emitted. */
  hasArguments: boolean;
  /** For `tool_use` blocks: the `input` of `content_block_start`, used if no piece ever comes. */
  input: Record<string, unknown> | undefined;
}

const textBlock: BlockState = {
  kind: 'text',
  toolIndex: -1,
  hasArguments: false,
  input: undefined,
};
const thinkingBlock: BlockState = { ...textBlock, kind: 'thinking' };
const redactedBlock: BlockState = { ...textBlock, kind: 'redacted_thinking' };
const ignoredBlock: BlockState = { ...textBlock, kind: 'ignored' };

/** The longest piece of a non-JSON `event: error` payload quoted in the error message. */
const maxQuoted = 200;

/**
 * Decodes Anthropic Messages API streams (`event: <type>` + `data: {json}`, ending with
 * `message_stop`).
 *
 * - `message_start` gives the id, the model and the input-side usage, and a first chunk with
 *   `delta.role = 'assistant'`.
 * - Content blocks: `text` → `delta.content`; `tool_use` → `delta.tool_calls`, indexed by the
 *   block's ordinal among the tool_use blocks (not its content-block index), with
 *   `partial_json` pieces as `function.arguments`; `thinking` → `delta.reasoning` and
 *   `delta.reasoning_signature`; `redacted_thinking` → `delta.redacted_reasoning`. Server-tool
 *   and unknown blocks, `ping`s, unknown events and unknown fields are ignored.
 * - A tool_use block that stops without a single argument piece (a tool without parameters)
 *   gets `arguments: "{}"`, so the joined arguments are always JSON once the block is complete.
 * - `message_delta` gives the finish reason (mapped, raw value kept) and the usage, converted to
 *   OpenAI's semantics: `prompt_tokens` includes cache reads and writes.
 * - `event: error` (or a `"type": "error"` payload) is thrown as a typed error.
 * - A stream that ends without `message_stop` is complete only if a `stop_reason` arrived.
 */
export function createAnthropicDecoder(context: DecoderContext): StreamDecoder {
  const { provider } = context;
  let id = context.requestId ?? '';
  let model = context.model ?? '';
  let created: number | undefined;
  let started = false;
  let stopReason: string | undefined;
  const blocks: (BlockState | undefined)[] = [];
  let toolCount = 0;

  // Usage as Anthropic counts it; the latest value reported for each field wins.
  let hasUsage = false;
  let inputTokens: number | undefined;
  let cacheCreationTokens: number | undefined;
  let cacheReadTokens: number | undefined;
  let outputTokens: number | undefined;

  const emit = (choices: ChunkChoice[], usage?: Usage): void => {
    created ??= Math.floor(Date.now() / 1000);
    context.emit(makeChunk(id, created, model, provider, choices, usage));
  };

  const emitDelta = (delta: ChunkDelta): void => {
    emit([{ index: 0, delta, finish_reason: null }]);
  };

  const emitToolCall = (call: ToolCallDelta): void => {
    emitDelta({ tool_calls: [call] });
  };

  const readUsage = (raw: unknown): void => {
    const usage = asRecord(raw);
    if (usage === undefined) return;
    const input = asNumber(usage.input_tokens);
    const cacheCreation = asNumber(usage.cache_creation_input_tokens);
    const cacheRead = asNumber(usage.cache_read_input_tokens);
    const output = asNumber(usage.output_tokens);
    if (input !== undefined) inputTokens = input;
    if (cacheCreation !== undefined) cacheCreationTokens = cacheCreation;
    if (cacheRead !== undefined) cacheReadTokens = cacheRead;
    if (output !== undefined) outputTokens = output;
    hasUsage ||=
      input !== undefined ||
      cacheCreation !== undefined ||
      cacheRead !== undefined ||
      output !== undefined;
  };

  const usage = (): Usage | undefined =>
    hasUsage
      ? convertAnthropicUsage({
          inputTokens,
          cacheCreationTokens,
          cacheReadTokens,
          outputTokens,
        })
      : undefined;

  const blockDelta = (json: Record<string, unknown>): void => {
    const delta = asRecord(json.delta);
    if (delta === undefined) return;
    const block = blocks[asNumber(json.index) ?? 0];
    if (block !== undefined && block.kind === 'ignored') return;
    switch (delta.type) {
      case 'text_delta': {
        const text = asString(delta.text);
        if (text !== undefined && text !== '') emitDelta({ content: text });
        return;
      }
      case 'input_json_delta': {
        if (block === undefined || block.kind !== 'tool_use') return;
        const piece = asString(delta.partial_json);
        if (piece === undefined || piece === '') return;
        block.hasArguments = true;
        emitToolCall({ index: block.toolIndex, function: { arguments: piece } });
        return;
      }
      case 'thinking_delta': {
        const thinking = asString(delta.thinking);
        if (thinking !== undefined && thinking !== '') emitDelta({ reasoning: thinking });
        return;
      }
      case 'signature_delta': {
        const signature = asString(delta.signature);
        if (signature !== undefined && signature !== '')
          emitDelta({ reasoning_signature: signature });
        return;
      }
      default:
        // citations_delta and delta types added later carry nothing we report.
        return;
    }
  };

  const blockStart = (json: Record<string, unknown>): void => {
    const index = asNumber(json.index) ?? 0;
    const start = asRecord(json.content_block);
    switch (start?.type) {
      case 'text': {
        blocks[index] = textBlock;
        const text = asString(start.text);
        if (text !== undefined && text !== '') emitDelta({ content: text });
        return;
      }
      case 'thinking': {
        blocks[index] = thinkingBlock;
        const delta: ChunkDelta = {};
        const thinking = asString(start.thinking);
        const signature = asString(start.signature);
        if (thinking !== undefined && thinking !== '') delta.reasoning = thinking;
        if (signature !== undefined && signature !== '') delta.reasoning_signature = signature;
        if (delta.reasoning !== undefined || delta.reasoning_signature !== undefined)
          emitDelta(delta);
        return;
      }
      case 'redacted_thinking': {
        blocks[index] = redactedBlock;
        const data = asString(start.data);
        if (data !== undefined && data !== '') emitDelta({ redacted_reasoning: data });
        return;
      }
      case 'tool_use': {
        const toolIndex = toolCount++;
        blocks[index] = {
          kind: 'tool_use',
          toolIndex,
          hasArguments: false,
          input: asRecord(start.input),
        };
        const fn = { name: asString(start.name) ?? '', arguments: '' };
        const toolId = asString(start.id);
        emitToolCall(
          toolId === undefined || toolId === ''
            ? { index: toolIndex, type: 'function', function: fn }
            : { index: toolIndex, id: toolId, type: 'function', function: fn },
        );
        return;
      }
      default:
        // server_tool_use, web_search_tool_result, mcp_tool_use, ...: the server ran these.
        blocks[index] = ignoredBlock;
        return;
    }
  };

  const blockStop = (json: Record<string, unknown>): void => {
    const block = blocks[asNumber(json.index) ?? 0];
    if (block === undefined || block.kind !== 'tool_use' || block.hasArguments) return;
    // No argument piece came: a tool without parameters ("" only), or a proxy that sent the
    // whole input in content_block_start.
    block.hasArguments = true;
    const { input } = block;
    const args =
      input !== undefined && Object.keys(input).length > 0 ? JSON.stringify(input) : '{}';
    emitToolCall({ index: block.toolIndex, function: { arguments: args } });
  };

  const messageDelta = (json: Record<string, unknown>): void => {
    readUsage(json.usage);
    const raw = asString(asRecord(json.delta)?.stop_reason);
    if (raw === undefined) {
      const current = usage();
      if (current !== undefined) emit([], current);
      return;
    }
    stopReason = raw;
    const finishReason = mapAnthropicFinishReason(raw);
    const choice: ChunkChoice = { index: 0, delta: {}, finish_reason: finishReason };
    if (raw !== finishReason) choice.raw_finish_reason = raw;
    emit([choice], usage());
  };

  return {
    event(event) {
      const { data } = event;
      if (event.event === 'ping') return false;
      if (event.event === 'error') throw errorEvent(provider, data);
      if (data === '') return false;
      const json = asRecord(parseEventJson(data, provider, event.event));
      if (json === undefined) return false;
      switch (json.type ?? event.event) {
        case 'content_block_delta':
          blockDelta(json);
          return false;
        case 'content_block_start':
          blockStart(json);
          return false;
        case 'content_block_stop':
          blockStop(json);
          return false;
        case 'message_start': {
          started = true;
          const message = asRecord(json.message);
          id = asString(message?.id) || id;
          model = asString(message?.model) || model;
          readUsage(message?.usage);
          emitDelta({ role: 'assistant' });
          return false;
        }
        case 'message_delta':
          messageDelta(json);
          return false;
        case 'message_stop':
          return true;
        case 'error':
          throw inBandError(provider, json);
        default:
          // ping, and event types added after this was written.
          return false;
      }
    },

    bareJson(value) {
      throw inBandError(provider, value);
    },

    end() {
      if (stopReason !== undefined) return;
      throw new IncompleteStreamError(
        started
          ? `The ${provider} stream ended before message_stop and without a stop_reason; the answer is truncated. Retry or fail over.`
          : `The ${provider} stream ended before message_start; nothing was answered. Retry or fail over.`,
        { provider },
      );
    },
  };
}

/** Anthropic's token counts, as `message_start` and `message_delta` report them. */
export interface AnthropicUsageCounts {
  /** Uncached input tokens (Anthropic's `input_tokens` excludes the cache). */
  inputTokens: number | undefined;
  cacheCreationTokens: number | undefined;
  cacheReadTokens: number | undefined;
  outputTokens: number | undefined;
}

/**
 * Converts Anthropic's counts to OpenAI's semantics: `prompt_tokens` is every input token
 * (uncached + cache reads + cache writes), `cached_tokens` the cache reads and
 * `cache_write_tokens` the cache writes; `completion_tokens` is the output (thinking included).
 */
export function convertAnthropicUsage(counts: AnthropicUsageCounts): Usage {
  const { inputTokens, cacheCreationTokens, cacheReadTokens, outputTokens } = counts;
  return makeUsage({
    promptTokens: (inputTokens ?? 0) + (cacheReadTokens ?? 0) + (cacheCreationTokens ?? 0),
    completionTokens: outputTokens ?? 0,
    cachedTokens: cacheReadTokens,
    cacheWriteTokens: cacheCreationTokens,
  });
}

/** An `event: error`; its data is normally `{"type":"error","error":{...}}`, but may be text. */
function errorEvent(provider: string, data: string): Error {
  let json: unknown;
  try {
    json = JSON.parse(data);
  } catch {
    const text = data.trim();
    return classifyProviderError({
      provider,
      message:
        text === ''
          ? 'an error event with no details'
          : text.length > maxQuoted
            ? `${text.slice(0, maxQuoted)}…`
            : text,
      cause: data,
    });
  }
  return inBandError(provider, json);
}

/** Anthropic's error payload: `{"type":"error","error":{"type":"overloaded_error","message"}}`. */
function inBandError(provider: string, raw: unknown): Error {
  const outer = asRecord(raw);
  const inner = outer?.error;
  const error = asRecord(inner) ?? outer;
  return classifyProviderError({
    provider,
    type: asString(error?.type),
    message:
      asString(error?.message) ?? asString(inner) ?? (typeof raw === 'string' ? raw : undefined),
    cause: raw,
  });
}
