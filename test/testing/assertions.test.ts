import { from } from 'rxjs';
import { toCompletion } from '../../src/chunk/collect-completion';
import {
  StreamAssertionError,
  chunksFromText,
  completionOf,
  expectFinishReason,
  expectText,
  expectToolCalls,
  expectUsage,
  finishReasonOf,
  finishChunk,
  textChunk,
  textOf,
  toolCallChunk,
  toolCallsOf,
  usageChunk,
  usageOf,
} from '../../src/testing/index';

/** Runs `fn` and returns the error it throws (failing the test if it does not throw). */
function thrown(fn: () => void): StreamAssertionError {
  try {
    fn();
  } catch (error: unknown) {
    expect(error).toBeInstanceOf(StreamAssertionError);
    return error as StreamAssertionError;
  }
  throw new Error('expected the assertion to throw');
}

const toolChunks = [
  toolCallChunk({ id: 'call_1', name: 'weather', arguments: '{"city":"Pa' }),
  toolCallChunk({ arguments: 'ris","unit":"C"}' }),
  toolCallChunk({ index: 1, id: 'call_2', name: 'time', arguments: '{}' }),
  finishChunk('tool_calls'),
];

describe('collect helpers', () => {
  it('should read text, tool calls, usage and finish reason from chunks', () => {
    const chunks = chunksFromText('Hello world', { usage: { prompt: 3 } });
    expect(textOf(chunks)).toBe('Hello world');
    expect(usageOf(chunks)).toEqual({ prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 });
    expect(finishReasonOf(chunks)).toBe('stop');
    expect(toolCallsOf(chunks)).toEqual([]);
    expect(toolCallsOf(toolChunks).map((c) => c.function.name)).toEqual(['weather', 'time']);
  });

  it('should read a choice other than 0, and give empty answers for a missing one', () => {
    const chunks = [textChunk('zero'), textChunk('one', { choice: 1 })];
    expect(textOf(chunks, 1)).toBe('one');
    expect(textOf(chunks, 2)).toBe('');
    expect(finishReasonOf(chunks)).toBeNull();
    expect(usageOf(chunks)).toBeUndefined();
  });

  it('should accept a collected completion as well as chunks', async () => {
    const completion = await toCompletion(from(chunksFromText('Hi there')));
    expect(completionOf(completion)).toBe(completion);
    expect(textOf(completion)).toBe('Hi there');
    expectText(completion, 'Hi there');
  });

  it('should accept any iterable of chunks', () => {
    function* gen() {
      yield textChunk('a');
      yield textChunk('b');
    }
    expect(textOf(gen())).toBe('ab');
  });
});

describe('expectText', () => {
  it('should pass on the same text', () => {
    expect(() => {
      expectText(chunksFromText('Hello world'), 'Hello world');
    }).not.toThrow();
  });

  it('should point at the first differing character', () => {
    const error = thrown(() => {
      expectText(chunksFromText('Hello wrld'), 'Hello world');
    });
    expect(error.name).toBe('AssertionError');
    expect(error.actual).toBe('Hello wrld');
    expect(error.expected).toBe('Hello world');
    expect(error.showDiff).toBe(true);
    expect(error.message).toBe(
      [
        'expectText: the text differs at character 7.',
        '  expected: "Hello world"',
        '  actual:   "Hello wrld"',
        '                    ^',
      ].join('\n'),
    );
  });

  it('should say when the text is too short or too long', () => {
    expect(
      thrown(() => {
        expectText([textChunk('Hel')], 'Hello');
      }).message,
    ).toMatch(/too short: it stops at character 3 of 5/);
    expect(
      thrown(() => {
        expectText([textChunk('Hello!!')], 'Hello');
      }).message,
    ).toMatch(/too long: 2 extra character\(s\) from character 5/);
  });

  it('should show a window around a difference deep in a long text, escaped', () => {
    const long = `${'x'.repeat(100)}\nab`;
    const message = thrown(() => {
      expectText([textChunk(`${'x'.repeat(100)}\nac`)], long);
    }).message;
    const lines = message.split('\n');
    expect(lines[1]).toBe(`  expected: "…${'x'.repeat(28)}\\nab"`);
    expect(lines[2]).toBe(`  actual:   "…${'x'.repeat(28)}\\nac"`);
    expect(lines[3]?.indexOf('^')).toBe(lines[1]!.length - 2);
  });

  it('should name the choice it checks', () => {
    expect(
      thrown(() => {
        expectText([textChunk('a', { choice: 1 })], 'b', 1);
      }).message,
    ).toMatch(/^expectText: choice 1: /);
  });
});

describe('expectToolCalls', () => {
  it('should pass on matching calls, with arguments as JSON or as text', () => {
    expect(() => {
      expectToolCalls(toolChunks, [
        { id: 'call_1', name: 'weather', arguments: { unit: 'C', city: 'Paris' } },
        { name: 'time', arguments: '{}' },
      ]);
    }).not.toThrow();
  });

  it('should list every difference', () => {
    const error = thrown(() => {
      expectToolCalls(toolChunks, [
        { id: 'call_9', name: 'weather', arguments: { city: 'Lyon', unit: 'C', days: 3 } },
        { name: 'clock' },
        { name: 'extra' },
      ]);
    });
    expect(error.message).toContain('expected 3 tool call(s), got 2');
    expect(error.message).toContain('toolCalls[0].id: expected "call_9", got "call_1"');
    expect(error.message).toContain('toolCalls[0].arguments.city: expected "Lyon", got "Paris"');
    expect(error.message).toContain('toolCalls[0].arguments.days: missing, expected 3');
    expect(error.message).toContain('toolCalls[1].name: expected "clock", got "time"');
    expect(error.message).toContain('actual tool calls: [{"id":"call_1"');
  });

  it('should report arguments that are not JSON', () => {
    const broken = [toolCallChunk({ id: 'c', name: 'f', arguments: '{"a":' })];
    expect(
      thrown(() => {
        expectToolCalls(broken, [{ name: 'f', arguments: { a: 1 } }]);
      }).message,
    ).toContain('toolCalls[0].arguments are not valid JSON: "{\\"a\\":"');
  });

  it('should compare text arguments exactly', () => {
    expect(
      thrown(() => {
        expectToolCalls(toolChunks.slice(2), [{ name: 'time', arguments: '{ }' }]);
      }).message,
    ).toContain('toolCalls[0].arguments: the text differs at character 1.');
  });
});

describe('expectUsage', () => {
  const chunks = [
    textChunk('a'),
    usageChunk({ prompt: 12, completion: 2, cached: 8, reasoning: 1 }),
  ];

  it('should check only the given counts', () => {
    expect(() => {
      expectUsage(chunks, { prompt: 12 });
    }).not.toThrow();
    expect(() => {
      expectUsage(chunks, {
        prompt: 12,
        completion: 2,
        total: 14,
        cached: 8,
        cacheWrite: 0,
        reasoning: 1,
      });
    }).not.toThrow();
  });

  it('should list the counts that differ', () => {
    const error = thrown(() => {
      expectUsage(chunks, { prompt: 10, cached: 0 });
    });
    expect(error.message).toMatch(
      /^expectUsage: prompt: expected 10, got 12; cached: expected 0, got 8\./,
    );
    expect(error.message).toContain('actual usage: {"prompt_tokens":12');
  });

  it('should fail when no chunk carried usage', () => {
    expect(
      thrown(() => {
        expectUsage([textChunk('a')], { prompt: 1 });
      }).message,
    ).toMatch(/no chunk carried usage/);
  });
});

describe('expectFinishReason', () => {
  it('should check the finish reason, or that there is none', () => {
    expect(() => {
      expectFinishReason(chunksFromText('a'), 'stop');
    }).not.toThrow();
    expect(() => {
      expectFinishReason([textChunk('a')], null);
    }).not.toThrow();
    expect(
      thrown(() => {
        expectFinishReason([textChunk('a')], 'stop');
      }).message,
    ).toBe('expectFinishReason: expected "stop", got null.');
  });
});
