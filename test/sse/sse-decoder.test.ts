import { ParseError } from '../../src/errors/parse-error';
import { isRouterError } from '../../src/errors/router-error';
import { createSseDecoder, type SseDecoderOptions, type SseEvent } from '../../src/sse/sse-decoder';

/** What came out of one decoder run, in order. */
type Output = { kind: 'event'; event: SseEvent } | { kind: 'bare'; value: unknown; raw: string };

interface Outcome {
  output: Output[];
  error?: unknown;
}

const encoder = new TextEncoder();

function bytesOf(input: string | Uint8Array): Uint8Array {
  return typeof input === 'string' ? encoder.encode(input) : input;
}

/**
 * Feeds `input` to a fresh decoder, cut into pieces of the given sizes (cycled; `[]` feeds it
 * whole), then ends it. Errors are caught and returned beside what came out before them.
 */
function run(
  input: string | Uint8Array,
  sizes: readonly number[] = [],
  options: SseDecoderOptions = {},
): Outcome {
  const bytes = bytesOf(input);
  const output: Output[] = [];
  const decoder = createSseDecoder(
    {
      onEvent: (event) => output.push({ kind: 'event', event }),
      onBareJson: (value, raw) => output.push({ kind: 'bare', value, raw }),
    },
    options,
  );
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

/** The splits every case is also fed with: byte by byte, odd sizes, and one small piece. */
const splits: readonly (readonly number[])[] = [[1], [2], [3, 5], [7, 1, 13], [64]];

/** Runs `input` whole and at every split; all runs must agree. Returns the whole run. */
function runEverySplit(input: string | Uint8Array, options: SseDecoderOptions = {}): Outcome {
  const whole = run(input, [], options);
  for (const sizes of splits) {
    const split = run(input, sizes, options);
    expect(split.output).toEqual(whole.output);
    expect(errorView(split.error)).toEqual(errorView(whole.error));
  }
  return whole;
}

function errorView(error: unknown): unknown {
  if (error === undefined) return undefined;
  if (isRouterError(error)) return { name: error.name, code: error.code, message: error.message };
  return { name: (error as Error).name, message: (error as Error).message };
}

function events(outcome: Outcome): SseEvent[] {
  return outcome.output.flatMap((o) => (o.kind === 'event' ? [o.event] : []));
}

function datas(outcome: Outcome): string[] {
  return events(outcome).map((e) => e.data);
}

function expectParseError(outcome: Outcome, message?: RegExp): ParseError {
  expect(outcome.error).toBeInstanceOf(ParseError);
  const error = outcome.error as ParseError;
  expect(error.code).toBe('RXLLM_PARSE');
  expect(error.isRetryable).toBe(true);
  if (message !== undefined) expect(error.message).toMatch(message);
  return error;
}

describe('createSseDecoder', () => {
  describe('line endings', () => {
    it.each([
      ['LF', '\n'],
      ['CR', '\r'],
      ['CRLF', '\r\n'],
    ])('should decode %s-framed events', (_name, eol) => {
      const input = `data: one${eol}${eol}data: two${eol}${eol}data: [DONE]${eol}${eol}`;
      const outcome = runEverySplit(input);
      expect(outcome.error).toBeUndefined();
      expect(datas(outcome)).toEqual(['one', 'two', '[DONE]']);
    });

    it('should treat a CRLF split between two pieces as one line ending', () => {
      const input = 'data: a\r\n\r\ndata: b\r\n\r\n';
      // Cut right between every \r and its \n.
      const outcome = run(input, [8, 1, 1, 1, 8, 1, 1]);
      expect(outcome.error).toBeUndefined();
      expect(datas(outcome)).toEqual(['a', 'b']);
    });

    it('should decode Gemini-style CRLF framing with JSON data', () => {
      const json = '{"candidates":[{"content":{"parts":[{"text":"Hi"}],"role":"model"}}]}';
      const outcome = runEverySplit(`data: ${json}\r\n\r\n`);
      expect(events(outcome)).toEqual([{ id: undefined, event: undefined, data: json }]);
    });
  });

  describe('fields', () => {
    it('should ignore comments, including keep-alives before the first event', () => {
      const input = [
        ': OPENROUTER PROCESSING',
        '',
        ': OPENROUTER PROCESSING',
        '',
        'data: first',
        ': a comment inside an event does not end it',
        '',
        ':',
        '',
        'data: second',
        '',
        '',
      ].join('\n');
      const outcome = runEverySplit(input);
      expect(outcome.error).toBeUndefined();
      expect(datas(outcome)).toEqual(['first', 'second']);
    });

    it('should deliver nothing for a body of comments and blank lines', () => {
      const outcome = runEverySplit(': ping\n\n: ping\n\n\n');
      expect(outcome).toEqual({ output: [] });
    });

    it('should deliver nothing for an empty body', () => {
      expect(run(new Uint8Array(0))).toEqual({ output: [] });
    });

    it('should report event: types and id: values with the event they belong to', () => {
      const input = [
        'event: message_start',
        'data: {"type":"message_start"}',
        '',
        'event: ping',
        'id: 42',
        'data: {"type": "ping"}',
        '',
        'data: untyped',
        '',
        '',
      ].join('\n');
      const outcome = runEverySplit(input);
      expect(events(outcome)).toEqual([
        { id: undefined, event: 'message_start', data: '{"type":"message_start"}' },
        { id: '42', event: 'ping', data: '{"type": "ping"}' },
        // The type and id do not leak into the next event.
        { id: undefined, event: undefined, data: 'untyped' },
      ]);
    });

    it('should not deliver an event that has no data: line', () => {
      const outcome = runEverySplit('event: ping\n\nid: 7\n\ndata: real\n\n');
      expect(datas(outcome)).toEqual(['real']);
    });

    it('should join multi-line data with \\n', () => {
      const input = 'data: {"a":\ndata: 1,\ndata:"b": 2}\n\n';
      const outcome = runEverySplit(input);
      expect(datas(outcome)).toEqual(['{"a":\n1,\n"b": 2}']);
      expect(JSON.parse(datas(outcome)[0]!)).toEqual({ a: 1, b: 2 });
    });

    it('should strip exactly one space after the colon', () => {
      const outcome = runEverySplit('data:no-space\n\ndata:  two-spaces\n\ndata:\n\n');
      expect(datas(outcome)).toEqual(['no-space', ' two-spaces', '']);
    });

    it('should accept a retry: field without reporting it as bare text', () => {
      const outcome = runEverySplit('retry: 3000\n\ndata: x\n\n');
      expect(outcome).toEqual({
        output: [{ kind: 'event', event: { id: undefined, event: undefined, data: 'x' } }],
      });
    });
  });

  describe('encoding', () => {
    it('should strip a leading UTF-8 BOM, whole or split inside the BOM', () => {
      const bom = new Uint8Array([0xef, 0xbb, 0xbf]);
      const body = encoder.encode('data: after bom\r\n\r\n');
      const input = new Uint8Array([...bom, ...body]);
      const outcome = runEverySplit(input);
      expect(outcome.error).toBeUndefined();
      expect(datas(outcome)).toEqual(['after bom']);
    });

    it('should keep a U+FEFF that is not at the start of the body', () => {
      const outcome = runEverySplit('data: \uFEFFinside\n\n');
      expect(datas(outcome)).toEqual(['\uFEFFinside']);
    });

    it('should decode UTF-8 characters split across pieces at every byte', () => {
      const text = '你好 🌍 👩‍💻 é こんにちは';
      const input = encoder.encode(`data: ${text}\n\n`);
      for (let cut = 1; cut < input.length; cut++) {
        const outcome = run(input, [cut, input.length]);
        expect(outcome.error).toBeUndefined();
        expect(datas(outcome)).toEqual([text]);
      }
      expect(datas(runEverySplit(input))).toEqual([text]);
    });

    it('should raise a ParseError on invalid UTF-8', () => {
      const input = new Uint8Array([
        ...encoder.encode('data: ok\n\ndata: bad '),
        0xff,
        ...encoder.encode('\n\n'),
      ]);
      for (const sizes of [[], ...splits]) {
        expectParseError(run(input, sizes), /not valid UTF-8/);
      }
      // A piece is decoded as a whole, so events before the bad byte come out only when they
      // arrived in an earlier piece; the error is the same either way.
      expect(datas(run(input, [1]))).toEqual(['ok']);
      expect(datas(run(input))).toEqual([]);
    });

    it('should raise a ParseError when the body ends inside a UTF-8 sequence', () => {
      const emoji = encoder.encode('🌍');
      const input = new Uint8Array([...encoder.encode('data: cut '), ...emoji.subarray(0, 2)]);
      const outcome = runEverySplit(input);
      expectParseError(outcome, /UTF-8/);
      expect(outcome.output).toEqual([]);
    });
  });

  describe('end of body', () => {
    it.each([
      ['no line ending', 'data: [DONE]'],
      ['one LF', 'data: [DONE]\n'],
      ['one CR', 'data: [DONE]\r'],
      ['one CRLF', 'data: [DONE]\r\n'],
    ])('should deliver a final event with %s and no blank line', (_name, last) => {
      const outcome = runEverySplit(`data: before\n\n${last}`);
      expect(outcome.error).toBeUndefined();
      expect(datas(outcome)).toEqual(['before', '[DONE]']);
    });

    it('should deliver a final multi-line event without a blank line', () => {
      const outcome = runEverySplit('data: {"a":\ndata: 1}');
      expect(datas(outcome)).toEqual(['{"a":\n1}']);
    });
  });

  describe('event size', () => {
    const limit = 50;

    it('should raise a ParseError for an event over maxEventSize, fed whole or split', () => {
      const input = `data: small\n\ndata: ${'x'.repeat(limit + 1)}\n\ndata: after\n\n`;
      const outcome = runEverySplit(input, { maxEventSize: limit });
      expectParseError(outcome, /50-character limit/);
      // Events before the oversize one are delivered; nothing after it is.
      expect(datas(outcome)).toEqual(['small']);
    });

    it('should count the joined data of a multi-line event', () => {
      const input = `data: ${'x'.repeat(30)}\ndata: ${'y'.repeat(30)}\n\n`;
      expectParseError(runEverySplit(input, { maxEventSize: limit }), /limit/);
    });

    it.each([
      ['LF', '\n'],
      ['CR', '\r'],
      ['CRLF', '\r\n'],
    ])(
      'should accept an event of exactly maxEventSize with %s framing, however it is split',
      (_name, eol) => {
        const data = 'x'.repeat(limit);
        const input = `data: ${data}${eol}${eol}data: next${eol}${eol}`;
        const outcome = runEverySplit(input, { maxEventSize: limit });
        expect(outcome.error).toBeUndefined();
        expect(datas(outcome)).toEqual([data, 'next']);
      },
    );

    it('should give up on an unterminated line far beyond the limit before it ends', () => {
      const decoder = createSseDecoder(
        { onEvent: () => undefined, onBareJson: () => undefined },
        { maxEventSize: limit },
      );
      decoder.feed(encoder.encode('data: '));
      // The guard trips while the line is still open: memory stays bounded.
      expect(() => {
        decoder.feed(encoder.encode('z'.repeat(3 * limit)));
      }).toThrow(ParseError);
    });

    it('should keep failing with the same error when fed again after a failure', () => {
      const decoder = createSseDecoder(
        { onEvent: () => undefined, onBareJson: () => undefined },
        { maxEventSize: limit },
      );
      let first: unknown;
      try {
        decoder.feed(encoder.encode(`data: ${'x'.repeat(3 * limit)}`));
      } catch (error) {
        first = error;
      }
      expect(first).toBeInstanceOf(ParseError);
      expect(() => {
        decoder.feed(encoder.encode('data: more\n\n'));
      }).toThrow(first as Error);
      expect(() => {
        decoder.end();
      }).toThrow(first as Error);
    });
  });

  describe('text outside SSE framing', () => {
    const prettyError = [
      '{',
      '  "error": {',
      '    "code": 503,',
      '    "message": "The model is overloaded. Please try again later.",',
      '    "status": "UNAVAILABLE"',
      '  }',
      '}',
    ].join('\n');
    const errorValue = {
      error: {
        code: 503,
        message: 'The model is overloaded. Please try again later.',
        status: 'UNAVAILABLE',
      },
    };

    it('should deliver pretty-printed JSON without a data: prefix to onBareJson', () => {
      const outcome = runEverySplit(`data: {"a":1}\r\n\r\n${prettyError}\n`);
      expect(outcome.error).toBeUndefined();
      expect(outcome.output).toEqual([
        { kind: 'event', event: { id: undefined, event: undefined, data: '{"a":1}' } },
        { kind: 'bare', value: errorValue, raw: prettyError },
      ]);
    });

    it('should deliver bare JSON that ends the body without a newline', () => {
      const outcome = runEverySplit(prettyError);
      expect(outcome).toEqual({ output: [{ kind: 'bare', value: errorValue, raw: prettyError }] });
    });

    it('should deliver bare JSON in order with the events around it', () => {
      const outcome = runEverySplit(`data: before\n\n{"error": "one line"}\ndata: after\n\n`);
      expect(outcome.output.map((o) => (o.kind === 'event' ? o.event.data : o.value))).toEqual([
        'before',
        { error: 'one line' },
        'after',
      ]);
    });

    it('should raise a ParseError for non-JSON text at the end of the body', () => {
      const outcome = runEverySplit('data: ok\n\n<html><body>502 Bad Gateway</body></html>\n');
      const error = expectParseError(outcome, /neither SSE nor JSON/);
      expect(error.excerpt).toBe('<html><body>502 Bad Gateway</body></html>');
      expect(datas(outcome)).toEqual(['ok']);
    });

    it('should raise a ParseError for non-JSON text followed by an event', () => {
      const outcome = runEverySplit('data: ok\n\nupstream connect error\n\ndata: next\n\n');
      expectParseError(outcome, /upstream connect error/);
      expect(datas(outcome)).toEqual(['ok']);
    });

    it('should raise a ParseError for unfinished bare JSON at the end of the body', () => {
      expectParseError(runEverySplit('{\n  "error": {\n'), /neither SSE nor JSON/);
    });

    it('should raise a ParseError when bare text outgrows maxBareTextSize', () => {
      const lines = [
        '{',
        ...Array.from({ length: 20 }, (_, i) => `  "k${i}": "${'v'.repeat(10)}",`),
      ];
      const outcome = runEverySplit(`${lines.join('\n')}\n`, { maxBareTextSize: 100 });
      expectParseError(outcome, /more than 100 characters of non-SSE text/);
      expect(outcome.output).toEqual([]);
    });

    it('should accept bare JSON within maxBareTextSize', () => {
      const outcome = runEverySplit(`${prettyError}\n`, {
        maxBareTextSize: prettyError.length + 1,
      });
      expect(outcome.error).toBeUndefined();
      expect(outcome.output).toHaveLength(1);
    });
  });
});

describe('createSseDecoder unknown fields', () => {
  it('should ignore a well-formed unknown field, as the SSE spec says', () => {
    const events: string[] = [];
    const bare: unknown[] = [];
    const decoder = createSseDecoder({
      onEvent: (event) => events.push(event.data),
      onBareJson: (value) => bare.push(value),
    });
    decoder.feed(new TextEncoder().encode('data: a\n\nx-custom: 1\nfoo: bar\n\ndata: b\n\n'));
    decoder.end();
    expect(events).toEqual(['a', 'b']);
    expect(bare).toEqual([]);
  });
});
