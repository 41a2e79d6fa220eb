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

/**
 * `thinkingConfig.thinkingBudget` per `reasoning_effort`: the same budgets as Anthropic's, and
 * `minimal` → 512, the smallest budget every Gemini 2.5 model accepts (Flash-Lite's minimum).
 */
export const GOOGLE_THINKING_BUDGETS = {
  minimal: 512,
  low: 1024,
  medium: 4096,
  high: 16384,
} as const;

/** Gemini accepts at most this many stop sequences. */
export const GOOGLE_MAX_STOP_SEQUENCES = 5;

/**
 * The `thoughtSignature` sent on a replayed function call that has no signature of its own
 * (the history came from another provider, or the signature was not kept). Gemini 3 answers
 * 400 without one; Google documents this value as skipping the check (Gemini API and Vertex).
 */
export const GOOGLE_SKIP_THOUGHT_SIGNATURE = 'skip_thought_signature_validator';

/** Options of {@link toGoogleRequest}. */
export interface ToGoogleRequestOptions {
  /**
   * The model, for symmetry with the other converters. Gemini takes the model in the URL, never
   * in the body: build the path with {@link googleStreamPath}.
   */
  model?: string;
}

export interface GoogleTextPart {
  text: string;
}
export interface GoogleInlineDataPart {
  inlineData: { mimeType: string; data: string };
}
export interface GoogleFileDataPart {
  fileData: { fileUri: string; mimeType?: string };
}
export interface GoogleFunctionCallPart {
  functionCall: { name: string; args: Record<string, unknown> };
  thoughtSignature?: string;
}
export interface GoogleFunctionResponsePart {
  functionResponse: { name: string; response: Record<string, unknown> };
}
export type GooglePart =
  | GoogleTextPart
  | GoogleInlineDataPart
  | GoogleFileDataPart
  | GoogleFunctionCallPart
  | GoogleFunctionResponsePart;

export interface GoogleContent {
  role: 'user' | 'model';
  parts: GooglePart[];
}

export interface GoogleFunctionDeclaration {
  name: string;
  description?: string;
  /** Plain JSON Schema (not the OpenAPI subset `parameters` takes). */
  parametersJsonSchema?: Record<string, unknown>;
}

export interface GoogleGenerationConfig {
  temperature?: number;
  topP?: number;
  topK?: number;
  maxOutputTokens?: number;
  stopSequences?: string[];
  candidateCount?: number;
  seed?: number;
  /** `logprobs: true`: each candidate carries a `logprobsResult`. */
  responseLogprobs?: boolean;
  /** `top_logprobs`: the alternatives listed at each step. */
  logprobs?: number;
  presencePenalty?: number;
  frequencyPenalty?: number;
  responseMimeType?: 'application/json';
  responseJsonSchema?: Record<string, unknown>;
  thinkingConfig?: { includeThoughts: true; thinkingBudget: number };
}

export interface GoogleToolConfig {
  functionCallingConfig: { mode: 'AUTO' | 'ANY' | 'NONE'; allowedFunctionNames?: string[] };
}

/** The `generateContent` / `streamGenerateContent` body (the model is in the URL). */
export interface GoogleGenerateContentRequest {
  contents: GoogleContent[];
  systemInstruction?: { parts: GoogleTextPart[] };
  generationConfig?: GoogleGenerationConfig;
  tools?: { functionDeclarations: GoogleFunctionDeclaration[] }[];
  toolConfig?: GoogleToolConfig;
}

/**
 * The Gemini API path of a streaming call: `/v1beta/models/<model>:streamGenerateContent?alt=sse`.
 * A leading `models/` in the name is dropped (Gemini lists models as `models/gemini-2.5-flash`),
 * and the rest is percent-encoded. Without `alt=sse` Gemini streams a JSON array, not SSE.
 */
export function googleStreamPath(model: string): string {
  const name = model.startsWith('models/') ? model.slice('models/'.length) : model;
  return `/v1beta/models/${encodeURIComponent(name)}:streamGenerateContent?alt=sse`;
}

/**
 * Translates an OpenAI-shaped {@link ChatRequest} into a Gemini `streamGenerateContent` body.
 * Gloss: OpenAI chat in, Gemini contents out, or a `ValidationError` naming the field that
 * Gemini cannot take.
 *
 * 1. Roles: `user` → `user`, `assistant` → `model`, `tool` → `user` (function responses);
 *    `system`/`developer`, wherever they appear, → `systemInstruction` (one text part, the
 *    messages and their text parts joined with `"\n\n"`).
 * 2. User parts: text → `text`; `image_url` data: URL → `inlineData`, http(s) or gs:// URL →
 *    `fileData` (`mimeType` guessed from the extension when known); `input_audio` →
 *    `inlineData` `audio/<format>`; `file` → `inlineData` (the data: URL's type, else
 *    `application/pdf`). Empty text is dropped.
 * 3. Assistant `tool_calls` → `functionCall {name, args}` (`args` parsed from `arguments`, `""`
 *    reads as `{}`). The first call of each assistant message carries a `thoughtSignature`: the
 *    call's own (`extra_content.google.thought_signature`, Gemini's OpenAI-compatible shape), else
 *    {@link GOOGLE_SKIP_THOUGHT_SIGNATURE}. `reasoning` is dropped.
 * 4. `tool` messages → `functionResponse {name, response}`: the name is the one of the earlier
 *    tool call with that id; `response` is the content when it is a JSON object, else
 *    `{result: content}`.
 * 5. Consecutive same-role contents are merged (function responses first in a merged user turn).
 *    A trailing assistant message stays the last, `model`, turn (a prefill).
 * 6. `generationConfig`: `temperature`, `top_p` → `topP`, `top_k` (an extra field) → `topK`,
 *    `max_completion_tokens ?? max_tokens` → `maxOutputTokens`, `stop` → `stopSequences` (at most
 *    5), `n` → `candidateCount`, `seed`, penalties, `response_format` json → `responseMimeType`
 *    (+ `responseJsonSchema`), `reasoning_effort` → `thinkingConfig`. Omitted when empty.
 * 7. `tools` → one `functionDeclarations` tool, with `parameters` sent as `parametersJsonSchema`
 *    (plain JSON Schema, free of the OpenAPI-subset limits of `parameters`); `tool_choice` →
 *    `toolConfig.functionCallingConfig` (a named choice is `ANY` + `allowedFunctionNames`).
 *    `parallel_tool_calls`, `user` and `metadata` have no Gemini equivalent and are dropped.
 *
 * Every rejection is a {@link ValidationError} (`provider: 'google'`) naming the field.
 *
 * ## Examples
 *
 * ```ts
 * const body = toGoogleRequest({
 *   model: 'gemini-2.5-flash',
 *   messages: [{ role: 'system', content: 'Be terse.' }, { role: 'user', content: 'Hi' }],
 *   max_tokens: 100,
 * });
 * // { contents: [{ role: 'user', parts: [{ text: 'Hi' }] }],
 * //   systemInstruction: { parts: [{ text: 'Be terse.' }] },
 * //   generationConfig: { maxOutputTokens: 100 } }
 * const path = googleStreamPath('gemini-2.5-flash');
 * ```
 *
 * @see toOpenAIRequest
 * @see toAnthropicRequest
 * @see googleStreamPath
 * @param request An OpenAI-shaped chat request (validated).
 * @param _options Accepted for symmetry; the model goes in the URL.
 * @return The JSON body to POST to {@link googleStreamPath}.
 */
export function toGoogleRequest(
  request: ChatRequest,
  _options: ToGoogleRequestOptions = {},
): GoogleGenerateContentRequest {
  const systemTexts: string[] = [];
  const contents: GoogleContent[] = [];
  const toolNames = new Map<string, string>();
  request.messages.forEach((message, i) => {
    switch (message.role) {
      case 'system':
      case 'developer':
        systemTexts.push(...systemTextsOf(message));
        break;
      case 'user':
        append(contents, 'user', userParts(message, i));
        break;
      case 'assistant':
        append(contents, 'model', modelParts(message, i, toolNames));
        break;
      case 'tool':
        append(contents, 'user', [functionResponsePart(message, i, toolNames)]);
        break;
    }
  });
  if (contents.length === 0) {
    fail('messages', 'Gemini needs at least one user or assistant message with content');
  }

  const body: GoogleGenerateContentRequest = { contents };
  if (systemTexts.length > 0)
    body.systemInstruction = { parts: [{ text: systemTexts.join('\n\n') }] };
  const generationConfig = generationConfigOf(request);
  if (Object.keys(generationConfig).length > 0) body.generationConfig = generationConfig;

  if (request.tools !== undefined && request.tools.length > 0) {
    const declarations = request.tools.map(({ function: fn }) => {
      const declaration: GoogleFunctionDeclaration = { name: fn.name };
      if (fn.description !== undefined) declaration.description = fn.description;
      if (fn.parameters !== undefined) declaration.parametersJsonSchema = fn.parameters;
      return declaration;
    });
    body.tools = [{ functionDeclarations: declarations }];
    const toolConfig = toolConfigOf(request, declarations);
    if (toolConfig !== undefined) body.toolConfig = toolConfig;
  }
  return body;
}

function fail(path: string, message: string, cause?: unknown): never {
  return translationError('google', path, message, cause);
}

function systemTextsOf(message: SystemMessage): string[] {
  if (typeof message.content === 'string') return message.content === '' ? [] : [message.content];
  return message.content.map((part) => part.text).filter((text) => text !== '');
}

/** Appends parts as a content, merging into the previous one when it has the same role. */
function append(contents: GoogleContent[], role: GoogleContent['role'], parts: GooglePart[]): void {
  if (parts.length === 0) return;
  const last = contents[contents.length - 1];
  if (last === undefined || last.role !== role) {
    contents.push({ role, parts });
    return;
  }
  const merged = [...last.parts, ...parts];
  const responses = merged.filter((part) => 'functionResponse' in part);
  last.parts =
    responses.length === 0 || responses.length === merged.length
      ? merged
      : [...responses, ...merged.filter((part) => !('functionResponse' in part))];
}

const MIME_BY_EXTENSION: Readonly<Record<string, string>> = {
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  webp: 'image/webp',
  gif: 'image/gif',
  heic: 'image/heic',
  heif: 'image/heif',
  pdf: 'application/pdf',
  wav: 'audio/wav',
  mp3: 'audio/mp3',
  mp4: 'video/mp4',
};

/** The MIME type of a URL's file extension (query and fragment ignored), when known. */
function guessMimeType(url: string): string | undefined {
  const path = url.split(/[?#]/, 1)[0] ?? '';
  const match = /\.([a-z0-9]+)$/i.exec(path);
  return match?.[1] === undefined ? undefined : MIME_BY_EXTENSION[match[1].toLowerCase()];
}

function userParts(message: UserMessage, i: number): GooglePart[] {
  if (typeof message.content === 'string') {
    return message.content === '' ? [] : [{ text: message.content }];
  }
  const parts: GooglePart[] = [];
  message.content.forEach((part, j) => {
    const out = userPart(part, `messages[${i}].content[${j}]`);
    if (out !== undefined) parts.push(out);
  });
  return parts;
}

function userPart(part: UserContentPart, path: string): GooglePart | undefined {
  switch (part.type) {
    case 'text':
      return part.text === '' ? undefined : { text: part.text };
    case 'image_url':
      return imagePart(part.image_url.url, `${path}.image_url.url`);
    case 'input_audio':
      return {
        inlineData: {
          mimeType: `audio/${part.input_audio.format.toLowerCase()}`,
          data: part.input_audio.data,
        },
      };
    case 'file':
      return filePart(part.file, `${path}.file`);
  }
}

function imagePart(url: string, path: string): GooglePart {
  const dataUrl = parseDataUrl(url);
  if (dataUrl !== undefined) {
    if (!dataUrl.base64 || dataUrl.data === '' || dataUrl.mediaType === '') {
      fail(path, 'expected a base64 data: URL with a media type (data:image/png;base64,...)');
    }
    return { inlineData: { mimeType: dataUrl.mediaType, data: dataUrl.data } };
  }
  if (/^(https?|gs):\/\//i.test(url)) {
    const fileData: GoogleFileDataPart['fileData'] = { fileUri: url };
    const mimeType = guessMimeType(url);
    if (mimeType !== undefined) fileData.mimeType = mimeType;
    return { fileData };
  }
  return fail(path, 'expected a data: URL, an http(s) URL or a gs:// URI');
}

function filePart(
  file: { file_data?: string | undefined; file_id?: string | undefined },
  path: string,
): GooglePart {
  if (file.file_data === undefined || file.file_data === '') {
    if (file.file_id !== undefined) {
      fail(`${path}.file_id`, 'OpenAI file ids cannot be sent to Gemini; send file_data instead');
    }
    fail(path, 'expected file_data (base64)');
  }
  const dataUrl = parseDataUrl(file.file_data);
  if (dataUrl === undefined) {
    return { inlineData: { mimeType: 'application/pdf', data: file.file_data } };
  }
  if (!dataUrl.base64 || dataUrl.data === '') {
    fail(`${path}.file_data`, 'expected a base64 data: URL (data:application/pdf;base64,...)');
  }
  return {
    inlineData: { mimeType: dataUrl.mediaType || 'application/pdf', data: dataUrl.data },
  };
}

/** The signature Gemini's OpenAI-compatible API puts on a tool call, if the call kept it. */
function thoughtSignatureOf(call: object): string | undefined {
  const extra = (call as Record<string, unknown>).extra_content;
  const google = isRecord(extra) ? extra.google : undefined;
  const signature = isRecord(google) ? google.thought_signature : undefined;
  return typeof signature === 'string' && signature !== '' ? signature : undefined;
}

function modelParts(
  message: AssistantMessage,
  i: number,
  toolNames: Map<string, string>,
): GooglePart[] {
  const parts: GooglePart[] = [];
  const { content } = message;
  if (typeof content === 'string') {
    if (content !== '') parts.push({ text: content });
  } else if (Array.isArray(content)) {
    for (const part of content) {
      const text = part.type === 'text' ? part.text : part.refusal;
      if (text !== '') parts.push({ text });
    }
  }
  if (parts.length === 0 && typeof message.refusal === 'string' && message.refusal !== '') {
    parts.push({ text: message.refusal });
  }
  message.tool_calls?.forEach((call, j) => {
    const path = `messages[${i}].tool_calls[${j}].function.arguments`;
    toolNames.set(call.id, call.function.name);
    const part: GoogleFunctionCallPart = {
      functionCall: {
        name: call.function.name,
        args: parseArguments(call.function.arguments, path),
      },
    };
    const signature = thoughtSignatureOf(call);
    if (signature !== undefined) part.thoughtSignature = signature;
    else if (j === 0) part.thoughtSignature = GOOGLE_SKIP_THOUGHT_SIGNATURE;
    parts.push(part);
  });
  return parts;
}

function parseArguments(raw: string, path: string): Record<string, unknown> {
  return parseToolArguments('google', raw, path);
}

function functionResponsePart(
  message: ToolMessage,
  i: number,
  toolNames: Map<string, string>,
): GoogleFunctionResponsePart {
  const name = toolNames.get(message.tool_call_id);
  if (name === undefined) {
    fail(
      `messages[${i}].tool_call_id`,
      `no earlier assistant tool call has the id "${message.tool_call_id}" (Gemini needs the function name)`,
    );
  }
  const content =
    typeof message.content === 'string'
      ? message.content
      : message.content.map((part) => part.text).join('');
  return { functionResponse: { name, response: responseOf(content) } };
}

/** The content itself when it is a JSON object, else `{result: content}`. */
function responseOf(content: string): Record<string, unknown> {
  const trimmed = content.trim();
  if (trimmed.startsWith('{')) {
    try {
      const value: unknown = JSON.parse(trimmed);
      if (isRecord(value)) return value;
    } catch {
      // Not JSON after all: sent as text.
    }
  }
  return { result: content };
}

function generationConfigOf(request: ChatRequest): GoogleGenerationConfig {
  const config: GoogleGenerationConfig = {};
  if (request.temperature != null) config.temperature = request.temperature;
  if (request.top_p != null) config.topP = request.top_p;
  const topK = (request as Record<string, unknown>).top_k;
  if (typeof topK === 'number') config.topK = topK;
  const maxTokens = request.max_completion_tokens ?? request.max_tokens;
  if (maxTokens != null) config.maxOutputTokens = maxTokens;
  if (request.stop != null) {
    const stop = typeof request.stop === 'string' ? [request.stop] : [...request.stop];
    if (stop.length > GOOGLE_MAX_STOP_SEQUENCES) {
      fail(
        'stop',
        `Gemini accepts at most ${GOOGLE_MAX_STOP_SEQUENCES} stop sequences; got ${stop.length}`,
      );
    }
    if (stop.length > 0) config.stopSequences = stop;
  }
  if (request.logprobs === true) {
    config.responseLogprobs = true;
    if (request.top_logprobs != null) config.logprobs = request.top_logprobs;
  }
  if (request.n != null) config.candidateCount = request.n;
  if (request.seed != null) config.seed = request.seed;
  if (request.presence_penalty != null) config.presencePenalty = request.presence_penalty;
  if (request.frequency_penalty != null) config.frequencyPenalty = request.frequency_penalty;
  const format = request.response_format;
  if (format !== undefined && format.type !== 'text') {
    config.responseMimeType = 'application/json';
    if (format.type === 'json_schema' && format.json_schema.schema !== undefined) {
      config.responseJsonSchema = format.json_schema.schema;
    }
  }
  if (request.reasoning_effort != null) {
    config.thinkingConfig = {
      includeThoughts: true,
      thinkingBudget: GOOGLE_THINKING_BUDGETS[request.reasoning_effort],
    };
  }
  return config;
}

function toolConfigOf(
  request: ChatRequest,
  declarations: readonly GoogleFunctionDeclaration[],
): GoogleToolConfig | undefined {
  const choice = request.tool_choice;
  switch (choice) {
    case undefined:
      return undefined;
    case 'auto':
      return { functionCallingConfig: { mode: 'AUTO' } };
    case 'required':
      return { functionCallingConfig: { mode: 'ANY' } };
    case 'none':
      return { functionCallingConfig: { mode: 'NONE' } };
    default: {
      const { name } = choice.function;
      if (!declarations.some((declaration) => declaration.name === name)) {
        fail('tool_choice.function.name', `no tool named "${name}" in tools`);
      }
      return { functionCallingConfig: { mode: 'ANY', allowedFunctionNames: [name] } };
    }
  }
}
