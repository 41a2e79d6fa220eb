import { ValidationError } from '../../src/errors/validation-error';
import {
  GOOGLE_SKIP_THOUGHT_SIGNATURE,
  googleStreamPath,
  toGoogleRequest,
} from '../../src/providers/google/convert-to-google-request';
import type { ChatMessage, ChatRequest } from '../../src/request/chat-request';

function request(messages: unknown[], extra: Record<string, unknown> = {}): ChatRequest {
  return { model: 'gemini-2.5-flash', messages, ...extra } as ChatRequest;
}

const hi = { role: 'user', content: 'Hi' } satisfies ChatMessage;

/** Runs the conversion and returns the ValidationError it throws. */
function errorOf(input: ChatRequest): ValidationError {
  try {
    toGoogleRequest(input);
  } catch (error) {
    if (error instanceof ValidationError) return error;
    throw error;
  }
  throw new Error('expected toGoogleRequest to throw a ValidationError');
}

const weatherTool = {
  type: 'function',
  function: {
    name: 'get_weather',
    description: 'Current weather',
    parameters: {
      type: 'object',
      properties: { city: { type: 'string' } },
      required: ['city'],
      additionalProperties: false,
    },
  },
};

function toolCall(id: string, name: string, args: string, extra: Record<string, unknown> = {}) {
  return { id, type: 'function', function: { name, arguments: args }, ...extra };
}

describe('googleStreamPath', () => {
  it('should build the SSE streaming path with the model encoded', () => {
    expect(googleStreamPath('gemini-2.5-flash')).toBe(
      '/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse',
    );
    expect(googleStreamPath('tuned model/x')).toBe(
      '/v1beta/models/tuned%20model%2Fx:streamGenerateContent?alt=sse',
    );
  });

  it('should drop a leading models/ prefix', () => {
    expect(googleStreamPath('models/gemini-2.5-pro')).toBe(
      '/v1beta/models/gemini-2.5-pro:streamGenerateContent?alt=sse',
    );
  });
});

describe('toGoogleRequest: basics', () => {
  it('should build contents and keep the model out of the body', () => {
    const body = toGoogleRequest(request([hi]), { model: 'gemini-2.5-pro' });
    expect(body).toEqual({ contents: [{ role: 'user', parts: [{ text: 'Hi' }] }] });
  });

  it('should not send unknown extra fields or OpenAI-only fields', () => {
    const body = toGoogleRequest(
      request([hi], {
        user: 'u1',
        metadata: { a: 'b' },
        parallel_tool_calls: false,
        logit_bias: {},
      }),
    );
    expect(Object.keys(body)).toEqual(['contents']);
  });

  it('should map roles user → user and assistant → model', () => {
    const body = toGoogleRequest(
      request([hi, { role: 'assistant', content: 'Hello' }, { role: 'user', content: 'Bye' }]),
    );
    expect(body.contents).toEqual([
      { role: 'user', parts: [{ text: 'Hi' }] },
      { role: 'model', parts: [{ text: 'Hello' }] },
      { role: 'user', parts: [{ text: 'Bye' }] },
    ]);
  });

  it('should move system and developer messages to systemInstruction', () => {
    const body = toGoogleRequest(
      request([
        { role: 'system', content: 'Be terse.' },
        hi,
        { role: 'developer', content: [{ type: 'text', text: 'Answer in French.' }] },
      ]),
    );
    expect(body.systemInstruction).toEqual({ parts: [{ text: 'Be terse.\n\nAnswer in French.' }] });
    expect(body.contents).toHaveLength(1);
  });

  it('should reject a request with no user or assistant content', () => {
    const error = errorOf(request([{ role: 'system', content: 'Be terse.' }]));
    expect(error.param).toBe('messages');
    expect(error.provider).toBe('google');
  });
});

describe('toGoogleRequest: user parts', () => {
  it('should turn a data: URL image into inlineData', () => {
    const body = toGoogleRequest(
      request([
        {
          role: 'user',
          content: [
            { type: 'text', text: 'What is this?' },
            { type: 'image_url', image_url: { url: 'data:image/webp;base64,UklGRg==' } },
          ],
        },
      ]),
    );
    expect(body.contents[0]!.parts).toEqual([
      { text: 'What is this?' },
      { inlineData: { mimeType: 'image/webp', data: 'UklGRg==' } },
    ]);
  });

  it('should turn an http URL into fileData, guessing the MIME type from the extension', () => {
    const body = toGoogleRequest(
      request([
        {
          role: 'user',
          content: [
            { type: 'image_url', image_url: { url: 'https://example.com/cat.JPG?x=1#y' } },
            { type: 'image_url', image_url: { url: 'https://example.com/render' } },
            { type: 'image_url', image_url: { url: 'gs://bucket/doc.pdf' } },
          ],
        },
      ]),
    );
    expect(body.contents[0]!.parts).toEqual([
      { fileData: { fileUri: 'https://example.com/cat.JPG?x=1#y', mimeType: 'image/jpeg' } },
      { fileData: { fileUri: 'https://example.com/render' } },
      { fileData: { fileUri: 'gs://bucket/doc.pdf', mimeType: 'application/pdf' } },
    ]);
  });

  it.each([
    ['a data: URL that is not base64', 'data:image/svg+xml,%3Csvg%3E'],
    ['a data: URL without a media type', 'data:;base64,AAAA'],
    ['another URL scheme', 'ftp://example.com/cat.png'],
  ])('should reject %s, naming the field', (_name, url) => {
    const error = errorOf(
      request([{ role: 'user', content: [{ type: 'image_url', image_url: { url } }] }]),
    );
    expect(error.param).toBe('messages[0].content[0].image_url.url');
  });

  it('should turn input_audio into audio/<format> inlineData', () => {
    const body = toGoogleRequest(
      request([
        {
          role: 'user',
          content: [{ type: 'input_audio', input_audio: { data: 'UklG', format: 'wav' } }],
        },
      ]),
    );
    expect(body.contents[0]!.parts).toEqual([
      { inlineData: { mimeType: 'audio/wav', data: 'UklG' } },
    ]);
  });

  it('should turn a file into application/pdf inlineData', () => {
    const body = toGoogleRequest(
      request([
        {
          role: 'user',
          content: [
            { type: 'file', file: { file_data: 'JVBERi0=', filename: 'a.pdf' } },
            { type: 'file', file: { file_data: 'data:application/pdf;base64,JVBERi0=' } },
          ],
        },
      ]),
    );
    expect(body.contents[0]!.parts).toEqual([
      { inlineData: { mimeType: 'application/pdf', data: 'JVBERi0=' } },
      { inlineData: { mimeType: 'application/pdf', data: 'JVBERi0=' } },
    ]);
  });

  it('should reject a file given by OpenAI file id', () => {
    const error = errorOf(
      request([{ role: 'user', content: [{ type: 'file', file: { file_id: 'file-abc' } }] }]),
    );
    expect(error.param).toBe('messages[0].content[0].file.file_id');
  });
});

describe('toGoogleRequest: generationConfig', () => {
  it('should map logprobs and top_logprobs to responseLogprobs and logprobs', () => {
    expect(
      toGoogleRequest(request([hi], { logprobs: true, top_logprobs: 3 })).generationConfig,
    ).toMatchObject({ responseLogprobs: true, logprobs: 3 });
    expect(toGoogleRequest(request([hi], { logprobs: true })).generationConfig).toEqual({
      responseLogprobs: true,
    });
    expect(toGoogleRequest(request([hi], { logprobs: false }))).not.toHaveProperty(
      'generationConfig',
    );
  });

  it('should map the sampling parameters', () => {
    const body = toGoogleRequest(
      request([hi], {
        temperature: 1.5,
        top_p: 0.9,
        top_k: 40,
        max_tokens: 300,
        stop: ['END'],
        n: 2,
        seed: 7,
        presence_penalty: 0.5,
        frequency_penalty: -0.5,
      }),
    );
    expect(body.generationConfig).toEqual({
      temperature: 1.5,
      topP: 0.9,
      topK: 40,
      maxOutputTokens: 300,
      stopSequences: ['END'],
      candidateCount: 2,
      seed: 7,
      presencePenalty: 0.5,
      frequencyPenalty: -0.5,
    });
  });

  it('should prefer max_completion_tokens over max_tokens', () => {
    const body = toGoogleRequest(request([hi], { max_completion_tokens: 100, max_tokens: 200 }));
    expect(body.generationConfig).toEqual({ maxOutputTokens: 100 });
  });

  it('should turn a string stop into stopSequences', () => {
    expect(toGoogleRequest(request([hi], { stop: '\n' })).generationConfig).toEqual({
      stopSequences: ['\n'],
    });
  });

  it('should reject more than 5 stop sequences', () => {
    expect(errorOf(request([hi], { stop: ['a', 'b', 'c', 'd', 'e', 'f'] })).param).toBe('stop');
  });

  it('should leave generationConfig out when nothing is set', () => {
    expect(toGoogleRequest(request([hi], { temperature: null }))).not.toHaveProperty(
      'generationConfig',
    );
  });

  it('should set responseMimeType for json_object', () => {
    const body = toGoogleRequest(request([hi], { response_format: { type: 'json_object' } }));
    expect(body.generationConfig).toEqual({ responseMimeType: 'application/json' });
  });

  it('should set responseMimeType and responseJsonSchema for json_schema', () => {
    const schema = { type: 'object', properties: { a: { type: 'number' } }, required: ['a'] };
    const body = toGoogleRequest(
      request([hi], {
        response_format: {
          type: 'json_schema',
          json_schema: { name: 'out', schema, strict: true },
        },
      }),
    );
    expect(body.generationConfig).toEqual({
      responseMimeType: 'application/json',
      responseJsonSchema: schema,
    });
  });

  it.each([
    ['minimal', 512],
    ['low', 1024],
    ['medium', 4096],
    ['high', 16384],
  ])(
    'should map reasoning_effort %s to thinkingBudget %i with thoughts included',
    (effort, budget) => {
      const body = toGoogleRequest(request([hi], { reasoning_effort: effort }));
      expect(body.generationConfig).toEqual({
        thinkingConfig: { includeThoughts: true, thinkingBudget: budget },
      });
    },
  );
});

describe('toGoogleRequest: tools', () => {
  it('should send tools as functionDeclarations with parametersJsonSchema', () => {
    const body = toGoogleRequest(
      request([hi], { tools: [weatherTool, { type: 'function', function: { name: 'now' } }] }),
    );
    expect(body.tools).toEqual([
      {
        functionDeclarations: [
          {
            name: 'get_weather',
            description: 'Current weather',
            parametersJsonSchema: weatherTool.function.parameters,
          },
          { name: 'now' },
        ],
      },
    ]);
    expect(body).not.toHaveProperty('toolConfig');
  });

  it.each([
    ['auto', { mode: 'AUTO' }],
    ['required', { mode: 'ANY' }],
    ['none', { mode: 'NONE' }],
    [
      { type: 'function', function: { name: 'get_weather' } },
      { mode: 'ANY', allowedFunctionNames: ['get_weather'] },
    ],
  ])('should map tool_choice %j to functionCallingConfig %j', (choice, expected) => {
    const body = toGoogleRequest(request([hi], { tools: [weatherTool], tool_choice: choice }));
    expect(body.toolConfig).toEqual({ functionCallingConfig: expected });
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

  it('should drop tools and tool_choice when the tool list is empty', () => {
    const body = toGoogleRequest(request([hi], { tools: [], tool_choice: 'auto' }));
    expect(body).not.toHaveProperty('tools');
    expect(body).not.toHaveProperty('toolConfig');
  });
});

describe('toGoogleRequest: function calls and responses', () => {
  const conversation = [
    hi,
    {
      role: 'assistant',
      content: 'Checking.',
      tool_calls: [
        toolCall('call_1', 'get_weather', '{"city":"Paris"}'),
        toolCall('call_2', 'now', ''),
      ],
    },
    { role: 'tool', tool_call_id: 'call_1', content: '{"temp":18,"unit":"C"}' },
    { role: 'tool', tool_call_id: 'call_2', content: '12:00' },
    { role: 'user', content: 'Thanks' },
  ];

  it('should turn assistant tool_calls into functionCall parts', () => {
    const body = toGoogleRequest(request(conversation));
    expect(body.contents[1]).toEqual({
      role: 'model',
      parts: [
        { text: 'Checking.' },
        {
          functionCall: { name: 'get_weather', args: { city: 'Paris' } },
          thoughtSignature: GOOGLE_SKIP_THOUGHT_SIGNATURE,
        },
        { functionCall: { name: 'now', args: {} } },
      ],
    });
  });

  it('should keep a tool call’s own thought signature', () => {
    const body = toGoogleRequest(
      request([
        hi,
        {
          role: 'assistant',
          content: null,
          tool_calls: [
            toolCall('c1', 'now', '{}', {
              extra_content: { google: { thought_signature: 'sig==' } },
            }),
          ],
        },
        { role: 'tool', tool_call_id: 'c1', content: '12:00' },
      ]),
    );
    expect(body.contents[1]!.parts[0]).toEqual({
      functionCall: { name: 'now', args: {} },
      thoughtSignature: 'sig==',
    });
  });

  it('should turn tool messages into user functionResponse parts merged with the next user text', () => {
    const body = toGoogleRequest(request(conversation));
    expect(body.contents).toHaveLength(3);
    expect(body.contents[2]).toEqual({
      role: 'user',
      parts: [
        { functionResponse: { name: 'get_weather', response: { temp: 18, unit: 'C' } } },
        { functionResponse: { name: 'now', response: { result: '12:00' } } },
        { text: 'Thanks' },
      ],
    });
  });

  it('should send non-object JSON content as {result: content}', () => {
    const body = toGoogleRequest(
      request([
        hi,
        { role: 'assistant', content: null, tool_calls: [toolCall('c1', 'now', '{}')] },
        { role: 'tool', tool_call_id: 'c1', content: [{ type: 'text', text: '[1,2]' }] },
      ]),
    );
    expect(body.contents[2]!.parts).toEqual([
      { functionResponse: { name: 'now', response: { result: '[1,2]' } } },
    ]);
  });

  it('should reject a tool message whose id matches no earlier tool call', () => {
    const error = errorOf(
      request([
        hi,
        { role: 'assistant', content: null, tool_calls: [toolCall('c1', 'now', '{}')] },
        { role: 'tool', tool_call_id: 'c2', content: 'x' },
      ]),
    );
    expect(error.param).toBe('messages[2].tool_call_id');
  });

  it('should reject invalid tool-call JSON, naming the arguments field', () => {
    const error = errorOf(
      request([hi, { role: 'assistant', content: null, tool_calls: [toolCall('c1', 'now', '{')] }]),
    );
    expect(error.param).toBe('messages[1].tool_calls[0].function.arguments');
    expect(error.cause).toBeInstanceOf(SyntaxError);
  });

  it('should merge consecutive same-role contents', () => {
    const body = toGoogleRequest(
      request([
        { role: 'user', content: 'One' },
        { role: 'user', content: 'Two' },
        { role: 'assistant', content: 'A' },
        { role: 'assistant', content: [{ type: 'text', text: 'B' }] },
      ]),
    );
    expect(body.contents).toEqual([
      { role: 'user', parts: [{ text: 'One' }, { text: 'Two' }] },
      { role: 'model', parts: [{ text: 'A' }, { text: 'B' }] },
    ]);
  });

  it('should keep a trailing assistant message as the final model turn', () => {
    const body = toGoogleRequest(
      request([hi, { role: 'assistant', content: 'Once upon a time ' }]),
    );
    expect(body.contents[body.contents.length - 1]).toEqual({
      role: 'model',
      parts: [{ text: 'Once upon a time ' }],
    });
  });

  it('should ignore assistant reasoning and keep refusals as text', () => {
    const body = toGoogleRequest(
      request([
        hi,
        { role: 'assistant', content: null, refusal: 'I cannot.', reasoning: 'hmm' },
        { role: 'user', content: 'OK' },
      ]),
    );
    expect(body.contents[1]).toEqual({ role: 'model', parts: [{ text: 'I cannot.' }] });
  });
});
