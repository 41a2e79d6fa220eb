import type { AnswerPlan } from './plan-answer';
import { reasoningPieceAt, textPieceAt } from './plan-answer';

/** One event of a streamed answer, before framing. */
export interface Frame {
  /** The SSE `event:` line (Anthropic). */
  event?: string;
  /** The JSON payload, serialized by the framer in the provider's style. */
  json?: unknown;
  /** A literal `data:` payload (`[DONE]`). */
  data?: string;
  /** Text written as it is, outside SSE framing (Gemini's bare JSON error). */
  raw?: string;
}

/** A streamed step: the events that carry `tokens` tokens (0 for structural events). */
export interface Unit {
  tokens: number;
  frames: Frame[];
}

/** The ids and times stamped on one answer. */
export interface AnswerIds {
  /** `chatcmpl-…`, `msg_…`, or Gemini's `responseId`. */
  response: string;
  /** The tool call's id (`call_…`, `toolu_…`). */
  tool: string;
  /** A thinking-block / thought signature. */
  signature: string;
  /** OpenAI's `system_fingerprint`. */
  fingerprint: string;
  /** Unix seconds. */
  created: number;
}

/** Turns a planned answer into one provider's events and bodies. */
export interface WireEncoder {
  /** Events sent with the headers, before the first token (Anthropic's `message_start`). */
  open(): Frame[];
  /** The streamed steps, lazily (a long answer is never held in memory). */
  units(): Generator<Unit, void, undefined>;
  /** The events that end the answer: finish reason, usage, terminator. */
  finish(): Frame[];
  /** An extra text event at the current position (for injected faults); no state changes. */
  extraText(text: string): Frame[];
  /** The provider's in-band error event(s) for a status. */
  inbandError(status: number): Frame[];
  /** The non-streaming body, with `suffix` appended to the answer's text. */
  body(suffix?: string): string;
}

/** One piece of an answer, in order: reasoning, then text or tool-argument pieces. */
export type Piece =
  | { kind: 'reasoning'; text: string }
  | { kind: 'text'; text: string }
  | { kind: 'tool'; index: number; text: string };

/** The pieces of a plan, lazily. */
export function* planPieces(plan: AnswerPlan): Generator<Piece, void, undefined> {
  for (let i = 0; i < plan.reasoning.count; i++) {
    yield { kind: 'reasoning', text: reasoningPieceAt(plan, i) };
  }
  if (plan.text !== undefined) {
    for (let i = 0; i < plan.text.count; i++)
      yield { kind: 'text', text: textPieceAt(plan.text, i) };
  }
  if (plan.tool !== undefined) {
    for (let i = 0; i < plan.tool.streamed; i++) {
      yield { kind: 'tool', index: i, text: plan.tool.pieces[i] ?? '' };
    }
  }
}

/** The whole streamed text and reasoning of a plan (for non-streaming bodies). */
export function planTexts(plan: AnswerPlan): { text: string; reasoning: string } {
  let text = '';
  let reasoning = '';
  for (const piece of planPieces(plan)) {
    if (piece.kind === 'text') text += piece.text;
    else if (piece.kind === 'reasoning') reasoning += piece.text;
  }
  return { text, reasoning };
}

/** Serializes frames to bytes in one provider's framing. */
export interface Framer {
  frame(frame: Frame): Buffer;
  /** The frame with its payload cut in the middle: malformed JSON, still framed. */
  malformed(frame: Frame): Buffer;
  /** Bytes that close the body (the `]` of a JSON array), if any. */
  end(): Buffer | undefined;
}

/**
 * Gemini's JSON style: `{"candidates": [{"content": {"parts": [{"text": "…"}],"role": "model"}}]}`,
 * a space after each colon and none after commas.
 */
export function geminiJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(geminiJson).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    const entries = Object.entries(value as Record<string, unknown>).filter(
      ([, v]) => v !== undefined,
    );
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}: ${geminiJson(v)}`).join(',')}}`;
  }
  return value === undefined || typeof value === 'function' ? 'null' : JSON.stringify(value);
}

function payload(frame: Frame, stringify: (value: unknown) => string): string {
  return frame.data ?? stringify(frame.json);
}

/** Cuts a payload in the middle, at a code-point boundary. */
function cut(text: string): string {
  let at = Math.max(1, Math.floor(text.length / 2));
  const code = text.charCodeAt(at - 1);
  if (code >= 0xd800 && code <= 0xdbff) at--;
  return text.slice(0, at);
}

/** SSE framing: `event:` and `data:` lines, events ended by a blank line, with `eol` endings. */
export function sseFramer(eol: '\n' | '\r\n', stringify: (value: unknown) => string): Framer {
  const sse = (frame: Frame, data: string): Buffer =>
    Buffer.from(
      frame.raw ??
        `${frame.event === undefined ? '' : `event: ${frame.event}${eol}`}data: ${data}${eol}${eol}`,
      'utf8',
    );
  return {
    frame: (frame) => sse(frame, frame.raw === undefined ? payload(frame, stringify) : ''),
    malformed: (frame) => {
      const { raw: _raw, ...framed } = frame;
      return sse(framed, cut(payload(frame, stringify)));
    },
    end: () => undefined,
  };
}

/** Gemini's streaming without `alt=sse`: one JSON array, pretty-printed elements. */
export function jsonArrayFramer(): Framer {
  let started = false;
  const element = (text: string): Buffer => {
    const prefix = started ? ',\r\n' : '[';
    started = true;
    return Buffer.from(prefix + text, 'utf8');
  };
  const pretty = (value: unknown): string => JSON.stringify(value, null, 2);
  return {
    frame: (frame) => element(frame.raw ?? payload(frame, pretty)),
    malformed: (frame) => element(cut(payload(frame, pretty))),
    end: () => Buffer.from(started ? ']' : '[]', 'utf8'),
  };
}
