import type { StreamFormat } from '../chunk/streaming-chunk';
import { countWords } from './deterministic-text';

/** A tool the request offers. */
export interface OfferedTool {
  name: string;
  /** Its JSON Schema (OpenAI `parameters`, Anthropic `input_schema`, Gemini `parameters`). */
  parameters: unknown;
}

/** How the request lets the model use its tools. */
export type ToolChoiceMode =
  { mode: 'auto' } | { mode: 'none' } | { mode: 'required' } | { mode: 'named'; name: string };

/** What the simulator reads from a request, whatever its wire format. */
export interface SimulatedRequest {
  format: StreamFormat;
  model: string;
  stream: boolean;
  /** OpenAI `stream_options.include_usage`. Anthropic and Gemini always report usage. */
  includeUsage: boolean;
  /** `max_completion_tokens` / `max_tokens` / `maxOutputTokens`, if given. */
  maxTokens: number | undefined;
  /** The text of the last user message that has text: the answer's key. */
  lastUserText: string;
  /** Whether the conversation ends with a tool result (then phrases do not trigger a tool call). */
  endsWithToolResult: boolean;
  /** The text of a trailing assistant (`model`) message, which the answer continues. */
  prefill: string | undefined;
  tools: OfferedTool[];
  toolChoice: ToolChoiceMode;
  /** Whether reasoning was asked for (`reasoning_effort`, `thinking`, `includeThoughts`). */
  reasoning: boolean;
  /** Words of every text of the request (system, messages, prefill): the prompt token count. */
  promptTokens: number;
  /** How many alternative answers: OpenAI `n`, Gemini `candidateCount`; 1 for Anthropic. */
  choices: number;
  /**
   * OpenAI `logprobs: true` (Gemini `responseLogprobs: true`): how many likeliest tokens to list
   * at each position (`top_logprobs`, Gemini `logprobs`; 0 by default). Undefined when log
   * probabilities were not asked for.
   */
  logprobs: number | undefined;
}

/** A request the simulator refuses, as the provider would: 400 with this message. */
export class SimulatedRequestError extends Error {
  override readonly name = 'SimulatedRequestError';
  /** The offending parameter, for OpenAI's `param`. */
  readonly param: string | undefined;
  constructor(message: string, param?: string) {
    super(message);
    this.param = param;
  }
}

/** What the URL says of a request (Gemini puts the model and the method in the path). */
export interface RequestUrlFacts {
  model?: string;
  stream?: boolean;
}

type Json = Record<string, unknown>;

const isRecord = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
const str = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);
const num = (value: unknown): number | undefined =>
  typeof value === 'number' && Number.isFinite(value) ? value : undefined;

/** Collects the text of a content value: a string, text parts/blocks, or tool-result content. */
function textOf(content: unknown, includeToolResults = true): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  const texts: string[] = [];
  for (const part of content) {
    if (typeof part === 'string') texts.push(part);
    else if (isRecord(part)) {
      if (typeof part.text === 'string' && part.thought !== true) texts.push(part.text);
      else if (includeToolResults && part.type === 'tool_result') texts.push(textOf(part.content));
    }
  }
  return texts.join('\n');
}

/** The phrase test: "use the tool" picks the first tool, "call <name>" that tool. */
function toolByPhrase(text: string, tools: readonly OfferedTool[]): string | undefined {
  if (tools.length === 0) return undefined;
  const lower = text.toLowerCase();
  for (const tool of tools) {
    if (lower.includes(`call ${tool.name.toLowerCase()}`)) return tool.name;
  }
  return lower.includes('use the tool') ? tools[0]?.name : undefined;
}

/**
 * Which tool the simulated model calls, if any: the named tool of a forced choice, the first
 * tool of a `required`/`any` choice, or, under `auto`, the tool the last user message asks for
 * ("use the tool", "call get_weather") when the conversation does not already end with a tool
 * result. Never under `none`.
 */
export function chosenTool(request: SimulatedRequest): OfferedTool | undefined {
  const { tools, toolChoice } = request;
  if (tools.length === 0) return undefined;
  switch (toolChoice.mode) {
    case 'none':
      return undefined;
    case 'named':
      return tools.find((tool) => tool.name === toolChoice.name) ?? tools[0];
    case 'required':
      return tools[0];
    case 'auto': {
      if (request.endsWithToolResult) return undefined;
      const name = toolByPhrase(request.lastUserText, tools);
      return name === undefined ? undefined : tools.find((tool) => tool.name === name);
    }
  }
}

function positiveInt(value: unknown, param: string): number | undefined {
  if (value === undefined || value === null) return undefined;
  const n = num(value);
  if (n === undefined || !Number.isInteger(n) || n < 1) {
    throw new SimulatedRequestError(`${param}: must be a positive integer.`, param);
  }
  return n;
}

/** A choice count (`n`, `candidateCount`): 1 when absent, else an integer from 1 to `max`. */
function choiceCount(value: unknown, param: string, max: number): number {
  if (value === undefined || value === null) return 1;
  const n = num(value);
  if (n === undefined || !Number.isInteger(n) || n < 1 || n > max) {
    throw new SimulatedRequestError(
      `${param}: must be an integer from 1 to ${max}, got ${JSON.stringify(value)}.`,
      param,
    );
  }
  return n;
}

/**
 * How many likeliest tokens a request asks to list (0 … 20, and only with log probabilities on),
 * as the APIs check it: undefined when log probabilities are off.
 *
 * @param enabled OpenAI `logprobs: true`, Gemini `responseLogprobs: true`.
 * @param top OpenAI `top_logprobs`, Gemini `logprobs`.
 * @param refuse The provider's 400 for a problem with `top`.
 * @param notEnabled The problem of a `top` without log probabilities on.
 */
function readLogprobs(
  enabled: boolean,
  top: unknown,
  refuse: (problem: string) => SimulatedRequestError,
  notEnabled: string,
): number | undefined {
  if (top === undefined || top === null) return enabled ? 0 : undefined;
  const n = num(top);
  if (n === undefined || !Number.isInteger(n) || n < 0 || n > 20) {
    throw refuse(`must be an integer from 0 to 20, got ${JSON.stringify(top)}`);
  }
  if (!enabled) throw refuse(notEnabled);
  return n;
}

/**
 * Reads a request body of one of the three wire formats. Throws {@link SimulatedRequestError}
 * for what the provider itself would refuse (missing `model`, `messages`, `max_tokens`, ...).
 *
 * @param format The wire format of the endpoint the request came to.
 * @param body The parsed JSON body.
 * @param url What the URL says (Gemini: the model and whether it streams).
 */
export function readSimulatedRequest(
  format: StreamFormat,
  body: unknown,
  url: RequestUrlFacts = {},
): SimulatedRequest {
  if (!isRecord(body)) throw new SimulatedRequestError('The request body must be a JSON object.');
  switch (format) {
    case 'openai':
      return readOpenAI(body);
    case 'anthropic':
      return readAnthropic(body);
    case 'google':
      return readGoogle(body, url);
  }
}

function readOpenAI(body: Json): SimulatedRequest {
  const model = str(body.model);
  if (model === undefined || model === '') {
    throw new SimulatedRequestError('you must provide a model parameter', 'model');
  }
  const messages = body.messages;
  if (!Array.isArray(messages) || messages.length === 0) {
    throw new SimulatedRequestError(
      "Invalid 'messages': expected a non-empty array of messages.",
      'messages',
    );
  }
  let words = 0;
  let lastUserText = '';
  for (const raw of messages) {
    if (!isRecord(raw))
      throw new SimulatedRequestError("Invalid 'messages': each must be an object.", 'messages');
    const text = textOf(raw.content);
    words += countWords(text);
    if (raw.role === 'user' && text !== '') lastUserText = text;
  }
  const last = messages[messages.length - 1] as Json;
  const prefill =
    last.role === 'assistant' && last.tool_calls === undefined ? textOf(last.content) : undefined;

  const tools: OfferedTool[] = [];
  if (Array.isArray(body.tools)) {
    for (const tool of body.tools) {
      const fn = isRecord(tool) && isRecord(tool.function) ? tool.function : undefined;
      const name = str(fn?.name);
      if (name !== undefined && name !== '') tools.push({ name, parameters: fn?.parameters });
    }
  }
  let toolChoice: ToolChoiceMode = { mode: 'auto' };
  const choice = body.tool_choice;
  if (choice === 'none' || choice === 'required') toolChoice = { mode: choice };
  else if (isRecord(choice)) {
    const name = str(isRecord(choice.function) ? choice.function.name : undefined);
    if (name !== undefined) toolChoice = { mode: 'named', name };
  }
  const effort: unknown =
    body.reasoning_effort ??
    (isRecord(body.reasoning) ? (body.reasoning.effort ?? 'medium') : undefined);
  const streamOptions = isRecord(body.stream_options) ? body.stream_options : undefined;
  return {
    format: 'openai',
    model,
    stream: body.stream === true,
    includeUsage: streamOptions?.include_usage === true,
    maxTokens:
      positiveInt(body.max_completion_tokens, 'max_completion_tokens') ??
      positiveInt(body.max_tokens, 'max_tokens'),
    lastUserText,
    endsWithToolResult: last.role === 'tool' || last.role === 'function',
    prefill: prefill === '' ? undefined : prefill,
    tools,
    toolChoice,
    reasoning: effort !== undefined && effort !== null && effort !== 'none',
    promptTokens: words,
    choices: choiceCount(body.n, 'n', 128),
    logprobs: readLogprobs(
      body.logprobs === true,
      body.top_logprobs,
      (problem) => new SimulatedRequestError(`top_logprobs: ${problem}.`, 'top_logprobs'),
      'logprobs must be set to true when top_logprobs is used',
    ),
  };
}

function readAnthropic(body: Json): SimulatedRequest {
  const model = str(body.model);
  if (model === undefined || model === '')
    throw new SimulatedRequestError('model: Field required', 'model');
  const maxTokens = body.max_tokens;
  if (maxTokens === undefined)
    throw new SimulatedRequestError('max_tokens: Field required', 'max_tokens');
  const messages = body.messages;
  if (!Array.isArray(messages))
    throw new SimulatedRequestError('messages: Field required', 'messages');
  if (messages.length === 0) {
    throw new SimulatedRequestError('messages: at least one message is required', 'messages');
  }
  let words = countWords(textOf(body.system));
  let lastUserText = '';
  for (const raw of messages) {
    if (!isRecord(raw))
      throw new SimulatedRequestError('messages: each message must be an object', 'messages');
    words += countWords(textOf(raw.content));
    if (raw.role === 'user') {
      const text = textOf(raw.content, false);
      if (text !== '') lastUserText = text;
    }
  }
  const last = messages[messages.length - 1] as Json;
  let prefill: string | undefined;
  if (last.role === 'assistant') {
    prefill = textOf(last.content, false);
    if (/\s$/.test(prefill)) {
      throw new SimulatedRequestError(
        'messages: final assistant content cannot end with trailing whitespace',
        'messages',
      );
    }
  }
  const endsWithToolResult =
    last.role === 'user' &&
    Array.isArray(last.content) &&
    last.content.some((block) => isRecord(block) && block.type === 'tool_result');

  const tools: OfferedTool[] = [];
  if (Array.isArray(body.tools)) {
    for (const tool of body.tools) {
      if (!isRecord(tool)) continue;
      const name = str(tool.name);
      // Server tools (web_search_20250305, ...) have a versioned `type` and no input_schema.
      if (
        name !== undefined &&
        (tool.type === undefined || tool.type === 'custom' || tool.input_schema !== undefined)
      ) {
        tools.push({ name, parameters: tool.input_schema });
      }
    }
  }
  let toolChoice: ToolChoiceMode = { mode: 'auto' };
  const choice = isRecord(body.tool_choice) ? body.tool_choice : undefined;
  if (choice?.type === 'any') toolChoice = { mode: 'required' };
  else if (choice?.type === 'none') toolChoice = { mode: 'none' };
  else if (choice?.type === 'tool' && typeof choice.name === 'string') {
    toolChoice = { mode: 'named', name: choice.name };
  }
  const thinking = isRecord(body.thinking) ? body.thinking : undefined;
  return {
    format: 'anthropic',
    model,
    stream: body.stream === true,
    includeUsage: true,
    maxTokens: positiveInt(maxTokens, 'max_tokens'),
    lastUserText,
    endsWithToolResult,
    prefill: prefill === '' ? undefined : prefill,
    tools,
    toolChoice,
    reasoning: thinking?.type === 'enabled' || thinking?.type === 'adaptive',
    promptTokens: words,
    choices: 1,
    logprobs: undefined,
  };
}

function readGoogle(body: Json, url: RequestUrlFacts): SimulatedRequest {
  const contents = body.contents;
  if (!Array.isArray(contents) || contents.length === 0) {
    throw new SimulatedRequestError(
      '* GenerateContentRequest.contents: contents is not specified\n',
      'contents',
    );
  }
  const system = isRecord(body.systemInstruction)
    ? body.systemInstruction.parts
    : body.systemInstruction;
  let words = countWords(textOf(system));
  let lastUserText = '';
  for (const raw of contents) {
    if (!isRecord(raw)) {
      throw new SimulatedRequestError(
        '* GenerateContentRequest.contents: each content must be an object\n',
        'contents',
      );
    }
    const text = textOf(raw.parts);
    words += countWords(text);
    if ((raw.role === undefined || raw.role === 'user') && text !== '') lastUserText = text;
  }
  const last = contents[contents.length - 1] as Json;
  const lastParts = Array.isArray(last.parts) ? last.parts : [];
  const prefill = last.role === 'model' ? textOf(lastParts) : undefined;
  const endsWithToolResult = lastParts.some(
    (part) => isRecord(part) && part.functionResponse !== undefined,
  );

  const tools: OfferedTool[] = [];
  if (Array.isArray(body.tools)) {
    for (const tool of body.tools) {
      const declarations = isRecord(tool) ? tool.functionDeclarations : undefined;
      if (!Array.isArray(declarations)) continue;
      for (const declaration of declarations) {
        if (!isRecord(declaration)) continue;
        const name = str(declaration.name);
        if (name !== undefined) {
          tools.push({
            name,
            parameters: declaration.parameters ?? declaration.parametersJsonSchema,
          });
        }
      }
    }
  }
  let toolChoice: ToolChoiceMode = { mode: 'auto' };
  const config =
    isRecord(body.toolConfig) && isRecord(body.toolConfig.functionCallingConfig)
      ? body.toolConfig.functionCallingConfig
      : undefined;
  const mode = str(config?.mode)?.toUpperCase();
  if (mode === 'NONE') toolChoice = { mode: 'none' };
  else if (mode === 'ANY') {
    const allowed = Array.isArray(config?.allowedFunctionNames) ? config.allowedFunctionNames : [];
    const name = str(allowed[0]);
    toolChoice =
      allowed.length === 1 && name !== undefined ? { mode: 'named', name } : { mode: 'required' };
  }
  const generation = isRecord(body.generationConfig) ? body.generationConfig : undefined;
  const thinking = isRecord(generation?.thinkingConfig) ? generation.thinkingConfig : undefined;
  return {
    format: 'google',
    model: url.model ?? str(body.model) ?? '',
    stream: url.stream ?? false,
    includeUsage: true,
    maxTokens: positiveInt(generation?.maxOutputTokens, 'generationConfig.maxOutputTokens'),
    lastUserText,
    endsWithToolResult,
    prefill: prefill === '' ? undefined : prefill,
    tools,
    toolChoice,
    reasoning: thinking?.includeThoughts === true,
    promptTokens: words,
    choices: choiceCount(generation?.candidateCount, 'generationConfig.candidateCount', 8),
    logprobs: readLogprobs(
      generation?.responseLogprobs === true,
      generation?.logprobs,
      (problem) =>
        new SimulatedRequestError(
          `* GenerationConfig.logprobs: ${problem}\n`,
          'generationConfig.logprobs',
        ),
      'only valid when responseLogprobs is true',
    ),
  };
}
