import { ValidationError } from '../../src/errors/validation-error';
import {
  ANTHROPIC_DEFAULT_MAX_TOKENS,
  toAnthropicRequest,
  toAnthropicToolId,
} from '../../src/providers/anthropic/convert-to-anthropic-request';
import type { ChatMessage, ChatRequest } from '../../src/request/chat-request';

const PNG =
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==';
const PDF = 'JVBERi0xLjQKJcOkw7zDtsOfCjIgMCBvYmoK';

function request(messages: unknown[], extra: Record<string, unknown> = {}): ChatRequest {
  return { model: 'gpt-4o', messages, ...extra } as ChatRequest;
}

const hi = { role: 'user', content: 'Hi' } satisfies ChatMessage;

/** Runs the conversion and returns the ValidationError it throws. */
function errorOf(input: ChatRequest): ValidationError {
  try {
    toAnthropicRequest(input);
  } catch (error) {
    if (error instanceof ValidationError) return error;
    throw error;
  }
  throw new Error('expected toAnthropicRequest to throw a ValidationError');
}

const weatherTool = {
  type: 'function',
  function: {
    name: 'get_weather',
    description: 'Current weather',
    parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
  },
};

function toolCall(id: string, name: string, args: string) {
  return { id, type: 'function', function: { name, arguments: args } };
}

describe('toAnthropicRequest: basics', () => {
  it('should build a streaming Messages body with the model override', () => {
    expect(toAnthropicRequest(request([hi]), { model: 'claude-sonnet-4-5' })).toEqual({
      model: 'claude-sonnet-4-5',
      max_tokens: ANTHROPIC_DEFAULT_MAX_TOKENS,
      messages: [{ role: 'user', content: [{ type: 'text', text: 'Hi' }] }],
      stream: true,
    });
  });

  it('should keep request.model when no override is given', () => {
    expect(toAnthropicRequest(request([hi])).model).toBe('gpt-4o');
  });

  it('should default max_tokens to 4096', () => {
    expect(ANTHROPIC_DEFAULT_MAX_TOKENS).toBe(4096);
    expect(toAnthropicRequest(request([hi])).max_tokens).toBe(4096);
  });

  it('should take max_tokens from max_completion_tokens, then max_tokens, then the default', () => {
    expect(
      toAnthropicRequest(request([hi], { max_completion_tokens: 100, max_tokens: 200 })).max_tokens,
    ).toBe(100);
    expect(toAnthropicRequest(request([hi], { max_tokens: 200 })).max_tokens).toBe(200);
    expect(toAnthropicRequest(request([hi]), { defaultMaxTokens: 1000 }).max_tokens).toBe(1000);
  });

  it('should not send unknown extra fields or OpenAI-only fields', () => {
    const body = toAnthropicRequest(
      request([hi], { seed: 1, presence_penalty: 1, logit_bias: {}, fallbacks: ['x'] }),
    );
    expect(Object.keys(body).sort()).toEqual(['max_tokens', 'messages', 'model', 'stream']);
  });

  it('should reject a request with no user or assistant content', () => {
    const error = errorOf(request([{ role: 'system', content: 'Be terse.' }]));
    expect(error.param).toBe('messages');
    expect(error.provider).toBe('anthropic');
  });
});

describe('toAnthropicRequest: system messages', () => {
  it('should move system and developer messages to the top-level system, wherever they appear', () => {
    const body = toAnthropicRequest(
      request([
        { role: 'system', content: 'Be terse.' },
        hi,
        { role: 'developer', content: 'Answer in French.' },
        { role: 'assistant', content: 'Salut' },
        { role: 'user', content: 'Ça va ?' },
      ]),
    );
    expect(body.system).toBe('Be terse.\n\nAnswer in French.');
    expect(body.messages.map((m) => m.role)).toEqual(['user', 'assistant', 'user']);
  });

  it('should join the text parts of a system message with blank lines', () => {
    const body = toAnthropicRequest(
      request([
        {
          role: 'system',
          content: [
            { type: 'text', text: 'You are a pirate.' },
            { type: 'text', text: 'Today is Monday.' },
          ],
        },
        hi,
      ]),
    );
    expect(body.system).toBe('You are a pirate.\n\nToday is Monday.');
  });

  it('should send system text blocks when a part carries cache_control', () => {
    const body = toAnthropicRequest(
      request([
        {
          role: 'system',
          content: [{ type: 'text', text: 'Long context', cache_control: { type: 'ephemeral' } }],
        },
        { role: 'system', content: 'Be terse.' },
        hi,
      ]),
    );
    expect(body.system).toEqual([
      { type: 'text', text: 'Long context', cache_control: { type: 'ephemeral' } },
      { type: 'text', text: 'Be terse.' },
    ]);
  });

  it('should leave system out when there is none', () => {
    expect(toAnthropicRequest(request([hi]))).not.toHaveProperty('system');
  });
});

describe('toAnthropicRequest: user content', () => {
  it('should turn text parts into text blocks and drop empty ones', () => {
    const body = toAnthropicRequest(
      request([
        {
          role: 'user',
          content: [
            { type: 'text', text: 'Look' },
            { type: 'text', text: '' },
            { type: 'text', text: 'here', cache_control: { type: 'ephemeral' } },
          ],
        },
      ]),
    );
    expect(body.messages[0]!.content).toEqual([
      { type: 'text', text: 'Look' },
      { type: 'text', text: 'here', cache_control: { type: 'ephemeral' } },
    ]);
  });

  it('should turn a data: URL image into a base64 image block', () => {
    const body = toAnthropicRequest(
      request([
        {
          role: 'user',
          content: [{ type: 'image_url', image_url: { url: `data:image/png;base64,${PNG}` } }],
        },
      ]),
    );
    expect(body.messages[0]!.content).toEqual([
      { type: 'image', source: { type: 'base64', media_type: 'image/png', data: PNG } },
    ]);
  });

  it('should normalize image/jpg to image/jpeg', () => {
    const body = toAnthropicRequest(
      request([
        {
          role: 'user',
          content: [{ type: 'image_url', image_url: { url: 'data:image/jpg;base64,AAAA' } }],
        },
      ]),
    );
    expect(body.messages[0]!.content[0]).toMatchObject({ source: { media_type: 'image/jpeg' } });
  });

  it('should turn an http(s) image URL into a url image block', () => {
    const url = 'https://example.com/cat.png?size=large';
    const body = toAnthropicRequest(
      request([{ role: 'user', content: [{ type: 'image_url', image_url: { url } }] }]),
    );
    expect(body.messages[0]!.content).toEqual([{ type: 'image', source: { type: 'url', url } }]);
  });

  it.each([
    ['an unsupported image type', 'data:image/bmp;base64,AAAA', 'image/bmp'],
    ['a data: URL that is not base64', 'data:image/svg+xml,%3Csvg%3E', 'base64'],
    ['another URL scheme', 'ftp://example.com/cat.png', 'http(s)'],
  ])('should reject %s, naming the field', (_name, url, words) => {
    const error = errorOf(
      request([
        hi,
        { role: 'assistant', content: 'Yes?' },
        {
          role: 'user',
          content: [
            { type: 'text', text: 'see' },
            { type: 'image_url', image_url: { url } },
          ],
        },
      ]),
    );
    expect(error.param).toBe('messages[2].content[1].image_url.url');
    expect(error.message).toContain(words);
  });

  it('should turn a base64 PDF file into a document block', () => {
    const body = toAnthropicRequest(
      request([
        {
          role: 'user',
          content: [
            {
              type: 'file',
              file: { file_data: `data:application/pdf;base64,${PDF}`, filename: 'a.pdf' },
            },
            { type: 'file', file: { file_data: PDF } },
          ],
        },
      ]),
    );
    expect(body.messages[0]!.content).toEqual([
      {
        type: 'document',
        source: { type: 'base64', media_type: 'application/pdf', data: PDF },
        title: 'a.pdf',
      },
      { type: 'document', source: { type: 'base64', media_type: 'application/pdf', data: PDF } },
    ]);
  });

  it('should reject a file given by OpenAI file id', () => {
    const error = errorOf(
      request([{ role: 'user', content: [{ type: 'file', file: { file_id: 'file-abc' } }] }]),
    );
    expect(error.param).toBe('messages[0].content[0].file.file_id');
  });

  it('should reject a non-PDF file', () => {
    const error = errorOf(
      request([
        {
          role: 'user',
          content: [{ type: 'file', file: { file_data: 'data:text/csv;base64,YSxi' } }],
        },
      ]),
    );
    expect(error.param).toBe('messages[0].content[0].file.file_data');
  });

  it('should reject input_audio as unsupported', () => {
    const error = errorOf(
      request([
        {
          role: 'user',
          content: [{ type: 'input_audio', input_audio: { data: 'AAAA', format: 'wav' } }],
        },
      ]),
    );
    expect(error).toBeInstanceOf(ValidationError);
    expect(error.param).toBe('messages[0].content[0]');
    expect(error.message).toContain('audio');
  });
});

describe('toAnthropicRequest: tools', () => {
  it('should map tools to name, description and input_schema', () => {
    const body = toAnthropicRequest(
      request([hi], {
        tools: [weatherTool, { type: 'function', function: { name: 'now' } }],
      }),
    );
    expect(body.tools).toEqual([
      {
        name: 'get_weather',
        description: 'Current weather',
        input_schema: weatherTool.function.parameters,
      },
      { name: 'now', input_schema: { type: 'object', properties: {} } },
    ]);
  });

  it.each([
    ['auto', { type: 'auto' }],
    ['required', { type: 'any' }],
    ['none', { type: 'none' }],
    [
      { type: 'function', function: { name: 'get_weather' } },
      { type: 'tool', name: 'get_weather' },
    ],
  ])('should map tool_choice %j to %j', (choice, expected) => {
    const body = toAnthropicRequest(request([hi], { tools: [weatherTool], tool_choice: choice }));
    expect(body.tool_choice).toEqual(expected);
  });

  it('should leave tool_choice out when the request has none', () => {
    expect(toAnthropicRequest(request([hi], { tools: [weatherTool] }))).not.toHaveProperty(
      'tool_choice',
    );
  });

  it('should set disable_parallel_tool_use when parallel_tool_calls is false', () => {
    const parallelOff = { tools: [weatherTool], parallel_tool_calls: false };
    expect(toAnthropicRequest(request([hi], parallelOff)).tool_choice).toEqual({
      type: 'auto',
      disable_parallel_tool_use: true,
    });
    expect(
      toAnthropicRequest(request([hi], { ...parallelOff, tool_choice: 'required' })).tool_choice,
    ).toEqual({ type: 'any', disable_parallel_tool_use: true });
    expect(
      toAnthropicRequest(request([hi], { ...parallelOff, tool_choice: 'none' })).tool_choice,
    ).toEqual({ type: 'none' });
  });

  it('should drop tools and tool_choice when the tool list is empty', () => {
    const body = toAnthropicRequest(request([hi], { tools: [], tool_choice: 'auto' }));
    expect(body).not.toHaveProperty('tools');
    expect(body).not.toHaveProperty('tool_choice');
  });

  it('should reject a named tool_choice that names no tool', () => {
    const error = errorOf(
      request([hi], {
        tools: [weatherTool],
        tool_choice: { type: 'function', function: { name: 'get_time' } },
      }),
    );
    expect(error.param).toBe('tool_choice.function.name');
  });
});

describe('toAnthropicRequest: assistant turns and tool results', () => {
  it('should turn assistant tool_calls into tool_use blocks after the text', () => {
    const body = toAnthropicRequest(
      request([
        hi,
        {
          role: 'assistant',
          content: 'Let me check.',
          tool_calls: [
            toolCall('call_1', 'get_weather', '{"city":"Paris"}'),
            toolCall('call_2', 'now', ''),
          ],
        },
        { role: 'tool', tool_call_id: 'call_1', content: '18°C' },
        { role: 'tool', tool_call_id: 'call_2', content: '' },
      ]),
    );
    expect(body.messages[1]).toEqual({
      role: 'assistant',
      content: [
        { type: 'text', text: 'Let me check.' },
        { type: 'tool_use', id: 'call_1', name: 'get_weather', input: { city: 'Paris' } },
        { type: 'tool_use', id: 'call_2', name: 'now', input: {} },
      ],
    });
  });

  it('should reject invalid tool-call JSON, naming the arguments field', () => {
    const error = errorOf(
      request([
        hi,
        {
          role: 'assistant',
          content: null,
          tool_calls: [
            toolCall('call_1', 'now', '{}'),
            toolCall('call_2', 'get_weather', '{"city":'),
          ],
        },
      ]),
    );
    expect(error.param).toBe('messages[1].tool_calls[1].function.arguments');
    expect(error.cause).toBeInstanceOf(SyntaxError);
  });

  it('should reject tool-call arguments that are JSON but not an object', () => {
    const error = errorOf(
      request([
        hi,
        { role: 'assistant', content: null, tool_calls: [toolCall('c', 'now', '[1]')] },
      ]),
    );
    expect(error.param).toBe('messages[1].tool_calls[0].function.arguments');
  });

  it('should ignore assistant reasoning and keep refusals as text', () => {
    const body = toAnthropicRequest(
      request([
        hi,
        {
          role: 'assistant',
          content: [{ type: 'refusal', refusal: 'I cannot.' }],
          reasoning: 'hmm',
        },
        { role: 'user', content: 'Why?' },
        { role: 'assistant', content: null, refusal: 'Policy.' },
        { role: 'user', content: 'OK' },
      ]),
    );
    expect(body.messages[1]!.content).toEqual([{ type: 'text', text: 'I cannot.' }]);
    expect(body.messages[3]!.content).toEqual([{ type: 'text', text: 'Policy.' }]);
  });

  it('should turn tool messages into user-role tool_result blocks', () => {
    const body = toAnthropicRequest(
      request([
        hi,
        { role: 'assistant', content: null, tool_calls: [toolCall('call_1', 'get_weather', '{}')] },
        { role: 'tool', tool_call_id: 'call_1', content: [{ type: 'text', text: '18°C' }] },
      ]),
    );
    expect(body.messages[2]).toEqual({
      role: 'user',
      content: [
        { type: 'tool_result', tool_use_id: 'call_1', content: [{ type: 'text', text: '18°C' }] },
      ],
    });
  });

  it('should merge consecutive tool results and a following user text into one user message', () => {
    const body = toAnthropicRequest(
      request([
        hi,
        {
          role: 'assistant',
          content: null,
          tool_calls: [toolCall('call_1', 'get_weather', '{}'), toolCall('call_2', 'now', '{}')],
        },
        { role: 'tool', tool_call_id: 'call_1', content: '18°C' },
        { role: 'tool', tool_call_id: 'call_2', content: '12:00' },
        { role: 'user', content: 'And tomorrow?' },
      ]),
    );
    expect(body.messages).toHaveLength(3);
    expect(body.messages[2]).toEqual({
      role: 'user',
      content: [
        { type: 'tool_result', tool_use_id: 'call_1', content: '18°C' },
        { type: 'tool_result', tool_use_id: 'call_2', content: '12:00' },
        { type: 'text', text: 'And tomorrow?' },
      ],
    });
  });

  it('should put tool results first when a user text comes before them', () => {
    const body = toAnthropicRequest(
      request([
        hi,
        { role: 'assistant', content: null, tool_calls: [toolCall('call_1', 'now', '{}')] },
        { role: 'user', content: 'Quick!' },
        { role: 'tool', tool_call_id: 'call_1', content: '12:00' },
      ]),
    );
    expect(body.messages[2]!.content.map((block) => block.type)).toEqual(['tool_result', 'text']);
  });

  it('should merge consecutive user and consecutive assistant messages', () => {
    const body = toAnthropicRequest(
      request([
        { role: 'user', content: 'One' },
        { role: 'user', content: 'Two' },
        { role: 'assistant', content: 'A' },
        { role: 'assistant', content: 'B' },
        { role: 'user', content: 'Three' },
      ]),
    );
    expect(body.messages).toEqual([
      {
        role: 'user',
        content: [
          { type: 'text', text: 'One' },
          { type: 'text', text: 'Two' },
        ],
      },
      {
        role: 'assistant',
        content: [
          { type: 'text', text: 'A' },
          { type: 'text', text: 'B' },
        ],
      },
      { role: 'user', content: [{ type: 'text', text: 'Three' }] },
    ]);
  });

  it('should rewrite tool-call ids Anthropic rejects, the same way in tool_use and tool_result', () => {
    const id = 'functions.get_weather:0';
    const body = toAnthropicRequest(
      request([
        hi,
        { role: 'assistant', content: null, tool_calls: [toolCall(id, 'get_weather', '{}')] },
        { role: 'tool', tool_call_id: id, content: 'sunny' },
      ]),
    );
    const use = body.messages[1]!.content[0] as { id: string };
    const result = body.messages[2]!.content[0] as { tool_use_id: string };
    expect(use.id).toMatch(/^[a-zA-Z0-9_-]+$/);
    expect(result.tool_use_id).toBe(use.id);
    expect(toAnthropicToolId('call_abc-1')).toBe('call_abc-1');
    expect(toAnthropicToolId('a.b')).not.toBe(toAnthropicToolId('a:b'));
  });

  it('should reject a tool message whose id matches no earlier tool call', () => {
    const error = errorOf(request([hi, { role: 'tool', tool_call_id: 'call_9', content: 'x' }]));
    expect(error.param).toBe('messages[1].tool_call_id');
  });
});

describe('toAnthropicRequest: prefill', () => {
  it('should keep a trailing assistant message last, trimming its trailing whitespace', () => {
    const body = toAnthropicRequest(
      request([hi, { role: 'assistant', content: 'The answer is: \n' }]),
    );
    expect(body.messages[1]).toEqual({
      role: 'assistant',
      content: [{ type: 'text', text: 'The answer is:' }],
    });
  });

  it('should not trim assistant text that is not the final message', () => {
    const body = toAnthropicRequest(
      request([hi, { role: 'assistant', content: 'Hello! ' }, { role: 'user', content: 'Hi' }]),
    );
    expect(body.messages[1]!.content).toEqual([{ type: 'text', text: 'Hello! ' }]);
  });

  it('should drop a trailing assistant message that is only whitespace', () => {
    const body = toAnthropicRequest(request([hi, { role: 'assistant', content: '  ' }]));
    expect(body.messages).toHaveLength(1);
  });
});

describe('toAnthropicRequest: sampling and other parameters', () => {
  it('should pass temperature, top_p and top_k through', () => {
    const body = toAnthropicRequest(request([hi], { temperature: 0.7, top_p: 0.9, top_k: 40 }));
    expect(body).toMatchObject({ temperature: 0.7, top_p: 0.9, top_k: 40 });
  });

  it('should reject a temperature above 1', () => {
    const error = errorOf(request([hi], { temperature: 1.5 }));
    expect(error.param).toBe('temperature');
    expect(error.message).toContain('Anthropic accepts 0 to 1');
  });

  it('should turn stop into a stop_sequences array', () => {
    expect(toAnthropicRequest(request([hi], { stop: 'END' })).stop_sequences).toEqual(['END']);
    expect(toAnthropicRequest(request([hi], { stop: ['A', 'B'] })).stop_sequences).toEqual([
      'A',
      'B',
    ]);
    expect(toAnthropicRequest(request([hi], { stop: null }))).not.toHaveProperty('stop_sequences');
  });

  it('should reject a whitespace-only stop sequence', () => {
    expect(errorOf(request([hi], { stop: ['END', '\n'] })).param).toBe('stop[1]');
    expect(errorOf(request([hi], { stop: ' ' })).param).toBe('stop');
  });

  it('should send user as metadata.user_id', () => {
    const body = toAnthropicRequest(request([hi], { user: 'u-42', metadata: { team: 'a' } }));
    expect(body.metadata).toEqual({ user_id: 'u-42' });
  });

  it('should reject n > 1 and accept n = 1', () => {
    expect(errorOf(request([hi], { n: 2 })).param).toBe('n');
    expect(() => toAnthropicRequest(request([hi], { n: 1 }))).not.toThrow();
  });

  it('should reject logprobs: true, which Anthropic cannot answer, and accept false', () => {
    const error = errorOf(request([hi], { logprobs: true }));
    expect(error.param).toBe('logprobs');
    expect(error.provider).toBe('anthropic');
    expect(toAnthropicRequest(request([hi], { logprobs: false }))).not.toHaveProperty('logprobs');
  });

  it('should add a JSON instruction to system for response_format json_object', () => {
    const body = toAnthropicRequest(
      request([{ role: 'system', content: 'Be terse.' }, hi], {
        response_format: { type: 'json_object' },
      }),
    );
    expect(body.system).toMatch(/^Be terse\.\n\nRespond with a single valid JSON object/);
  });

  it('should add the schema to the instruction for response_format json_schema', () => {
    const schema = { type: 'object', properties: { a: { type: 'number' } } };
    const body = toAnthropicRequest(
      request([hi], {
        response_format: { type: 'json_schema', json_schema: { name: 'out', schema } },
      }),
    );
    expect(body.system).toContain(JSON.stringify(schema));
  });

  it('should ignore response_format text', () => {
    const body = toAnthropicRequest(request([hi], { response_format: { type: 'text' } }));
    expect(body).not.toHaveProperty('system');
  });
});

describe('toAnthropicRequest: reasoning_effort', () => {
  it.each([
    ['low', 1024],
    ['medium', 4096],
    ['high', 16384],
  ])('should map reasoning_effort %s to a %i-token thinking budget', (effort, budget) => {
    const body = toAnthropicRequest(request([hi], { reasoning_effort: effort, max_tokens: 32000 }));
    expect(body.thinking).toEqual({ type: 'enabled', budget_tokens: budget });
    expect(body.max_tokens).toBe(32000);
  });

  it('should send no thinking for reasoning_effort minimal', () => {
    expect(toAnthropicRequest(request([hi], { reasoning_effort: 'minimal' }))).not.toHaveProperty(
      'thinking',
    );
  });

  it('should raise max_tokens above the budget when needed', () => {
    const body = toAnthropicRequest(request([hi], { reasoning_effort: 'high', max_tokens: 1000 }));
    expect(body.max_tokens).toBe(16384 + 1000);
    const byDefault = toAnthropicRequest(request([hi], { reasoning_effort: 'medium' }));
    expect(byDefault.max_tokens).toBe(4096 + 4096);
  });

  it.each<[string, unknown[], Record<string, unknown>]>([
    ['temperature is not 1', [hi], { temperature: 0.2 }],
    ['top_p is below 0.95', [hi], { top_p: 0.5 }],
    ['top_k is set', [hi], { top_k: 10 }],
    ['tool_choice forces a tool', [hi], { tools: [weatherTool], tool_choice: 'required' }],
    ['the last message is a prefill', [hi, { role: 'assistant', content: '{' }], {}],
    [
      'the conversation ends in tool results',
      [
        hi,
        { role: 'assistant', content: null, tool_calls: [toolCall('c1', 'get_weather', '{}')] },
        { role: 'tool', tool_call_id: 'c1', content: 'sunny' },
      ],
      { tools: [weatherTool] },
    ],
  ])('should leave thinking out when %s', (_name, messages, extra) => {
    const body = toAnthropicRequest(request(messages, { reasoning_effort: 'high', ...extra }));
    expect(body).not.toHaveProperty('thinking');
  });

  it('should keep thinking with temperature 1 and tool_choice auto', () => {
    const body = toAnthropicRequest(
      request([hi], {
        reasoning_effort: 'low',
        temperature: 1,
        tools: [weatherTool],
        tool_choice: 'auto',
      }),
    );
    expect(body.thinking).toEqual({ type: 'enabled', budget_tokens: 1024 });
  });
});
