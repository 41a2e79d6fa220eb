import type { FinishReason, StreamFormat } from '../chunk/streaming-chunk';
import {
  answerKey,
  countWords,
  hashString,
  mix,
  reasoningKey,
  textOf,
  tokenAt,
  wordFor,
} from './deterministic-text';
import {
  chosenTool,
  readSimulatedRequest,
  type RequestUrlFacts,
  type SimulatedRequest,
} from './simulated-request';

/** What decides the simulated answer besides the request itself. */
export interface AnswerOptions {
  /** Tokens of a full answer when the request does not say otherwise. Default 24. */
  defaultTokens?: number;
  /** This request's answer length, as the `x-simulator-tokens` header sets it. */
  tokens?: number | undefined;
  /** Reasoning tokens streamed when reasoning is asked for. Default 8. */
  reasoningTokens?: number;
  /** The simulator's seed: two simulators with different seeds answer differently. Default ''. */
  seed?: string;
}

/** The text part of a plan: which tokens of the deterministic text are streamed. */
export interface TextPlan {
  key: number;
  /** The rest of a token that the prefill cut in the middle, streamed first. */
  head: string | undefined;
  /** The index of the first whole token streamed (after `head`). */
  first: number;
  /** The pieces streamed: `head` (if any) and whole tokens. */
  count: number;
}

/** The tool-call part of a plan. */
export interface ToolPlan {
  name: string;
  /** The arguments object, and its JSON text. */
  args: Record<string, unknown>;
  arguments: string;
  /** The JSON text cut into pieces, one token each (Gemini sends them whole). */
  pieces: string[];
  /** How many pieces are streamed (fewer than `pieces.length` when `max_tokens` cuts). */
  streamed: number;
}

/** Everything the simulator will say to one request, computed before it says it. */
export interface AnswerPlan {
  request: SimulatedRequest;
  /** Reasoning pieces: tokens `0 … count − 1` of the reasoning key. */
  reasoning: { key: number; count: number };
  text: TextPlan | undefined;
  tool: ToolPlan | undefined;
  /** Why the answer ends: naturally, cut by `max_tokens`, or with a tool call. */
  finish: 'stop' | 'length' | 'tool';
  promptTokens: number;
  /** Tokens streamed: reasoning + text pieces or tool-argument pieces. */
  completionTokens: number;
  reasoningTokens: number;
}

const defaults = { defaultTokens: 24, reasoningTokens: 8, seed: '' };

/**
 * Plans the answer to a request.
 *
 * 1. The answer is the first N tokens of a deterministic text keyed on the seed and the last
 *    user message's text (not the model: a failover to another provider or model continues the
 *    same text). N is `tokens` (the `x-simulator-tokens` header), else `defaultTokens`.
 * 2. A prefill that is a prefix of that text is continued: only the rest streams (a token the
 *    prefill cut streams its remainder first). Another prefill is continued from the token whose
 *    index is its word count.
 * 3. `max_tokens` caps the streamed pieces (reasoning excluded) and makes the finish `length`.
 * 4. A tool call ({@link chosenTool}) replaces the text: deterministic arguments built from the
 *    tool's JSON Schema, cut into 3–7-character pieces, one token each.
 * 5. Reasoning, when asked for, streams `reasoningTokens` tokens of its own text first.
 */
export function planAnswer(request: SimulatedRequest, options: AnswerOptions = {}): AnswerPlan {
  const { defaultTokens, reasoningTokens, seed } = { ...defaults, ...dropUndefined(options) };
  const length = options.tokens ?? defaultTokens;
  const reasoning = {
    key: reasoningKey(seed, request.lastUserText),
    count: request.reasoning ? reasoningTokens : 0,
  };
  const cap = request.maxTokens ?? Infinity;
  const tool = chosenTool(request);
  if (tool !== undefined) {
    const args = exampleArgs(
      tool.parameters,
      hashString(`${seed}\u0000${tool.name}\u0000${request.lastUserText}`),
    );
    const json = JSON.stringify(args);
    const pieces = splitPieces(json, hashString(json));
    const cut = pieces.length > cap;
    // Gemini sends a call whole: a call that does not fit is not sent at all.
    const streamed = cut ? (request.format === 'google' ? 0 : cap) : pieces.length;
    return {
      request,
      reasoning,
      text: undefined,
      tool: { name: tool.name, args, arguments: json, pieces, streamed },
      finish: cut ? 'length' : 'tool',
      promptTokens: request.promptTokens,
      completionTokens: reasoning.count + streamed,
      reasoningTokens: reasoning.count,
    };
  }
  const key = answerKey(seed, request.lastUserText);
  let head: string | undefined;
  let first = 0;
  if (request.prefill !== undefined) {
    const cut = continuation(key, request.prefill);
    head = cut.head;
    first = cut.first;
  }
  // The head is the rest of token `first - 1`; it streams only if that token is in the answer.
  if (head !== undefined && first > length) head = undefined;
  const available = Math.max(0, length - first) + (head === undefined ? 0 : 1);
  const count = Math.min(available, cap);
  return {
    request,
    reasoning,
    text: { key, head, first, count },
    tool: undefined,
    finish: count < available ? 'length' : 'stop',
    promptTokens: request.promptTokens,
    completionTokens: reasoning.count + count,
    reasoningTokens: reasoning.count,
  };
}

/** The plans of every choice of one response: at least one. */
export type AnswerPlans = readonly [AnswerPlan, ...AnswerPlan[]];

/**
 * Plans every choice of a request (OpenAI `n`, Gemini `candidateCount`). Choice 0 is
 * {@link planAnswer}'s answer, so a request without `n` is answered as before; choice `i > 0`
 * is planned with the seed `<seed>\u0000choice <i>`, so the alternatives differ from each other
 * and are as deterministic as the first.
 */
export function planChoices(request: SimulatedRequest, options: AnswerOptions = {}): AnswerPlans {
  const plans: [AnswerPlan, ...AnswerPlan[]] = [planAnswer(request, options)];
  for (let i = 1; i < request.choices; i++) {
    plans.push(planAnswer(request, { ...options, seed: `${options.seed ?? ''}\u0000choice ${i}` }));
  }
  return plans;
}

/** The token counts of a whole response: the prompt once, the completion of every choice. */
export function responseUsage(plans: AnswerPlans): {
  promptTokens: number;
  completionTokens: number;
  reasoningTokens: number;
} {
  let completionTokens = 0;
  let reasoningTokens = 0;
  for (const plan of plans) {
    completionTokens += plan.completionTokens;
    reasoningTokens += plan.reasoningTokens;
  }
  return { promptTokens: plans[0].promptTokens, completionTokens, reasoningTokens };
}

/** Where the deterministic text continues after a prefill. */
function continuation(key: number, prefill: string): { head: string | undefined; first: number } {
  let position = 0;
  let index = 0;
  while (position < prefill.length) {
    const token = tokenAt(key, index);
    const segment = prefill.slice(position, position + token.length);
    if (segment.length === token.length) {
      if (segment !== token) break;
      position += token.length;
      index++;
      continue;
    }
    // The prefill ends inside this token.
    if (!token.startsWith(segment)) break;
    return { head: token.slice(segment.length), first: index + 1 };
  }
  if (position >= prefill.length) return { head: undefined, first: index };
  return { head: undefined, first: countWords(prefill) };
}

/** Text piece `i` (0-based among the streamed pieces) of a text plan. */
export function textPieceAt(plan: TextPlan, i: number): string {
  if (plan.head !== undefined) return i === 0 ? plan.head : tokenAt(plan.key, plan.first + i - 1);
  return tokenAt(plan.key, plan.first + i);
}

/** Reasoning piece `i` of a plan. */
export function reasoningPieceAt(plan: AnswerPlan, i: number): string {
  return tokenAt(plan.reasoning.key, i);
}

/** Cuts a text into pieces of 3–7 characters (whole code points), deterministically. */
function splitPieces(text: string, key: number): string[] {
  const points = Array.from(text);
  const pieces: string[] = [];
  let at = 0;
  while (at < points.length) {
    const size = 3 + (mix(key, pieces.length) % 5);
    pieces.push(points.slice(at, at + size).join(''));
    at += size;
  }
  return pieces;
}

/** A deterministic value that fits a JSON Schema (types read case-insensitively, as Gemini's). */
function exampleValue(schema: unknown, key: number, depth: number): unknown {
  const s =
    typeof schema === 'object' && schema !== null ? (schema as Record<string, unknown>) : {};
  if (Array.isArray(s.enum) && s.enum.length > 0) return s.enum[0];
  if (s.const !== undefined) return s.const;
  const rawType: unknown = Array.isArray(s.type)
    ? (s.type as unknown[]).find((t) => t !== 'null')
    : s.type;
  const type =
    typeof rawType === 'string'
      ? rawType.toLowerCase()
      : s.properties === undefined
        ? 'string'
        : 'object';
  switch (type) {
    case 'integer':
      return (key % 100) + 1;
    case 'number':
      return ((key % 1000) + 1) / 10;
    case 'boolean':
      return key % 2 === 0;
    case 'array':
      return depth >= 3 ? [] : [exampleValue(s.items, mix(key, 1), depth + 1)];
    case 'object':
      return depth >= 3 ? {} : exampleArgs(s, key, depth + 1);
    case 'null':
      return null;
    default: {
      const word = wordFor(key);
      return word.charAt(0).toUpperCase() + word.slice(1);
    }
  }
}

function exampleArgs(schema: unknown, key: number, depth = 0): Record<string, unknown> {
  const s =
    typeof schema === 'object' && schema !== null ? (schema as Record<string, unknown>) : {};
  const properties =
    typeof s.properties === 'object' && s.properties !== null
      ? (s.properties as Record<string, unknown>)
      : {};
  const out: Record<string, unknown> = {};
  for (const [name, property] of Object.entries(properties)) {
    out[name] = exampleValue(property, mix(key, hashString(name)), depth);
  }
  return out;
}

function dropUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** What the simulator answers to a request, in the normalized terms the decoders produce. */
export interface SimulatedAnswer {
  /** The streamed text (after any prefill). */
  text: string;
  /** The reasoning text ('' when none). */
  reasoning: string;
  /** The tool call, with its arguments as streamed (whole unless `max_tokens` cut them). */
  toolCall: { name: string; arguments: string } | undefined;
  /** The normalized finish reason. */
  finishReason: FinishReason;
  /** The provider's own finish reason (`end_turn`, `MAX_TOKENS`, `tool_calls`, ...). */
  rawFinishReason: string;
  /** The counts the simulator reports for the whole response (every choice), in OpenAI's terms. */
  usage: {
    promptTokens: number;
    completionTokens: number;
    reasoningTokens: number;
    totalTokens: number;
  };
}

/** The provider's own finish reason for a planned finish. */
export function rawFinishReason(format: StreamFormat, finish: AnswerPlan['finish']): string {
  switch (format) {
    case 'openai':
      return finish === 'tool' ? 'tool_calls' : finish;
    case 'anthropic':
      return finish === 'tool' ? 'tool_use' : finish === 'length' ? 'max_tokens' : 'end_turn';
    case 'google':
      return finish === 'length' ? 'MAX_TOKENS' : 'STOP';
  }
}

/** One choice of a simulated answer: everything but the usage, which covers the response. */
export type SimulatedChoice = Omit<SimulatedAnswer, 'usage'>;

/** The text, reasoning and tool call of a plan, materialized. */
export function describePlan(plan: AnswerPlan): SimulatedAnswer {
  let text = '';
  if (plan.text !== undefined) {
    for (let i = 0; i < plan.text.count; i++) text += textPieceAt(plan.text, i);
  }
  const tool = plan.tool;
  return {
    text,
    reasoning: textOf(plan.reasoning.key, 0, plan.reasoning.count),
    toolCall:
      tool === undefined || tool.streamed === 0
        ? undefined
        : { name: tool.name, arguments: tool.pieces.slice(0, tool.streamed).join('') },
    finishReason:
      plan.finish === 'tool' ? 'tool_calls' : plan.finish === 'length' ? 'length' : 'stop',
    rawFinishReason: rawFinishReason(plan.request.format, plan.finish),
    usage: {
      promptTokens: plan.promptTokens,
      completionTokens: plan.completionTokens,
      reasoningTokens: plan.reasoningTokens,
      totalTokens: plan.promptTokens + plan.completionTokens,
    },
  };
}

/**
 * What the simulator will answer to a request body: text, reasoning, tool call, finish reason
 * and usage, exactly. With `n` (or `candidateCount`) above 1 this is choice 0, with the usage of
 * the whole response; {@link expectedChoices} has every choice. Pure; use it in tests to compare with what a client decoded.
 *
 * ```ts
 * const body = { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Hi' }], stream: true };
 * const expected = expectedAnswer('openai', body);
 * // ... POST body to simulator.url + '/v1/chat/completions', decode, collect ...
 * expect(completion.choices[0].message.content).toBe(expected.text);
 * ```
 *
 * @param format The wire format of the body.
 * @param body The request body (parsed JSON).
 * @param options The simulator's options and the request's `x-simulator-tokens`, if any.
 * @param url For Gemini, the model and method in the URL (they do not change the answer).
 */
export function expectedAnswer(
  format: StreamFormat,
  body: unknown,
  options: AnswerOptions = {},
  url: RequestUrlFacts = {},
): SimulatedAnswer {
  const plans = planChoices(readSimulatedRequest(format, body, url), options);
  const { promptTokens, completionTokens, reasoningTokens } = responseUsage(plans);
  return {
    ...describePlan(plans[0]),
    usage: {
      promptTokens,
      completionTokens,
      reasoningTokens,
      totalTokens: promptTokens + completionTokens,
    },
  };
}

/**
 * What the simulator will answer in each choice of a request that asks for several (OpenAI
 * `n`, Gemini `candidateCount`), in index order. Entry 0 is {@link expectedAnswer}'s answer;
 * the usage of the whole response is {@link expectedAnswer}'s.
 */
export function expectedChoices(
  format: StreamFormat,
  body: unknown,
  options: AnswerOptions = {},
  url: RequestUrlFacts = {},
): SimulatedChoice[] {
  return planChoices(readSimulatedRequest(format, body, url), options).map((plan) => {
    const { usage: _usage, ...choice } = describePlan(plan);
    return choice;
  });
}

/** The text the simulator will stream for a request body (after any prefill). */
export function expectedText(
  format: StreamFormat,
  body: unknown,
  options: AnswerOptions = {},
): string {
  return expectedAnswer(format, body, options).text;
}

/**
 * The first `tokens` tokens of the deterministic text for a user message: the full answer that
 * a prefill continues (`simulatedText(text, 5)` is a valid prefill of the default 24-token answer).
 */
export function simulatedText(lastUserText: string, tokens: number, seed = ''): string {
  return textOf(answerKey(seed, lastUserText), 0, tokens);
}
