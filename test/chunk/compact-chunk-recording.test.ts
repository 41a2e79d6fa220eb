import { compactChunkRecording } from '../../src/chunk/compact-chunk-recording';
import type { StreamingChunk } from '../../src/chunk/streaming-chunk';
import {
  finishChunk,
  reasoningChunk,
  roleChunk,
  textChunk,
  toolCallChunk,
  usageChunk,
} from '../../src/testing/index';

const pack = (chunk: StreamingChunk, previous: StreamingChunk | undefined): unknown =>
  compactChunkRecording.pack(chunk, previous);
const unpack = (recorded: unknown, previous: StreamingChunk | undefined): StreamingChunk =>
  compactChunkRecording.unpack(recorded, previous);

/** Packs a stream in order, as SharedStream does. */
function packAll(chunks: readonly StreamingChunk[]): unknown[] {
  let previous: StreamingChunk | undefined;
  return chunks.map((chunk) => {
    const recorded = pack(chunk, previous);
    previous = chunk;
    return recorded;
  });
}

/** Unpacks a recording in order. */
function unpackAll(recorded: readonly unknown[]): StreamingChunk[] {
  let previous: StreamingChunk | undefined;
  return recorded.map((item) => (previous = unpack(item, previous)));
}

describe('compactChunkRecording', () => {
  it('should record a text chunk that continues the one before it as its text alone', () => {
    const first = roleChunk();
    const next = textChunk('Hello');
    expect(pack(next, first)).toBe('Hello');
    expect(pack(textChunk(''), next)).toBe('');
  });

  it('should rebuild text chunks equal to the originals, key order included', () => {
    const chunks = [roleChunk(), textChunk('Hel'), textChunk('lo — 🌍'), textChunk(' world')];
    const rebuilt = unpackAll(packAll(chunks));
    expect(rebuilt).toEqual(chunks);
    expect(rebuilt.map((chunk) => JSON.stringify(chunk))).toEqual(
      chunks.map((chunk) => JSON.stringify(chunk)),
    );
  });

  it('should keep whole every chunk that is more than a continued text', () => {
    const text = textChunk('a');
    const extra: StreamingChunk = {
      ...textChunk('b'),
      choices: [{ index: 0, delta: { content: 'b' }, finish_reason: null, raw_finish_reason: 'x' }],
    };
    const whole: [string, StreamingChunk][] = [
      ['a finish reason', finishChunk('stop')],
      ['usage', usageChunk({ prompt: 3, completion: 2 })],
      ['a role', roleChunk()],
      ['reasoning', reasoningChunk('hmm')],
      ['a tool call', toolCallChunk({ id: 'call_1', name: 'f', arguments: '{}' })],
      ['another choice', textChunk('b', { choice: 1 })],
      ['another id', textChunk('b', { id: 'chatcmpl-other' })],
      ['another model', textChunk('b', { model: 'other-model' })],
      ['another provider', textChunk('b', { provider: 'other' })],
      ['another created', textChunk('b', { created: 5 })],
      [
        'null content',
        {
          ...textChunk(''),
          choices: [{ index: 0, delta: { content: null }, finish_reason: null }],
        },
      ],
      ['an extra choice field', extra],
      ['an extra chunk field', { ...textChunk('b'), system_fingerprint: 'fp' } as StreamingChunk],
      [
        'an undefined usage key',
        { ...textChunk('b'), usage: undefined } as unknown as StreamingChunk,
      ],
      [
        'two choices',
        {
          ...textChunk('b'),
          choices: [...textChunk('b').choices, ...textChunk('c', { choice: 1 }).choices],
        },
      ],
    ];
    for (const [why, chunk] of whole) {
      expect({ why, recorded: pack(chunk, text) }).toEqual({ why, recorded: chunk });
      expect(unpack(pack(chunk, text), text)).toBe(chunk);
    }
  });

  it('should keep the first chunk whole, and refuse a text without one before it', () => {
    const first = textChunk('Hi');
    expect(pack(first, undefined)).toBe(first);
    expect(() => unpack('Hi', undefined)).toThrow(TypeError);
  });
});
