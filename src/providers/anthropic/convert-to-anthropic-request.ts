import type {
  AssistantMessage,
  ChatRequest,
  SystemMessage,
  ToolMessage,
  UserContentPart,
  UserMessage,
} from '../../request/chat-request';
import {
  isRecord,
  parseDataUrl,
  parseToolArguments,
  translationError,
} from '../translation-helpers';

/** `max_tokens` sent when the request sets neither `max_completion_tokens` nor `max_tokens`. */
export const ANTHROPIC_DEFAULT_MAX_TOKENS = 4096;

/**
 * `thinking.budget_tokens` per `reasoning_effort`. `minimal` has no entry: it sends no `thinking`
 * (Anthropic's smallest budget, 1024, is already `low`).
 */
export const ANTHROPIC_THINKING_BUDGETS = { low: 1024, medium: 4096, high: 16384 } as const;

/** Image types Anthropic accepts inline. */
const ANTHROPIC_IMAGE_TYPES = new Set(['image/jpeg', 'image/png', 'image/gif', 'image/webp']);

/** Options of {@link toAnthropicRequest}. */
export interface ToAnthropicRequestOptions {
  /** The model to send, replacing `request.model` (e.g. `claude-sonnet-4-5`). */
  model?: string;
  /**
   * `max_tokens` when the request sets neither `max_completion_tokens` nor `max_tokens`
   * (Anthropic requires it). Default {@link ANTHROPIC_DEFAULT_MAX_TOKENS} (4096).
   */
  defaultMaxTokens?: number;
}

/** Anthropic's prompt-caching marker, passed through from OpenRouter-style content parts. */
export type AnthropicCacheControl = Record<string, unknown>;

export interface AnthropicTextBlock {
  type: 'text';
  text: string;
  cache_control?: AnthropicCacheControl;
}
export interface AnthropicImageBlock {
  type: 'image';
  source: { type: 'base64'; media_type: string; data: string } | { type: 'url'; url: string };
  cache_control?: AnthropicCacheControl;
}
export interface AnthropicDocumentBlock {
  type: 'document';
  source: { type: 'base64'; media_type: 'application/pdf'; data: string };
  title?: string;
  cache_control?: AnthropicCacheControl;
}
export interface AnthropicToolUseBlock {
  type: 'tool_use';
  id: string;
  name: string;
  input: Record<string, unknown>;
}
export interface AnthropicToolResultBlock {
  type: 'tool_result';
  tool_use_id: string;
  content?: string | AnthropicTextBlock[];
}
export type AnthropicContentBlock =
  | AnthropicTextBlock
  | AnthropicImageBlock
  | AnthropicDocumentBlock
  | AnthropicToolUseBlock
  | AnthropicToolResultBlock;

export interface AnthropicMessage {
  role: 'user' | 'assistant';
  content: AnthropicContentBlock[];
}

export interface AnthropicTool {
  name: string;
  description?: string;
  input_schema: Record<string, unknown>;
}

export type AnthropicToolChoice =
  | { type: 'auto' | 'any'; disable_parallel_tool_use?: boolean }
  | { type: 'tool'; name: string; disable_parallel_tool_use?: boolean }
  | { type: 'none' };

/** The streaming Messages API body (`POST /v1/messages`). */
export interface AnthropicMessagesRequest {
  model: string;
  max_tokens: number;
  system?: string | AnthropicTextBlock[];
  messages: AnthropicMessage[];
  tools?: AnthropicTool[];
  tool_choice?: AnthropicToolChoice;
  thinking?: { type: 'enabled'; budget_tokens: number };
  temperature?: number;
  top_p?: number;
  top_k?: number;
  stop_sequences?: string[];
  metadata?: { user_id: string };
  stream: true;
}

/**
 * Translates an OpenAI-shaped {@link ChatRequest} into a streaming Anthropic Messages API body.
 * Gloss: OpenAI chat in, Claude messages out, or a `ValidationError` naming the field that
 * Anthropic cannot take.
 *
 * 1. `system` and `developer` messages, wherever they appear, become the top-level `system`:
 *    one string, the messages (and their text parts) joined with `"\n\n"`. When a part carries
 *    `cache_control` the system is sent as text blocks instead, keeping the markers.
 * 2. `max_tokens` is always set: `max_completion_tokens ?? max_tokens ?? defaultMaxTokens`.
 * 3. User parts: text → `text`; `image_url` data: URL → base64 `image`, http(s) URL → url
 *    `image`; `file` (PDF, base64) → `document`; `input_audio` is rejected. Empty text is dropped.
 * 4. Assistant turns: text (and refusals) → `text`, `tool_calls` → `tool_use` with `input`
 *    parsed from `arguments` (`""` reads as `{}`); `reasoning` is dropped (it has no signature).
 * 5. `tool` messages → user-role `tool_result` blocks. Tool-call ids outside Anthropic's
 *    `^[a-zA-Z0-9_-]+$` (other providers' ids, e.g. `functions.get:0`) are rewritten the same
 *    way in `tool_use` and `tool_result`.
 * 6. Consecutive same-role messages are merged (Anthropic wants alternation); in a merged user
 *    message the `tool_result` blocks come first, as Anthropic requires.
 * 7. A trailing assistant message is kept last (a prefill: Claude continues from it), with its
 *    trailing whitespace trimmed, since Anthropic rejects a final assistant text ending in it.
 * 8. `temperature` (0 to 1, else rejected), `top_p`, `top_k` (an extra field), `stop` →
 *    `stop_sequences` (whitespace-only ones rejected), `user` → `metadata.user_id`; `n > 1`
 *    is rejected; `seed`, penalties and the other `metadata` keys are dropped.
 * 9. `tools`/`tool_choice`/`parallel_tool_calls` map to Anthropic's (see the docs table).
 * 10. `response_format` `json_object`/`json_schema` has no native equivalent: an instruction
 *    (with the schema) is appended to `system`. Best effort, not a guarantee.
 * 11. `reasoning_effort` → `thinking` (low 1024, medium 4096, high 16384 tokens; minimal: none),
 *    raising `max_tokens` to budget + `max_tokens` when it is not above the budget. Thinking is
 *    left out when the rest of the request cannot go with it: `temperature` ≠ 1, `top_p` < 0.95,
 *    `top_k`, a forced `tool_choice`, a prefill, or a conversation ending in tool results (Claude
 *    would need the earlier thinking blocks back).
 *
 * Every rejection is a {@link ValidationError} (`provider: 'anthropic'`) naming the field, e.g.
 * `messages[2].tool_calls[0].function.arguments`.
 *
 * ## Examples
 *
 * ```ts
 * const body = toAnthropicRequest(
 *   { model: 'gpt-4o', messages: [{ role: 'system', content: 'Be terse.' }, { role: 'user', content: 'Hi' }] },
 *   { model: 'claude-sonnet-4-5' },
 * );
 * // { model: 'claude-sonnet-4-5', max_tokens: 4096, system: 'Be terse.',
 * //   messages: [{ role: 'user', content: [{ type: 'text', text: 'Hi' }] }], stream: true }
 * ```
 *
 * @see toOpenAIRequest
 * @see toGoogleRequest
 * @param request An OpenAI-shaped chat request (validated).
 * @param options The model override and the default `max_tokens`.
 * @return The JSON body to POST to `/v1/messages`.
 */
export function toAnthropicRequest(
  request: ChatRequest,
  options: ToAnthropicRequestOptions = {},
): AnthropicMessagesRequest {
  const { model = request.model, defaultMaxTokens = ANTHROPIC_DEFAULT_MAX_TOKENS } = options;

  if (request.n != null && request.n > 1) {
    fail('n', `Anthropic returns one choice per request; got n = ${request.n}, expected 1`);
  }
  if (request.logprobs === true) {
    fail('logprobs', 'Anthropic does not return token log probabilities');
  }
  if (request.temperature != null && request.temperature > 1) {
    fail('temperature', `Anthropic accepts 0 to 1; got ${request.temperature}`);
  }

  const system: AnthropicTextBlock[] = [];
  const messages: AnthropicMessage[] = [];
  const toolCallIds = new Set<string>();
  request.messages.forEach((message, i) => {
    switch (message.role) {
      case 'system':
      case 'developer':
        system.push(...systemBlocks(message));
        break;
      case 'user':
        append(messages, 'user', userBlocks(message, i));
        break;
      case 'assistant':
        append(messages, 'assistant', assistantBlocks(message, i, toolCallIds));
        break;
      case 'tool':
        append(messages, 'user', [toolResultBlock(message, i, toolCallIds)]);
        break;
    }
  });
  trimPrefill(messages);
  if (messages.length === 0) {
    fail('messages', 'Anthropic needs at least one user or assistant message with content');
  }

  const jsonInstruction = responseFormatInstruction(request);
  if (jsonInstruction !== undefined) system.push({ type: 'text', text: jsonInstruction });

  const body: AnthropicMessagesRequest = {
    model,
    max_tokens: request.max_completion_tokens ?? request.max_tokens ?? defaultMaxTokens,
    messages,
    stream: true,
  };
  if (system.length > 0) body.system = joinSystem(system);

  if (request.tools !== undefined && request.tools.length > 0) {
    body.tools = request.tools.map(({ function: fn }) => {
      const tool: AnthropicTool = {
        name: fn.name,
        input_schema: fn.parameters ?? { type: 'object', properties: {} },
      };
      if (fn.description !== undefined) tool.description = fn.description;
      return tool;
    });
    const choice = toolChoice(request, body.tools);
    if (choice !== undefined) body.tool_choice = choice;
  }

  if (request.temperature != null) body.temperature = request.temperature;
  if (request.top_p != null) body.top_p = request.top_p;
  const topK = extraNumber(request, 'top_k');
  if (topK !== undefined) body.top_k = topK;
  const stop = stopSequences(request.stop);
  if (stop !== undefined) body.stop_sequences = stop;
  if (request.user !== undefined && request.user !== '') {
    body.metadata = { user_id: request.user };
  }

  const budget = thinkingBudget(request, body);
  if (budget !== undefined) {
    body.thinking = { type: 'enabled', budget_tokens: budget };
    if (body.max_tokens <= budget) body.max_tokens = budget + body.max_tokens;
  }
  return body;
}

function fail(path: string, message: string, cause?: unknown): never {
  return translationError('anthropic', path, message, cause);
}

/** A numeric extra field (one the schema does not declare, e.g. `top_k`). */
function extraNumber(request: ChatRequest, key: string): number | undefined {
  const value = (request as Record<string, unknown>)[key];
  return typeof value === 'number' ? value : undefined;
}

/** The part's `cache_control` (OpenRouter's convention for Anthropic caching), if any. */
function cacheControlOf(part: object): AnthropicCacheControl | undefined {
  const value = (part as Record<string, unknown>).cache_control;
  return isRecord(value) ? value : undefined;
}

function textBlock(text: string, part?: object): AnthropicTextBlock {
  const block: AnthropicTextBlock = { type: 'text', text };
  const cacheControl = part === undefined ? undefined : cacheControlOf(part);
  if (cacheControl !== undefined) block.cache_control = cacheControl;
  return block;
}

function systemBlocks(message: SystemMessage): AnthropicTextBlock[] {
  if (typeof message.content === 'string') {
    return message.content === '' ? [] : [textBlock(message.content)];
  }
  return message.content
    .filter((part) => part.text !== '')
    .map((part) => textBlock(part.text, part));
}

/** One string, unless a block carries `cache_control`: then the blocks, markers kept. */
function joinSystem(blocks: AnthropicTextBlock[]): string | AnthropicTextBlock[] {
  if (blocks.some((block) => block.cache_control !== undefined)) return blocks;
  return blocks.map((block) => block.text).join('\n\n');
}

/** Appends blocks as a message, merging into the previous one when it has the same role. */
function append(
  messages: AnthropicMessage[],
  role: AnthropicMessage['role'],
  blocks: AnthropicContentBlock[],
): void {
  if (blocks.length === 0) return;
  const last = messages[messages.length - 1];
  if (last === undefined || last.role !== role) {
    messages.push({ role, content: toolResultsFirst(blocks) });
    return;
  }
  last.content = toolResultsFirst([...last.content, ...blocks]);
}

/** Anthropic wants a user message's `tool_result` blocks before anything else in it. */
function toolResultsFirst(blocks: AnthropicContentBlock[]): AnthropicContentBlock[] {
  const results = blocks.filter((block) => block.type === 'tool_result');
  if (results.length === 0 || results.length === blocks.length) return blocks;
  return [...results, ...blocks.filter((block) => block.type !== 'tool_result')];
}

function userBlocks(message: UserMessage, i: number): AnthropicContentBlock[] {
  if (typeof message.content === 'string') {
    return message.content === '' ? [] : [textBlock(message.content)];
  }
  const blocks: AnthropicContentBlock[] = [];
  message.content.forEach((part, j) => {
    const block = userBlock(part, `messages[${i}].content[${j}]`);
    if (block !== undefined) blocks.push(block);
  });
  return blocks;
}

function userBlock(part: UserContentPart, path: string): AnthropicContentBlock | undefined {
  switch (part.type) {
    case 'text':
      return part.text === '' ? undefined : textBlock(part.text, part);
    case 'image_url':
      return withCacheControl(imageBlock(part.image_url.url, `${path}.image_url.url`), part);
    case 'file':
      return withCacheControl(documentBlock(part.file, `${path}.file`), part);
    case 'input_audio':
      return fail(path, 'Anthropic does not accept audio input (input_audio)');
  }
}

function withCacheControl<T extends AnthropicImageBlock | AnthropicDocumentBlock>(
  block: T,
  part: object,
): T {
  const cacheControl = cacheControlOf(part);
  if (cacheControl !== undefined) block.cache_control = cacheControl;
  return block;
}

function imageBlock(url: string, path: string): AnthropicImageBlock {
  const dataUrl = parseDataUrl(url);
  if (dataUrl !== undefined) {
    if (!dataUrl.base64 || dataUrl.data === '') {
      fail(path, 'expected a base64 data: URL (data:image/png;base64,...)');
    }
    const mediaType = dataUrl.mediaType === 'image/jpg' ? 'image/jpeg' : dataUrl.mediaType;
    if (!ANTHROPIC_IMAGE_TYPES.has(mediaType)) {
      fail(
        path,
        `Anthropic accepts image/jpeg, image/png, image/gif or image/webp; got "${dataUrl.mediaType}"`,
      );
    }
    return { type: 'image', source: { type: 'base64', media_type: mediaType, data: dataUrl.data } };
  }
  if (/^https?:\/\//i.test(url)) return { type: 'image', source: { type: 'url', url } };
  return fail(path, 'expected a data: URL or an http(s) URL');
}

function documentBlock(
  file: {
    file_data?: string | undefined;
    file_id?: string | undefined;
    filename?: string | undefined;
  },
  path: string,
): AnthropicDocumentBlock {
  if (file.file_data === undefined || file.file_data === '') {
    if (file.file_id !== undefined) {
      fail(
        `${path}.file_id`,
        'OpenAI file ids cannot be sent to Anthropic; send file_data instead',
      );
    }
    fail(path, 'expected file_data (a base64 PDF)');
  }
  let data = file.file_data;
  const dataUrl = parseDataUrl(data);
  if (dataUrl !== undefined) {
    if (!dataUrl.base64 || dataUrl.data === '') {
      fail(`${path}.file_data`, 'expected a base64 data: URL (data:application/pdf;base64,...)');
    }
    if (dataUrl.mediaType !== 'application/pdf') {
      fail(`${path}.file_data`, `Anthropic accepts PDF documents only; got "${dataUrl.mediaType}"`);
    }
    data = dataUrl.data;
  }
  const block: AnthropicDocumentBlock = {
    type: 'document',
    source: { type: 'base64', media_type: 'application/pdf', data },
  };
  if (file.filename !== undefined && file.filename !== '') block.title = file.filename;
  return block;
}

/**
 * Rewrites a tool-call id outside Anthropic's `^[a-zA-Z0-9_-]+$` (ids from other providers,
 * e.g. `functions.get_weather:0`). The same id always gives the same result, so a `tool_use`
 * and its `tool_result` still match; a hash of the original keeps rewritten ids apart.
 */
export function toAnthropicToolId(id: string): string {
  if (/^[a-zA-Z0-9_-]+$/.test(id)) return id;
  let hash = 0x811c9dc5;
  for (let k = 0; k < id.length; k++) {
    hash ^= id.charCodeAt(k);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return `${id.replace(/[^a-zA-Z0-9_-]/g, '_')}_${hash.toString(36)}`;
}

function assistantBlocks(
  message: AssistantMessage,
  i: number,
  toolCallIds: Set<string>,
): AnthropicContentBlock[] {
  const blocks: AnthropicContentBlock[] = [];
  const { content } = message;
  if (typeof content === 'string') {
    if (content !== '') blocks.push(textBlock(content));
  } else if (Array.isArray(content)) {
    for (const part of content) {
      const text = part.type === 'text' ? part.text : part.refusal;
      if (text !== '') blocks.push(textBlock(text, part));
    }
  }
  if (blocks.length === 0 && typeof message.refusal === 'string' && message.refusal !== '') {
    blocks.push(textBlock(message.refusal));
  }
  message.tool_calls?.forEach((call, j) => {
    const path = `messages[${i}].tool_calls[${j}].function.arguments`;
    toolCallIds.add(call.id);
    blocks.push({
      type: 'tool_use',
      id: toAnthropicToolId(call.id),
      name: call.function.name,
      input: parseArguments(call.function.arguments, path),
    });
  });
  return blocks;
}

function parseArguments(raw: string, path: string): Record<string, unknown> {
  return parseToolArguments('anthropic', raw, path);
}

function toolResultBlock(
  message: ToolMessage,
  i: number,
  toolCallIds: Set<string>,
): AnthropicToolResultBlock {
  if (!toolCallIds.has(message.tool_call_id)) {
    fail(
      `messages[${i}].tool_call_id`,
      `no earlier assistant tool call has the id "${message.tool_call_id}"`,
    );
  }
  const block: AnthropicToolResultBlock = {
    type: 'tool_result',
    tool_use_id: toAnthropicToolId(message.tool_call_id),
  };
  if (typeof message.content === 'string') {
    if (message.content !== '') block.content = message.content;
  } else {
    const parts = message.content.filter((part) => part.text !== '');
    if (parts.length > 0) block.content = parts.map((part) => textBlock(part.text, part));
  }
  return block;
}

/** Anthropic rejects a final assistant text that ends in whitespace: trim the prefill. */
function trimPrefill(messages: AnthropicMessage[]): void {
  const last = messages[messages.length - 1];
  if (last?.role !== 'assistant') return;
  const block = last.content[last.content.length - 1];
  if (block?.type !== 'text') return;
  block.text = block.text.trimEnd();
  if (block.text !== '') return;
  last.content.pop();
  if (last.content.length === 0) messages.pop();
}

function stopSequences(stop: ChatRequest['stop']): string[] | undefined {
  if (stop == null) return undefined;
  const list = typeof stop === 'string' ? [stop] : stop;
  list.forEach((sequence, k) => {
    if (sequence.trim() === '') {
      fail(
        typeof stop === 'string' ? 'stop' : `stop[${k}]`,
        'Anthropic rejects empty or whitespace-only stop sequences',
      );
    }
  });
  return list.length === 0 ? undefined : [...list];
}

function toolChoice(
  request: ChatRequest,
  tools: readonly AnthropicTool[],
): AnthropicToolChoice | undefined {
  const { tool_choice: choice, parallel_tool_calls: parallel } = request;
  const disableParallel = parallel === false;
  if (choice === 'none') return { type: 'none' };
  let out: AnthropicToolChoice;
  if (choice === undefined || choice === 'auto') {
    if (!disableParallel) return choice === undefined ? undefined : { type: 'auto' };
    out = { type: 'auto' };
  } else if (choice === 'required') {
    out = { type: 'any' };
  } else {
    const { name } = choice.function;
    if (!tools.some((tool) => tool.name === name)) {
      fail('tool_choice.function.name', `no tool named "${name}" in tools`);
    }
    out = { type: 'tool', name };
  }
  if (disableParallel) out.disable_parallel_tool_use = true;
  return out;
}

function responseFormatInstruction(request: ChatRequest): string | undefined {
  const format = request.response_format;
  if (format === undefined || format.type === 'text') return undefined;
  const base =
    'Respond with a single valid JSON object and nothing else: no prose, no Markdown code fences.';
  if (format.type === 'json_object' || format.json_schema.schema === undefined) return base;
  return `${base} The object must conform to this JSON Schema:\n${JSON.stringify(format.json_schema.schema)}`;
}

/**
 * The thinking budget for `reasoning_effort`, or `undefined` when there is none or the rest of
 * the request cannot go with thinking (the explicit parameters win over the effort hint).
 */
function thinkingBudget(request: ChatRequest, body: AnthropicMessagesRequest): number | undefined {
  const effort = request.reasoning_effort;
  if (effort == null || effort === 'minimal') return undefined;
  if (body.temperature !== undefined && body.temperature !== 1) return undefined;
  if (body.top_p !== undefined && body.top_p < 0.95) return undefined;
  if (body.top_k !== undefined) return undefined;
  const forced = body.tool_choice?.type;
  if (forced === 'any' || forced === 'tool') return undefined;
  const last = body.messages[body.messages.length - 1];
  if (last === undefined || last.role === 'assistant') return undefined;
  if (last.content.some((block) => block.type === 'tool_result')) return undefined;
  return ANTHROPIC_THINKING_BUDGETS[effort];
}
