import type { StreamFormat } from '../src/chunk/streaming-chunk';

/**
 * Realistic provider wire bytes, built in code: one content token per event, with each format's
 * proper opening and closing events so the decoders complete without error.
 *
 * - `openai`: Chat Completions chunks as sent with `stream_options.include_usage` (so every chunk
 *   carries `"usage":null`) and the `obfuscation` padding field; a role chunk first, then a
 *   finish chunk, a usage chunk and `data: [DONE]`.
 * - `anthropic`: Messages API events with `event:` lines: `message_start`, `content_block_start`,
 *   `ping`, one `content_block_delta` (`text_delta`) per token, `content_block_stop`,
 *   `message_delta` and `message_stop`.
 * - `google`: `streamGenerateContent?alt=sse` events, CRLF line endings and Google's `": "`
 *   spacing, `candidates[0].content.parts[0].text` plus `usageMetadata` on every event; the last
 *   event carries `finishReason: "STOP"`.
 */
export interface WireParts {
  format: StreamFormat;
  /** Everything before the first token event. */
  head: string;
  /** The event that carries token number `index` (the text is picked from a fixed vocabulary). */
  token(index: number): string;
  /** Everything after the last token event, given how many tokens were sent. */
  tail(tokens: number): string;
}

/** A whole body, encoded once and reused by every run. */
export interface WireBody {
  format: StreamFormat;
  bytes: Uint8Array;
  /** Content tokens in the body: one per token event. */
  tokens: number;
  /** Average size of one token event, in bytes. */
  bytesPerTokenEvent: number;
}

// Words, punctuation, escapes and multibyte text (2-, 3- and 4-byte UTF-8), so pieces split
// characters and JSON escapes are exercised.
const vocabulary = [
  ' the',
  ' stream',
  ' of',
  ' tokens',
  ',',
  ' and',
  ' a',
  ' router',
  ' that',
  ' is',
  ' reactive',
  '.',
  '\n\n',
  ' café',
  ' naïve',
  ' 東京',
  ' —',
  ' 🚀',
  ' "quoted"',
  ' JSON',
  ' observable',
  ' back',
  'pressure',
  ' provider',
  ' in',
  ' to',
  ' with',
  ' for',
  ':',
  ' it',
  ' \\',
  ' latency',
];

const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** A small deterministic PRNG (LCG) so every run builds the same bytes. */
function random(seed: number): (bound: number) => number {
  let state = seed >>> 0;
  return (bound) => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state % bound;
  };
}

function randomText(next: (bound: number) => number, length: number): string {
  let text = '';
  for (let i = 0; i < length; i++) text += alphabet[next(alphabet.length)]!;
  return text;
}

function tokenText(index: number): string {
  // A multiplicative hash of the index: deterministic, and independent of build order.
  return vocabulary[(Math.imul(index + 1, 2654435761) >>> 0) % vocabulary.length]!;
}

function openAIParts(): WireParts {
  const next = random(1);
  const id = `chatcmpl-${randomText(next, 29)}`;
  const prefix = `data: {"id":"${id}","object":"chat.completion.chunk","created":1764072000,"model":"gpt-4o-mini","system_fingerprint":"fp_07871e2ad8","choices":[{"index":0,`;
  // The obfuscation field pads chunks to random lengths; vary it per token, deterministically.
  const paddings = Array.from({ length: 64 }, () => randomText(next, 1 + next(8)));
  const event = (delta: string, finish: string, obfuscation: string): string =>
    `${prefix}"delta":${delta},"logprobs":null,"finish_reason":${finish}}],"usage":null,"obfuscation":"${obfuscation}"}\n\n`;
  return {
    format: 'openai',
    head: event('{"role":"assistant","content":"","refusal":null}', 'null', 'xT4f'),
    token: (index) =>
      event(
        `{"content":${JSON.stringify(tokenText(index))}}`,
        'null',
        paddings[index % paddings.length]!,
      ),
    tail: (tokens) =>
      event('{}', '"stop"', 'Qe') +
      `data: {"id":"${id}","object":"chat.completion.chunk","created":1764072000,"model":"gpt-4o-mini","system_fingerprint":"fp_07871e2ad8","choices":[],"usage":{"prompt_tokens":1200,"completion_tokens":${tokens},"total_tokens":${1200 + tokens},"prompt_tokens_details":{"cached_tokens":1024,"audio_tokens":0},"completion_tokens_details":{"reasoning_tokens":0,"audio_tokens":0,"accepted_prediction_tokens":0,"rejected_prediction_tokens":0}},"obfuscation":"w1"}\n\n` +
      'data: [DONE]\n\n',
  };
}

function anthropicParts(): WireParts {
  const next = random(2);
  const id = `msg_01${randomText(next, 22)}`;
  return {
    format: 'anthropic',
    head:
      `event: message_start\ndata: {"type":"message_start","message":{"id":"${id}","type":"message","role":"assistant","model":"claude-sonnet-4-5-20250929","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":1200,"cache_creation_input_tokens":0,"cache_read_input_tokens":1024,"output_tokens":1,"service_tier":"standard"}}}\n\n` +
      'event: content_block_start\ndata: {"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}\n\n' +
      'event: ping\ndata: {"type": "ping"}\n\n',
    token: (index) =>
      `event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":${JSON.stringify(tokenText(index))}}}\n\n`,
    tail: (tokens) =>
      'event: content_block_stop\ndata: {"type":"content_block_stop","index":0}\n\n' +
      `event: message_delta\ndata: {"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"input_tokens":1200,"cache_creation_input_tokens":0,"cache_read_input_tokens":1024,"output_tokens":${tokens}}}\n\n` +
      'event: message_stop\ndata: {"type":"message_stop"}\n\n',
  };
}

function googleParts(): WireParts {
  const next = random(3);
  const responseId = randomText(next, 22);
  const event = (text: string, finish: string, usage: string): string =>
    `data: {"candidates": [{"content": {"parts": [{"text": ${JSON.stringify(text)}}],"role": "model"}${finish},"index": 0}],"usageMetadata": ${usage},"modelVersion": "gemini-2.5-flash","responseId": "${responseId}"}\r\n\r\n`;
  const runningUsage =
    '{"promptTokenCount": 1200,"totalTokenCount": 1200,"promptTokensDetails": [{"modality": "TEXT","tokenCount": 1200}]}';
  return {
    format: 'google',
    head: '',
    token: (index) => event(tokenText(index), '', runningUsage),
    tail: (tokens) =>
      event(
        '',
        ',"finishReason": "STOP"',
        `{"promptTokenCount": 1200,"candidatesTokenCount": ${tokens},"totalTokenCount": ${1200 + tokens},"promptTokensDetails": [{"modality": "TEXT","tokenCount": 1200}]}`,
      ),
  };
}

const builders: Record<StreamFormat, () => WireParts> = {
  openai: openAIParts,
  anthropic: anthropicParts,
  google: googleParts,
};

/** The parts of a `format` stream, to assemble eagerly ({@link buildWireBody}) or lazily. */
export function wireParts(format: StreamFormat): WireParts {
  return builders[format]();
}

/** Builds and encodes a whole `format` body of `tokens` token events. */
export function buildWireBody(format: StreamFormat, tokens: number): WireBody {
  const parts = wireParts(format);
  const events: string[] = [];
  for (let i = 0; i < tokens; i++) events.push(parts.token(i));
  const body = events.join('');
  const encoder = new TextEncoder();
  const tokenBytes = encoder.encode(body).length;
  return {
    format,
    bytes: encoder.encode(parts.head + body + parts.tail(tokens)),
    tokens,
    bytesPerTokenEvent: tokenBytes / tokens,
  };
}
