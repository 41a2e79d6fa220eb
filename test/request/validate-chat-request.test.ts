import { ValidationError } from '../../src/errors/index';
import { formatPath, validateChatRequest } from '../../src/request/validate-chat-request';

const user = { role: 'user', content: 'Hello' } as const;

/** A minimal valid request with `extra` merged in. */
function request(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { model: 'gpt-4o-mini', messages: [user], ...extra };
}

/** Runs validateChatRequest and returns the ValidationError it throws. */
function validationErrorOf(input: unknown): ValidationError {
  try {
    validateChatRequest(input);
  } catch (error) {
    if (error instanceof ValidationError) return error;
    throw error;
  }
  throw new Error('expected validateChatRequest to throw a ValidationError');
}

describe('validateChatRequest: valid requests', () => {
  it.each<[string, Record<string, unknown>]>([
    ['a system message', { role: 'system', content: 'You are terse.' }],
    [
      'a system message with text parts',
      { role: 'system', content: [{ type: 'text', text: 'Hi' }] },
    ],
    ['a developer message', { role: 'developer', content: 'Answer in French.', name: 'ops' }],
    ['a user message with a string', { role: 'user', content: 'What is 2+2?', name: 'ada' }],
    [
      'a user message with text and image_url parts',
      {
        role: 'user',
        content: [
          { type: 'text', text: 'What is in this picture?' },
          { type: 'image_url', image_url: { url: 'https://example.com/cat.png', detail: 'low' } },
          { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=' } },
        ],
      },
    ],
    [
      'a user message with an input_audio part',
      {
        role: 'user',
        content: [{ type: 'input_audio', input_audio: { data: 'UklG', format: 'wav' } }],
      },
    ],
    [
      'a user message with file parts',
      {
        role: 'user',
        content: [
          { type: 'file', file: { file_id: 'file-abc123' } },
          {
            type: 'file',
            file: { filename: 'a.pdf', file_data: 'data:application/pdf;base64,JVBE' },
          },
        ],
      },
    ],
    ['an assistant message with text', { role: 'assistant', content: 'Four.' }],
    [
      'an assistant message with tool_calls and null content',
      {
        role: 'assistant',
        content: null,
        tool_calls: [
          {
            id: 'call_1',
            type: 'function',
            function: { name: 'get_weather', arguments: '{"city":"Paris"}' },
          },
          { id: 'call_2', type: 'function', function: { name: 'get_time', arguments: '{}' } },
        ],
      },
    ],
    ['an assistant message with no content at all', { role: 'assistant', refusal: 'No.' }],
    [
      'an assistant message with a refusal part',
      { role: 'assistant', content: [{ type: 'refusal', refusal: 'I cannot help with that.' }] },
    ],
    [
      'a tool message with tool_call_id',
      { role: 'tool', tool_call_id: 'call_1', content: '{"temp_c":21}' },
    ],
  ])('should accept %s', (_label, message) => {
    const input = request({ messages: [message] });
    expect(validateChatRequest(input)).toEqual(input);
  });

  it('should accept a full tool-calling conversation', () => {
    const input = request({
      messages: [
        { role: 'system', content: 'Use tools.' },
        user,
        {
          role: 'assistant',
          content: null,
          tool_calls: [
            { id: 'call_1', type: 'function', function: { name: 'lookup', arguments: '{}' } },
          ],
        },
        { role: 'tool', tool_call_id: 'call_1', content: [{ type: 'text', text: 'found' }] },
      ],
      tools: [
        {
          type: 'function',
          function: {
            name: 'lookup',
            description: 'Looks something up.',
            parameters: { type: 'object', properties: { q: { type: 'string' } }, required: ['q'] },
            strict: true,
          },
        },
      ],
      parallel_tool_calls: false,
    });
    expect(validateChatRequest(input)).toEqual(input);
  });

  it.each<[string, unknown]>([
    ['none', 'none'],
    ['auto', 'auto'],
    ['required', 'required'],
    ['a named function', { type: 'function', function: { name: 'lookup' } }],
  ])('should accept tool_choice %s', (_label, toolChoice) => {
    const input = request({
      tools: [{ type: 'function', function: { name: 'lookup' } }],
      tool_choice: toolChoice,
    });
    expect(validateChatRequest(input).tool_choice).toEqual(toolChoice);
  });

  it.each<[string, unknown]>([
    ['text', { type: 'text' }],
    ['json_object', { type: 'json_object' }],
    [
      'json_schema',
      {
        type: 'json_schema',
        json_schema: {
          name: 'answer',
          strict: true,
          schema: { type: 'object', properties: { n: { type: 'integer' } }, required: ['n'] },
        },
      },
    ],
  ])('should accept response_format %s', (_label, format) => {
    expect(validateChatRequest(request({ response_format: format })).response_format).toEqual(
      format,
    );
  });

  it('should accept the sampling, streaming and metadata options', () => {
    const input = request({
      stream: true,
      stream_options: { include_usage: true },
      max_tokens: 256,
      max_completion_tokens: 512,
      temperature: 0,
      top_p: 1,
      n: 2,
      stop: ['\n\n', 'END'],
      presence_penalty: -2,
      frequency_penalty: 2,
      seed: 42,
      reasoning_effort: 'low',
      user: 'user-1',
      metadata: { team: 'search', ticket: 'T-1' },
      logprobs: true,
      top_logprobs: 5,
      modalities: ['text'],
    });
    expect(validateChatRequest(input)).toEqual(input);
  });

  it('should accept null for the nullable options', () => {
    const input = request({
      stream_options: null,
      max_tokens: null,
      temperature: null,
      top_p: null,
      stop: null,
      seed: null,
    });
    expect(validateChatRequest(input)).toEqual(input);
  });

  it('should pass unknown fields through, at the top level and inside messages', () => {
    const input = {
      model: 'openai/gpt-4o',
      models: ['openai/gpt-4o', 'anthropic/claude-sonnet-4'],
      fallbacks: [{ model: 'google/gemini-2.5-flash' }],
      provider: { order: ['openai', 'azure'], allow_fallbacks: true },
      messages: [
        {
          role: 'user',
          content: [{ type: 'text', text: 'Hi', cache_control: { type: 'ephemeral' } }],
          x_trace: 'abc',
        },
      ],
      stream_options: { include_usage: true, include_obfuscation: false },
    };
    const result = validateChatRequest(input) as Record<string, unknown>;
    expect(result).toEqual(input);
    expect(result.models).toEqual(input.models);
    expect(result.fallbacks).toEqual(input.fallbacks);
    expect(result.provider).toEqual(input.provider);
  });
});

describe('validateChatRequest: invalid requests', () => {
  it.each<[string, unknown, string, RegExp]>([
    [
      'an unknown role',
      request({ messages: [user, { role: 'robot', content: 'beep' }] }),
      'messages[1].role',
      /expected 'system' \| 'developer' \| 'user' \| 'assistant' \| 'tool'/i,
    ],
    [
      'a message without a role',
      request({ messages: [{ content: 'x' }] }),
      'messages[0].role',
      /expected/i,
    ],
    ['temperature above 2', request({ temperature: 3 }), 'temperature', /<=\s*2/],
    ['temperature as a string', request({ temperature: '0.7' }), 'temperature', /expected number/],
    [
      'user content as a number',
      request({ messages: [{ role: 'user', content: 42 }] }),
      'messages[0].content',
      /expected a string or an array of content parts/,
    ],
    [
      'a user content part of an unknown type',
      request({ messages: [{ role: 'user', content: [{ type: 'video', url: 'x' }] }] }),
      'messages[0].content',
      /"text", "image_url", "input_audio" or "file"/,
    ],
    [
      'assistant content as a number',
      request({ messages: [{ role: 'assistant', content: 1 }] }),
      'messages[0].content',
      /expected a string, null/,
    ],
    [
      'a tool message without tool_call_id',
      request({ messages: [{ role: 'tool', content: 'x' }] }),
      'messages[0].tool_call_id',
      /expected string/,
    ],
    [
      'a tool call without arguments',
      request({
        messages: [
          {
            role: 'assistant',
            content: null,
            tool_calls: [{ id: 'c', type: 'function', function: { name: 'f' } }],
          },
        ],
      }),
      'messages[0].tool_calls[0].function.arguments',
      /expected string/,
    ],
    [
      'an empty tool name',
      request({ tools: [{ type: 'function', function: { name: '' } }] }),
      'tools[0].function.name',
      />=\s*1 characters/,
    ],
    [
      'a missing tool name',
      request({ tools: [{ type: 'function', function: { description: 'x' } }] }),
      'tools[0].function.name',
      /expected string/,
    ],
    [
      'a tool_choice that is not a choice',
      request({ tool_choice: 'sometimes' }),
      'tool_choice',
      /expected "none", "auto", "required" or \{type: "function"/,
    ],
    [
      'a stop that is not text',
      request({ stop: 12 }),
      'stop',
      /expected a string or an array of at most 16 strings/,
    ],
    [
      'a json_schema response_format without its schema',
      request({ response_format: { type: 'json_schema' } }),
      'response_format.json_schema',
      /expected object/,
    ],
    [
      'an unknown response_format type',
      request({ response_format: { type: 'yaml' } }),
      'response_format.type',
      /'text' \| 'json_object' \| 'json_schema'/,
    ],
    ['missing messages', { model: 'gpt-4o' }, 'messages', /expected array, received undefined/],
    ['an empty messages array', request({ messages: [] }), 'messages', />=\s*1 items/],
    ['a negative max_tokens', request({ max_tokens: -5 }), 'max_tokens', />\s*0/],
    ['a fractional max_tokens', request({ max_tokens: 1.5 }), 'max_tokens', /expected int/],
    ['a missing model', { messages: [user] }, 'model', /expected string/],
    [
      'a non-string metadata value',
      request({ metadata: { n: 1 } }),
      'metadata.n',
      /expected string/,
    ],
    [
      'top_logprobs without logprobs',
      request({ top_logprobs: 2 }),
      'top_logprobs',
      /logprobs must be true when top_logprobs is set/,
    ],
    [
      'audio output asked by modalities',
      request({ modalities: ['text', 'audio'] }),
      'modalities',
      /audio output is not supported/,
    ],
    [
      'an audio output config',
      request({ audio: { voice: 'alloy', format: 'wav' } }),
      'audio',
      /audio output is not supported/,
    ],
    [
      'top_logprobs over 20',
      request({ logprobs: true, top_logprobs: 21 }),
      'top_logprobs',
      /<=\s*20/,
    ],
  ])('should reject %s, naming the field', (_label, input, path, expected) => {
    const error = validationErrorOf(input);
    expect(error.code).toBe('RXLLM_VALIDATION');
    expect(error.isRetryable).toBe(false);
    expect(error.param).toBe(path);
    expect(error.message).toMatch(/^Invalid request: /);
    expect(error.message).toContain(`${path}: `);
    expect(error.issues[0]!.message).toMatch(expected);
  });

  it('should name every offending field when there are several', () => {
    const error = validationErrorOf(request({ temperature: 9, top_p: 2 }));
    expect(error.issues.map((issue) => issue.path)).toEqual(['temperature', 'top_p']);
    expect(error.message).toMatch(/temperature: .*; top_p: /);
  });

  it.each<[string, unknown]>([
    ['a string', 'hello'],
    ['null', null],
    ['an array', [user]],
  ])('should reject %s as the whole request', (_label, input) => {
    const error = validationErrorOf(input);
    expect(error.param).toBe('');
    expect(error.message).toMatch(/^Invalid request: Invalid input: expected object/);
  });
});

describe('formatPath', () => {
  it('should write indexes in brackets and keys with dots', () => {
    expect(formatPath(['messages', 0, 'content', 2, 'image_url', 'url'])).toBe(
      'messages[0].content[2].image_url.url',
    );
    expect(formatPath([])).toBe('');
    expect(formatPath([0])).toBe('[0]');
  });
});
