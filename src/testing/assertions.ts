import { from } from 'rxjs';
import type { ChatCompletion, ToolCall } from '../chunk/chat-completion';
import { collectCompletion } from '../chunk/collect-completion';
import type { FinishReason, StreamingChunk, Usage } from '../chunk/streaming-chunk';

/** What the helpers read: the chunks of a stream, or the completion collected from them. */
export type ChunksOrCompletion = Iterable<StreamingChunk> | ChatCompletion;

/**
 * A failed assertion of these helpers. It carries `actual`, `expected` and `showDiff` like
 * Node's `AssertionError`, so Jest, Vitest, Mocha and node:test all print it well.
 */
export class StreamAssertionError extends Error {
  override readonly name = 'AssertionError';
  readonly actual: unknown;
  readonly expected: unknown;
  readonly showDiff = true;

  constructor(message: string, actual: unknown, expected: unknown) {
    super(message);
    this.actual = actual;
    this.expected = expected;
  }
}

function isCompletion(value: ChunksOrCompletion): value is ChatCompletion {
  return (value as Partial<ChatCompletion>).object === 'chat.completion';
}

/** Folds chunks into a {@link ChatCompletion} (as `collectCompletion` does), synchronously. */
export function completionOf(chunks: ChunksOrCompletion): ChatCompletion {
  if (isCompletion(chunks)) return chunks;
  let completion: ChatCompletion | undefined;
  from([...chunks])
    .pipe(collectCompletion())
    .subscribe((c) => (completion = c));
  if (completion === undefined) throw new Error('completionOf: the fold did not complete');
  return completion;
}

/** The text of a choice (default 0): its content deltas joined; `''` when it has none. */
export function textOf(chunks: ChunksOrCompletion, choice = 0): string {
  return messageOf(chunks, choice)?.content ?? '';
}

/** The complete tool calls of a choice (default 0), arguments concatenated; `[]` when none. */
export function toolCallsOf(chunks: ChunksOrCompletion, choice = 0): ToolCall[] {
  return messageOf(chunks, choice)?.tool_calls ?? [];
}

/** The usage the stream reported (the last usage seen), or `undefined`. */
export function usageOf(chunks: ChunksOrCompletion): Usage | undefined {
  return completionOf(chunks).usage;
}

/** The finish reason of a choice (default 0), or `null` when it never finished. */
export function finishReasonOf(chunks: ChunksOrCompletion, choice = 0): FinishReason | null {
  return completionOf(chunks).choices.find((c) => c.index === choice)?.finish_reason ?? null;
}

function messageOf(chunks: ChunksOrCompletion, choice: number) {
  return completionOf(chunks).choices.find((c) => c.index === choice)?.message;
}

/**
 * Asserts the text of a choice (default 0). On a mismatch it throws a
 * {@link StreamAssertionError} that points at the first differing character.
 *
 * ```ts
 * expectText(chunks, 'Hello world');
 * // AssertionError: expectText: the text differs at character 7.
 * //   expected: "Hello world"
 * //   actual:   "Hello wrld"
 * //                     ^
 * ```
 */
export function expectText(chunks: ChunksOrCompletion, expected: string, choice = 0): void {
  const actual = textOf(chunks, choice);
  if (actual === expected) return;
  throw new StreamAssertionError(
    `expectText: ${choice === 0 ? '' : `choice ${choice}: `}${describeStringDiff(expected, actual)}`,
    actual,
    expected,
  );
}

/** An expected tool call: `name`, and `id` and `arguments` when given. */
export interface ExpectedToolCall {
  id?: string;
  name: string;
  /**
   * A string is compared exactly with the concatenated arguments; any other value is compared
   * with the arguments parsed as JSON (key order does not matter).
   */
  arguments?: unknown;
}

/**
 * Asserts the complete tool calls of a choice (default 0), in order. Fields left out of an
 * expected call are not checked.
 *
 * ```ts
 * expectToolCalls(chunks, [{ name: 'weather', arguments: { city: 'Paris' } }]);
 * ```
 */
export function expectToolCalls(
  chunks: ChunksOrCompletion,
  expected: readonly ExpectedToolCall[],
  choice = 0,
): void {
  const calls = toolCallsOf(chunks, choice);
  const problems: string[] = [];
  if (calls.length !== expected.length) {
    problems.push(`expected ${expected.length} tool call(s), got ${calls.length}`);
  }
  expected.forEach((want, i) => {
    const call = calls[i];
    if (call === undefined) return;
    const at = `toolCalls[${i}]`;
    if (call.function.name !== want.name) {
      problems.push(`${at}.name: expected ${show(want.name)}, got ${show(call.function.name)}`);
    }
    if (want.id !== undefined && call.id !== want.id) {
      problems.push(`${at}.id: expected ${show(want.id)}, got ${show(call.id)}`);
    }
    if (want.arguments === undefined) return;
    if (typeof want.arguments === 'string') {
      if (call.function.arguments !== want.arguments) {
        problems.push(
          `${at}.arguments: ${describeStringDiff(want.arguments, call.function.arguments)}`,
        );
      }
      return;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(call.function.arguments) as unknown;
    } catch {
      problems.push(`${at}.arguments are not valid JSON: ${show(call.function.arguments)}`);
      return;
    }
    problems.push(...diffValues(want.arguments, parsed, `${at}.arguments`));
  });
  if (problems.length === 0) return;
  throw new StreamAssertionError(
    `expectToolCalls: ${problems.length} difference(s):\n  ${problems.join('\n  ')}\n` +
      `actual tool calls: ${JSON.stringify(calls.map((c) => ({ id: c.id, name: c.function.name, arguments: c.function.arguments })))}`,
    calls,
    expected,
  );
}

/** Expected token counts; only the fields given are checked. Missing detail counts read as 0. */
export interface ExpectedUsage {
  prompt?: number;
  completion?: number;
  total?: number;
  cached?: number;
  cacheWrite?: number;
  reasoning?: number;
}

/**
 * Asserts the usage the stream reported (the last usage seen). Only the fields given are
 * checked; it fails when no chunk carried usage.
 *
 * ```ts
 * expectUsage(chunks, { prompt: 12, completion: 2, cached: 8 });
 * ```
 */
export function expectUsage(chunks: ChunksOrCompletion, expected: ExpectedUsage): void {
  const usage = usageOf(chunks);
  if (usage === undefined) {
    throw new StreamAssertionError(
      'expectUsage: no chunk carried usage (is `stream_options.include_usage` set?).',
      undefined,
      expected,
    );
  }
  const actual: Required<ExpectedUsage> = {
    prompt: usage.prompt_tokens,
    completion: usage.completion_tokens,
    total: usage.total_tokens,
    cached: usage.prompt_tokens_details?.cached_tokens ?? 0,
    cacheWrite: usage.prompt_tokens_details?.cache_write_tokens ?? 0,
    reasoning: usage.completion_tokens_details?.reasoning_tokens ?? 0,
  };
  const problems: string[] = [];
  for (const key of Object.keys(expected) as (keyof ExpectedUsage)[]) {
    const want = expected[key];
    if (want !== undefined && actual[key] !== want) {
      problems.push(`${key}: expected ${want}, got ${actual[key]}`);
    }
  }
  if (problems.length === 0) return;
  throw new StreamAssertionError(
    `expectUsage: ${problems.join('; ')}.\nactual usage: ${JSON.stringify(usage)}`,
    actual,
    expected,
  );
}

/** Asserts the finish reason of a choice (default 0); `null` asserts it never finished. */
export function expectFinishReason(
  chunks: ChunksOrCompletion,
  expected: FinishReason | null,
  choice = 0,
): void {
  const actual = finishReasonOf(chunks, choice);
  if (actual === expected) return;
  throw new StreamAssertionError(
    `expectFinishReason: expected ${show(expected)}, got ${show(actual)}.`,
    actual,
    expected,
  );
}

function show(value: unknown): string {
  return value === undefined ? 'undefined' : JSON.stringify(value);
}

const WINDOW = 30;

/** "differs at character i", both strings quoted around that point, and a caret under it. */
function describeStringDiff(expected: string, actual: string): string {
  let i = 0;
  while (i < expected.length && i < actual.length && expected[i] === actual[i]) i++;
  const what =
    i === actual.length
      ? `the text is too short: it stops at character ${i} of ${expected.length}.`
      : i === expected.length
        ? `the text is too long: ${actual.length - i} extra character(s) from character ${i}.`
        : `the text differs at character ${i}.`;
  const start = Math.max(0, i - WINDOW);
  const cut = (s: string): string =>
    `${start > 0 ? '…' : ''}${JSON.stringify(s.slice(start, i + WINDOW)).slice(1, -1)}${
      s.length > i + WINDOW ? '…' : ''
    }`;
  const caret = (start > 0 ? 1 : 0) + JSON.stringify(expected.slice(start, i)).length - 2 + 1; // + the quote
  return (
    `${what}\n` +
    `  expected: "${cut(expected)}"\n` +
    `  actual:   "${cut(actual)}"\n` +
    `  ${' '.repeat('actual:   '.length + caret)}^`
  );
}

/** The differences between two JSON values, as `path: expected x, got y` lines. */
function diffValues(expected: unknown, actual: unknown, path: string): string[] {
  if (Object.is(expected, actual)) return [];
  if (Array.isArray(expected) && Array.isArray(actual)) {
    const out: string[] = [];
    if (expected.length !== actual.length) {
      out.push(`${path}: expected ${expected.length} item(s), got ${actual.length}`);
    }
    const n = Math.min(expected.length, actual.length);
    for (let i = 0; i < n; i++) out.push(...diffValues(expected[i], actual[i], `${path}[${i}]`));
    return out;
  }
  if (isPlainObject(expected) && isPlainObject(actual)) {
    const out: string[] = [];
    for (const key of new Set([...Object.keys(expected), ...Object.keys(actual)])) {
      if (!(key in actual)) out.push(`${path}.${key}: missing, expected ${show(expected[key])}`);
      else if (!(key in expected)) out.push(`${path}.${key}: unexpected ${show(actual[key])}`);
      else out.push(...diffValues(expected[key], actual[key], `${path}.${key}`));
    }
    return out;
  }
  return [`${path}: expected ${show(expected)}, got ${show(actual)}`];
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
