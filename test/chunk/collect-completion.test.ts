import { from, lastValueFrom, throwError, concat, toArray, firstValueFrom } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { collectCompletion, toCompletion } from '../../src/chunk/collect-completion';
import type { ChatCompletion } from '../../src/chunk/chat-completion';
import type {
  ChunkChoice,
  ChunkDelta,
  FinishReason,
  StreamingChunk,
  TokenLogprob,
  Usage,
} from '../../src/chunk/streaming-chunk';
import { IncompleteStreamError } from '../../src/errors/index';

const CREATED = 1_767_225_600;

/** A chunk of the OpenAI stream `chatcmpl-1`, with `extra` fields overriding. */
function chunk(choices: ChunkChoice[], extra: Partial<StreamingChunk> = {}): StreamingChunk {
  return {
    id: 'chatcmpl-1',
    object: 'chat.completion.chunk',
    created: CREATED,
    model: 'gpt-4o',
    provider: 'openai',
    choices,
    ...extra,
  };
}

function delta(d: ChunkDelta, index = 0): ChunkChoice {
  return { index, delta: d, finish_reason: null };
}

function finished(reason: FinishReason, raw?: string, index = 0): ChunkChoice {
  return raw === undefined
    ? { index, delta: {}, finish_reason: reason }
    : { index, delta: {}, finish_reason: reason, raw_finish_reason: raw };
}

const usage: Usage = {
  prompt_tokens: 12,
  completion_tokens: 5,
  total_tokens: 17,
  prompt_tokens_details: { cached_tokens: 4 },
};

/** Hello, world: the chunks and the completion they fold into. */
const a = chunk([delta({ role: 'assistant', content: '', refusal: null })]);
const b = chunk([delta({ content: 'Hello' })]);
const c = chunk([delta({ content: ', world' }), finished('stop')]);
const helloCompletion: ChatCompletion = {
  id: 'chatcmpl-1',
  object: 'chat.completion',
  created: CREATED,
  model: 'gpt-4o',
  provider: 'openai',
  choices: [
    {
      index: 0,
      message: { role: 'assistant', content: 'Hello, world', refusal: null },
      finish_reason: 'stop',
    },
  ],
};

describe('collectCompletion (marbles)', () => {
  let testScheduler: TestScheduler;

  beforeEach(() => {
    testScheduler = new TestScheduler((actual, expected) => {
      expect(actual).toEqual(expected);
    });
  });

  it('should emit one completion when the source completes', () => {
    testScheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('  -a--b--c--|', { a, b, c });
      const sourceSubs = '   ^---------!';
      const expected = '     ----------(x|)';

      expectObservable(source.pipe(collectCompletion())).toBe(expected, { x: helloCompletion });
      expectSubscriptions(source.subscriptions).toBe(sourceSubs);
    });
  });

  it('should pass an error through and emit no completion', () => {
    const error = new IncompleteStreamError('The openai stream broke off.', { provider: 'openai' });
    testScheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('  -a--b--#', { a, b }, error);
      const sourceSubs = '   ^------!';
      const expected = '     -------#';

      expectObservable(source.pipe(collectCompletion())).toBe(expected, undefined, error);
      expectSubscriptions(source.subscriptions).toBe(sourceSubs);
    });
  });

  it('should emit nothing, and unsubscribe from the source, when unsubscribed early', () => {
    testScheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('  -a--b--c--|', { a, b, c });
      const unsub = '        ^----!';
      const sourceSubs = '   ^----!';
      const expected = '     ------';

      expectObservable(source.pipe(collectCompletion()), unsub).toBe(expected);
      expectSubscriptions(source.subscriptions).toBe(sourceSubs);
    });
  });

  it('should give each subscription its own accumulator', () => {
    testScheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('  -a--b--c--|', { a, b, c });
      const completion$ = source.pipe(collectCompletion());
      const sub2 = '         --^';
      const expected1 = '    ----------(x|)';
      const expected2 = '    ------------(x|)';

      expectObservable(completion$).toBe(expected1, { x: helloCompletion });
      expectObservable(completion$, sub2).toBe(expected2, { x: helloCompletion });
      expectSubscriptions(source.subscriptions).toBe(['^---------!', '--^---------!']);
    });
  });

  it('should fold only what each subscriber to a hot source saw', () => {
    testScheduler.run(({ hot, expectObservable }) => {
      const w = chunk([delta({ role: 'assistant', content: 'Bye. ' })]);
      const source = hot('   -w--b--c--|', { w, b, c });
      const completion$ = source.pipe(collectCompletion());
      const late = '         --^';
      const expected = '     ----------(x|)';
      const withBye: ChatCompletion = {
        ...helloCompletion,
        choices: [
          {
            index: 0,
            message: { role: 'assistant', content: 'Bye. Hello, world', refusal: null },
            finish_reason: 'stop',
          },
        ],
      };

      expectObservable(completion$).toBe(expected, { x: withBye });
      // A shared accumulator would give the late subscriber "Bye. Hello, world" as well.
      expectObservable(completion$, late).toBe(expected, { x: helloCompletion });
    });
  });
});

describe('collectCompletion (content)', () => {
  it('should join the text of a choice', async () => {
    await expect(toCompletion(from([a, b, c]))).resolves.toEqual(helloCompletion);
  });

  it('should join the log probabilities of a choice in order, and add none when no chunk had any', async () => {
    const lp = (text: string, logprob: number): TokenLogprob => ({
      token: text,
      logprob,
      bytes: null,
      top_logprobs: [],
    });
    const completion = await toCompletion(
      from([
        a,
        chunk([
          {
            ...delta({ content: 'Hello' }),
            logprobs: { content: [lp('Hello', -0.1)], refusal: null },
          },
        ]),
        chunk([
          {
            ...delta({ content: ', world' }),
            logprobs: { content: [lp(',', -0.2), lp(' world', -0.3)], refusal: null },
          },
          finished('stop'),
        ]),
      ]),
    );
    expect(completion.choices[0]!.logprobs).toEqual({
      content: [lp('Hello', -0.1), lp(',', -0.2), lp(' world', -0.3)],
      refusal: null,
    });
    expect((await toCompletion(from([a, b, c]))).choices[0]).not.toHaveProperty('logprobs');
  });

  it('should keep the annotations of a choice in order', async () => {
    const cite = (url: string): Record<string, unknown> => ({
      type: 'url_citation',
      url_citation: { url },
    });
    const completion = await toCompletion(
      from([
        a,
        chunk([delta({ content: 'Hello', annotations: [cite('https://a.example')] })]),
        chunk([
          delta({ content: ', world', annotations: [cite('https://b.example')] }),
          finished('stop'),
        ]),
      ]),
    );
    expect(completion.choices[0]!.message.annotations).toEqual([
      cite('https://a.example'),
      cite('https://b.example'),
    ]);
    expect((await toCompletion(from([a, b, c]))).choices[0]!.message).not.toHaveProperty(
      'annotations',
    );
  });

  it('should join a refusal and leave content null', async () => {
    const completion = await toCompletion(
      from([
        chunk([delta({ role: 'assistant', content: null, refusal: '' })]),
        chunk([delta({ refusal: "I'm sorry, " })]),
        chunk([delta({ refusal: "I can't help with that." })]),
        chunk([finished('stop')]),
      ]),
    );
    expect(completion.choices[0]!.message).toEqual({
      role: 'assistant',
      content: null,
      refusal: "I'm sorry, I can't help with that.",
    });
  });

  it('should join reasoning separately from the text', async () => {
    const completion = await toCompletion(
      from([
        chunk([delta({ reasoning: 'The user greets; ' })]),
        chunk([delta({ reasoning: 'greet back.' })]),
        chunk([delta({ content: 'Hi!' })]),
        chunk([finished('stop')]),
      ]),
    );
    expect(completion.choices[0]!.message).toEqual({
      role: 'assistant',
      content: 'Hi!',
      refusal: null,
      reasoning: 'The user greets; greet back.',
    });
  });

  it('should not add a reasoning field when no reasoning streamed', async () => {
    const completion = await toCompletion(from([a, b, c]));
    expect(completion.choices[0]!.message).not.toHaveProperty('reasoning');
    expect(completion.choices[0]!.message).not.toHaveProperty('tool_calls');
  });

  it('should assemble two interleaved parallel tool calls by index', async () => {
    const call = (index: number, fn: { name?: string; arguments?: string }, id?: string) =>
      delta({
        tool_calls: [
          id === undefined
            ? { index, function: fn }
            : { index, id, type: 'function' as const, function: fn },
        ],
      });
    const completion = await toCompletion(
      from([
        chunk([delta({ role: 'assistant', content: null })]),
        chunk([call(0, { name: 'get_weather', arguments: '' }, 'call_weather')]),
        chunk([call(1, { name: 'get_time', arguments: '' }, 'call_time')]),
        chunk([call(0, { arguments: '{"ci' })]),
        chunk([call(1, { arguments: '{"tz":' })]),
        chunk([call(0, { arguments: 'ty":"Pa' })]),
        chunk([call(1, { arguments: '"Europe/Paris"}' })]),
        chunk([call(0, { arguments: 'ris"}' })]),
        chunk([finished('tool_calls')]),
      ]),
    );
    expect(completion.choices).toEqual([
      {
        index: 0,
        message: {
          role: 'assistant',
          content: null,
          refusal: null,
          tool_calls: [
            {
              id: 'call_weather',
              type: 'function',
              function: { name: 'get_weather', arguments: '{"city":"Paris"}' },
            },
            {
              id: 'call_time',
              type: 'function',
              function: { name: 'get_time', arguments: '{"tz":"Europe/Paris"}' },
            },
          ],
        },
        finish_reason: 'tool_calls',
      },
    ]);
  });

  it('should order tool calls by index even when a later index starts first', async () => {
    const completion = await toCompletion(
      from([
        chunk([
          delta({
            tool_calls: [
              { index: 1, id: 'call_b', function: { name: 'b', arguments: '{}' } },
              { index: 0, id: 'call_a', function: { name: 'a', arguments: '{}' } },
            ],
          }),
        ]),
        chunk([finished('tool_calls')]),
      ]),
    );
    expect(completion.choices[0]!.message.tool_calls!.map((t) => t.id)).toEqual([
      'call_a',
      'call_b',
    ]);
  });

  it('should keep n=2 choices apart, ordered by index', async () => {
    const completion = await toCompletion(
      from([
        chunk([delta({ content: 'Blue' }, 1), delta({ content: 'Red' }, 0)]),
        chunk([delta({ content: ' sky' }, 0)]),
        chunk([delta({ content: ' sea' }, 1), finished('stop', undefined, 0)]),
        chunk([finished('length', undefined, 1)]),
      ]),
    );
    expect(completion.choices).toEqual([
      {
        index: 0,
        message: { role: 'assistant', content: 'Red sky', refusal: null },
        finish_reason: 'stop',
      },
      {
        index: 1,
        message: { role: 'assistant', content: 'Blue sea', refusal: null },
        finish_reason: 'length',
      },
    ]);
  });

  it('should keep the finish reason and the raw finish reason', async () => {
    const completion = await toCompletion(
      from([
        chunk([delta({ content: 'Hi' })], { provider: 'anthropic', model: 'claude-sonnet-4' }),
        chunk([finished('length', 'max_tokens')], {
          provider: 'anthropic',
          model: 'claude-sonnet-4',
        }),
      ]),
    );
    expect(completion.choices[0]!.finish_reason).toBe('length');
    expect(completion.choices[0]!.raw_finish_reason).toBe('max_tokens');
  });

  it('should leave the finish reason null, and no raw reason, when none arrived', async () => {
    const completion = await toCompletion(from([a, b]));
    expect(completion.choices[0]!.finish_reason).toBeNull();
    expect(completion.choices[0]).not.toHaveProperty('raw_finish_reason');
  });

  it('should take the usage from the usage-only chunk', async () => {
    const completion = await toCompletion(from([a, b, c, chunk([], { usage })]));
    expect(completion.usage).toEqual(usage);
    expect(completion.choices).toEqual(helloCompletion.choices);
  });

  it('should have no usage when no chunk carried any', async () => {
    const completion = await toCompletion(from([a, b, c]));
    expect(completion).not.toHaveProperty('usage');
  });

  it('should let the last chunk name the model and provider, and the first the id', async () => {
    const completion = await toCompletion(
      from([
        chunk([delta({ content: 'Hel' })]),
        chunk([delta({ content: 'lo' })], {
          id: 'msg_01',
          created: CREATED + 5,
          model: 'claude-sonnet-4',
          provider: 'anthropic',
        }),
        chunk([finished('stop', 'end_turn')], { id: 'msg_01', model: '', provider: 'anthropic' }),
      ]),
    );
    expect(completion.id).toBe('chatcmpl-1');
    expect(completion.created).toBe(CREATED);
    expect(completion.model).toBe('claude-sonnet-4');
    expect(completion.provider).toBe('anthropic');
    expect(completion.choices[0]!.message.content).toBe('Hello');
  });

  it('should reject toCompletion with the stream error', async () => {
    const error = new IncompleteStreamError('cut', { provider: 'openai', partialText: 'Hello' });
    await expect(
      toCompletion(
        concat(
          from([a, b]),
          throwError(() => error),
        ),
      ),
    ).rejects.toBe(error);
  });

  it('should give two subscriptions independent completions', async () => {
    const completion$ = from([a, b, c]).pipe(collectCompletion());
    const first = await firstValueFrom(completion$);
    const second = await firstValueFrom(completion$);
    expect(first).toEqual(helloCompletion);
    expect(second).toEqual(helloCompletion);
    expect(second).not.toBe(first);
    // Mutating one result must not leak into the other.
    first.choices[0]!.message.content = 'changed';
    expect(second.choices[0]!.message.content).toBe('Hello, world');
  });

  it('should emit exactly one completion', async () => {
    const all = await lastValueFrom(from([a, b, c]).pipe(collectCompletion(), toArray()));
    expect(all).toHaveLength(1);
  });
});
