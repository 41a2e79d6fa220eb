import fc from 'fast-check';
import type { StreamingChunk } from '../../src/chunk/streaming-chunk';
import { createSseDecoder, type SseEvent } from '../../src/sse/sse-decoder';
import { decodeAll, type DecodeOutcome } from '../helpers/fixtures';

// Property: however a body is cut into pieces, the decoders give exactly what they give for the
// body fed whole, and that is what the generator meant to send.

const encoder = new TextEncoder();
const BOM = new Uint8Array([0xef, 0xbb, 0xbf]);
// Enough to cover the framing and split cases in a few seconds.
const numRuns = 150;
const openAINumRuns = 100;

type Eol = '\n' | '\r' | '\r\n';
const eolArb: fc.Arbitrary<Eol> = fc.constantFrom('\n', '\r', '\r\n');

/** Text of one line: any code points (emoji and CJK weighted in), but no CR or LF. */
const lineText = (maxLength = 12): fc.Arbitrary<string> =>
  fc
    .oneof(
      fc.string({ unit: 'binary', maxLength }),
      fc.string({
        unit: fc.constantFrom(
          '😀',
          '👩‍💻',
          '👋🏽',
          '🌍',
          '你',
          '好',
          'こ',
          '한',
          'é',
          '\u2028',
          '\uFEFF',
          ':',
          ' ',
          'a',
        ),
        maxLength,
      }),
    )
    .map((s) => s.replace(/[\r\n]/g, ''));

/** Where to cut a body: fractions of its length (so they fit any length), or at every byte. */
type CutSpec = number[] | 'bytes';
const cutsArb: fc.Arbitrary<CutSpec> = fc.oneof(
  { weight: 4, arbitrary: fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 40 }) },
  { weight: 1, arbitrary: fc.constant('bytes' as const) },
);

/** Piece sizes (each >= 1, summing to `length`) for the given cuts. */
function sizesFor(length: number, cuts: CutSpec): number[] {
  if (length === 0) return [];
  if (cuts === 'bytes') return [1];
  const points = [...new Set(cuts.map((f) => Math.floor(f * length)))]
    .filter((p) => p > 0 && p < length)
    .sort((a, b) => a - b);
  const sizes: number[] = [];
  let previous = 0;
  for (const point of [...points, length]) {
    sizes.push(point - previous);
    previous = point;
  }
  return sizes;
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Bytes -> SSE events
// ---------------------------------------------------------------------------------------------

interface GenEvent {
  kind: 'event';
  type: string | undefined;
  id: string | undefined;
  dataLines: string[];
  /** Comment lines, each inserted before the field line at the same position. */
  comments: { at: number; text: string }[];
}

interface GenBare {
  kind: 'bare';
  value: Record<string, unknown>;
}

const genEventArb: fc.Arbitrary<GenEvent> = fc.record({
  kind: fc.constant('event' as const),
  type: fc.option(
    fc.oneof(
      fc.constantFrom('message_start', 'content_block_delta', 'ping', 'error'),
      lineText(8).filter((s) => s !== ''),
    ),
    { nil: undefined },
  ),
  id: fc.option(
    lineText(6).map((s) => s.replace(/\0/g, '')),
    { nil: undefined },
  ),
  dataLines: fc.array(lineText(), { minLength: 1, maxLength: 4 }),
  comments: fc.array(fc.record({ at: fc.nat(6), text: lineText(10) }), { maxLength: 3 }),
});

const genBareArb: fc.Arbitrary<GenBare> = fc.record({
  kind: fc.constant('bare' as const),
  value: fc.dictionary(lineText(6), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 4 }),
});

const streamArb = fc.record({
  items: fc.array(
    fc.oneof({ weight: 5, arbitrary: genEventArb }, { weight: 1, arbitrary: genBareArb }),
    { maxLength: 8 },
  ),
  eol: eolArb,
  bom: fc.boolean(),
  /** How the body ends: with a blank line, with only a line ending, or with neither. */
  tail: fc.constantFrom('blank', 'eol', 'none'),
});

type Stream = typeof streamArb extends fc.Arbitrary<infer T> ? T : never;

type Out = { kind: 'event'; event: SseEvent } | { kind: 'bare'; value: unknown };

function encodeStream({ items, eol, bom, tail }: Stream): Uint8Array {
  let text = '';
  for (const item of items) {
    if (item.kind === 'bare') {
      // Gemini-style: pretty-printed JSON with no `data:` prefix, then a blank line.
      text += `${JSON.stringify(item.value, null, 2).split('\n').join(eol)}${eol}${eol}`;
      continue;
    }
    const fields: string[] = [];
    if (item.type !== undefined) fields.push(`event: ${item.type}`);
    if (item.id !== undefined) fields.push(`id: ${item.id}`);
    for (const line of item.dataLines) fields.push(`data: ${line}`);
    const lines: string[] = [];
    fields.forEach((field, i) => {
      for (const c of item.comments) if (c.at % fields.length === i) lines.push(`:${c.text}`);
      lines.push(field);
    });
    text += `${lines.map((l) => l + eol).join('')}${eol}`;
  }
  if (text !== '' && tail !== 'blank') {
    text = text.slice(0, text.length - eol.length); // drop the blank line
    if (tail === 'none') text = text.slice(0, text.length - eol.length); // and the line ending
  }
  const bytes = encoder.encode(text);
  return bom ? concat(BOM, bytes) : bytes;
}

function expectedOutput(stream: Stream): Out[] {
  return stream.items.map((item): Out => {
    if (item.kind === 'bare') {
      return { kind: 'bare', value: JSON.parse(JSON.stringify(item.value)) as unknown };
    }
    return {
      kind: 'event',
      event: {
        id: item.id,
        event: item.type === '' ? undefined : item.type,
        data: item.dataLines.join('\n'),
      },
    };
  });
}

function decodeSse(
  bytes: Uint8Array,
  sizes: readonly number[],
): { output: Out[]; error?: unknown } {
  const output: Out[] = [];
  const decoder = createSseDecoder({
    onEvent: (event) => output.push({ kind: 'event', event }),
    onBareJson: (value) => output.push({ kind: 'bare', value }),
  });
  try {
    if (sizes.length === 0) {
      decoder.feed(bytes);
    } else {
      for (let offset = 0, i = 0; offset < bytes.length; i++) {
        const size = sizes[i % sizes.length]!;
        decoder.feed(bytes.subarray(offset, offset + size));
        offset += size;
      }
    }
    decoder.end();
    return { output };
  } catch (error) {
    return { output, error };
  }
}

describe('createSseDecoder (property)', () => {
  it('should decode any split of an encoded event list exactly as the whole body', () => {
    fc.assert(
      fc.property(streamArb, cutsArb, (stream, cuts) => {
        const bytes = encodeStream(stream);
        const whole = decodeSse(bytes, []);
        expect(whole).toEqual({ output: expectedOutput(stream) });
        const split = decodeSse(bytes, sizesFor(bytes.length, cuts));
        expect(split).toEqual(whole);
      }),
      { numRuns },
    );
  });
});

// ---------------------------------------------------------------------------------------------
// Bytes -> OpenAI chunks
// ---------------------------------------------------------------------------------------------

type OpenAIDelta =
  | { kind: 'content' | 'reasoning' | 'refusal'; choice: number; text: string }
  | { kind: 'tool'; choice: number; call: number; text: string };

const finishArb = fc.constantFrom(
  ['stop', 'stop'],
  ['length', 'length'],
  ['tool_calls', 'tool_calls'],
  ['content_filter', 'content_filter'],
  ['eos', 'stop'],
  ['max_tokens', 'length'],
) as fc.Arbitrary<[string, StreamingChunk['choices'][number]['finish_reason']]>;

const openAIStreamArb = fc
  .record({
    n: fc.integer({ min: 1, max: 2 }),
    deltas: fc.array(
      fc.oneof(
        fc.record({
          kind: fc.constantFrom('content' as const, 'reasoning' as const, 'refusal' as const),
          choice: fc.nat(1),
          text: lineText(10),
        }),
        fc.record({
          kind: fc.constant('tool' as const),
          choice: fc.nat(1),
          call: fc.nat(1),
          text: lineText(10),
        }),
      ),
      { maxLength: 12 },
    ),
    finishes: fc.tuple(finishArb, finishArb),
    usage: fc.option(
      fc.record({ prompt: fc.nat(5000), completion: fc.nat(5000), cached: fc.nat(1024) }),
      { nil: undefined },
    ),
    ending: fc.constantFrom('done', 'eof-after-finish', 'truncated'),
    /** Which events are pretty-printed over several `data:` lines. */
    multiline: fc.array(fc.boolean(), { maxLength: 20 }),
    /** Where `: keep-alive` comments go, by event position. */
    comments: fc.array(fc.nat(20), { maxLength: 4 }),
    eol: eolArb,
    bom: fc.boolean(),
  })
  .map((s) => ({
    ...s,
    deltas: s.deltas.map((d): OpenAIDelta => ({ ...d, choice: d.choice % s.n })),
  }));

type OpenAIStream = typeof openAIStreamArb extends fc.Arbitrary<infer T> ? T : never;

const ID = 'chatcmpl-PropTest0000000000000000000';
const CREATED = 1753184211;
const MODEL = 'gpt-4o-mini-2024-07-18';

/** The wire payloads of a generated stream, each with the chunk the decoder must make of it. */
function openAIPayloads(s: OpenAIStream): { payload: unknown; chunk?: StreamingChunk }[] {
  const out: { payload: unknown; chunk?: StreamingChunk }[] = [];
  const wire = (choices: unknown[], usage: unknown = null) => ({
    id: ID,
    object: 'chat.completion.chunk',
    created: CREATED,
    model: MODEL,
    service_tier: 'default',
    system_fingerprint: 'fp_62a23a81ef',
    choices,
    usage,
    obfuscation: 'x7',
  });
  const chunk = (choices: StreamingChunk['choices']): StreamingChunk => ({
    id: ID,
    object: 'chat.completion.chunk',
    created: CREATED,
    model: MODEL,
    provider: 'openai',
    choices,
  });
  for (let index = 0; index < s.n; index++) {
    out.push({
      payload: wire([
        {
          index,
          delta: { role: 'assistant', content: '', refusal: null },
          logprobs: null,
          finish_reason: null,
        },
      ]),
      chunk: chunk([
        { index, delta: { role: 'assistant', content: '', refusal: null }, finish_reason: null },
      ]),
    });
  }
  const started = new Set<string>();
  for (const d of s.deltas) {
    let rawDelta: Record<string, unknown>;
    let delta: StreamingChunk['choices'][number]['delta'];
    if (d.kind === 'tool') {
      const key = `${d.choice}/${d.call}`;
      if (!started.has(key)) {
        started.add(key);
        const id = `call_${d.choice}${d.call}abcdefghijklmnopqrstuv`;
        out.push({
          payload: wire([
            {
              index: d.choice,
              delta: {
                tool_calls: [
                  { index: d.call, id, type: 'function', function: { name: 'f', arguments: '' } },
                ],
              },
              logprobs: null,
              finish_reason: null,
            },
          ]),
          chunk: chunk([
            {
              index: d.choice,
              delta: {
                tool_calls: [
                  { index: d.call, id, type: 'function', function: { name: 'f', arguments: '' } },
                ],
              },
              finish_reason: null,
            },
          ]),
        });
      }
      rawDelta = { tool_calls: [{ index: d.call, function: { arguments: d.text } }] };
      delta = { tool_calls: [{ index: d.call, function: { arguments: d.text } }] };
    } else if (d.kind === 'content') {
      rawDelta = { content: d.text };
      delta = { content: d.text };
    } else if (d.kind === 'reasoning') {
      rawDelta = { content: null, reasoning_content: d.text };
      delta = { content: null, reasoning: d.text };
    } else {
      rawDelta = { refusal: d.text };
      delta = { refusal: d.text };
    }
    out.push({
      payload: wire([{ index: d.choice, delta: rawDelta, logprobs: null, finish_reason: null }]),
      chunk: chunk([{ index: d.choice, delta, finish_reason: null }]),
    });
  }
  if (s.ending === 'truncated') return out;
  for (let index = 0; index < s.n; index++) {
    const [raw, mapped] = s.finishes[index]!;
    out.push({
      payload: wire([{ index, delta: {}, logprobs: null, finish_reason: raw }]),
      chunk: chunk([
        {
          index,
          delta: {},
          finish_reason: mapped,
          ...(raw === mapped ? {} : { raw_finish_reason: raw }),
        },
      ]),
    });
  }
  if (s.usage !== undefined) {
    const { prompt, completion, cached } = s.usage;
    const cachedTokens = Math.min(cached, prompt);
    out.push({
      payload: wire([], {
        prompt_tokens: prompt,
        completion_tokens: completion,
        total_tokens: prompt + completion,
        prompt_tokens_details: { cached_tokens: cachedTokens, audio_tokens: 0 },
        completion_tokens_details: { reasoning_tokens: 0, audio_tokens: 0 },
      }),
      chunk: {
        ...chunk([]),
        usage: {
          prompt_tokens: prompt,
          completion_tokens: completion,
          total_tokens: prompt + completion,
          prompt_tokens_details: { cached_tokens: cachedTokens },
          completion_tokens_details: { reasoning_tokens: 0 },
        },
      },
    });
  }
  return out;
}

function encodeOpenAIStream(s: OpenAIStream): Uint8Array {
  const { eol } = s;
  const events = openAIPayloads(s).map(({ payload }, i) =>
    s.multiline[i] === true
      ? JSON.stringify(payload, null, 1)
          .split('\n')
          .map((line) => `data: ${line}${eol}`)
          .join('')
      : `data: ${JSON.stringify(payload)}${eol}`,
  );
  if (s.ending === 'done') events.push(`data: [DONE]${eol}`);
  let text = '';
  events.forEach((event, i) => {
    for (const at of s.comments) if (at % events.length === i) text += `: keep-alive${eol}${eol}`;
    text += event + eol;
  });
  const bytes = encoder.encode(text);
  return s.bom ? concat(BOM, bytes) : bytes;
}

describe('decodeProviderStream openai (property)', () => {
  it('should decode any split of a generated OpenAI stream exactly as the whole body', async () => {
    await fc.assert(
      fc.asyncProperty(openAIStreamArb, cutsArb, async (stream, cuts) => {
        const bytes = encodeOpenAIStream(stream);
        const whole = await decodeAll('openai', bytes);
        const expected: DecodeOutcome = {
          chunks: openAIPayloads(stream).flatMap(({ chunk }) =>
            chunk === undefined ? [] : [chunk],
          ),
        };
        if (stream.ending === 'truncated') {
          expected.error = {
            name: 'IncompleteStreamError',
            code: 'RXLLM_INCOMPLETE_STREAM',
            isRetryable: true,
          };
        }
        expect(whole).toEqual(expected);
        const split = await decodeAll('openai', bytes, sizesFor(bytes.length, cuts));
        expect(split).toEqual(whole);
      }),
      { numRuns: openAINumRuns },
    );
  });
});
