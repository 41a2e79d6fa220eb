import { z } from 'zod';

const textPartSchema = z.looseObject({ type: z.literal('text'), text: z.string() });
const imagePartSchema = z.looseObject({
  type: z.literal('image_url'),
  image_url: z.looseObject({ url: z.string(), detail: z.enum(['auto', 'low', 'high']).optional() }),
});
const audioPartSchema = z.looseObject({
  type: z.literal('input_audio'),
  input_audio: z.looseObject({ data: z.string(), format: z.string() }),
});
const filePartSchema = z.looseObject({
  type: z.literal('file'),
  file: z.looseObject({
    file_data: z.string().optional(),
    file_id: z.string().optional(),
    filename: z.string().optional(),
  }),
});
const refusalPartSchema = z.looseObject({ type: z.literal('refusal'), refusal: z.string() });

/** A user message's content part: text, image, audio or file. */
export const userContentPartSchema = z.discriminatedUnion('type', [
  textPartSchema,
  imagePartSchema,
  audioPartSchema,
  filePartSchema,
]);
export type UserContentPart = z.infer<typeof userContentPartSchema>;
export type TextContentPart = z.infer<typeof textPartSchema>;

export const toolCallSchema = z.looseObject({
  id: z.string(),
  type: z.literal('function'),
  function: z.looseObject({ name: z.string(), arguments: z.string() }),
});

const systemMessageSchema = z.looseObject({
  role: z.enum(['system', 'developer']),
  content: z.union([z.string(), z.array(textPartSchema)], {
    error: 'expected a string or an array of {type: "text", text} parts',
  }),
  name: z.string().optional(),
});
const userMessageSchema = z.looseObject({
  role: z.literal('user'),
  content: z.union([z.string(), z.array(userContentPartSchema)], {
    error:
      'expected a string or an array of content parts (type "text", "image_url", "input_audio" or "file")',
  }),
  name: z.string().optional(),
});
const assistantMessageSchema = z.looseObject({
  role: z.literal('assistant'),
  content: z
    .union(
      [z.string(), z.array(z.discriminatedUnion('type', [textPartSchema, refusalPartSchema]))],
      { error: 'expected a string, null, or an array of "text"/"refusal" parts' },
    )
    .nullish(),
  refusal: z.string().nullish(),
  name: z.string().optional(),
  tool_calls: z.array(toolCallSchema).optional(),
  /** Reasoning the model produced on this turn, kept for providers that want it back. */
  reasoning: z.string().optional(),
});
const toolMessageSchema = z.looseObject({
  role: z.literal('tool'),
  content: z.union([z.string(), z.array(textPartSchema)], {
    error: 'expected a string or an array of {type: "text", text} parts',
  }),
  tool_call_id: z.string(),
});

/** One message of the conversation, by role. */
export const chatMessageSchema = z.discriminatedUnion('role', [
  systemMessageSchema,
  userMessageSchema,
  assistantMessageSchema,
  toolMessageSchema,
]);
export type ChatMessage = z.infer<typeof chatMessageSchema>;
export type SystemMessage = z.infer<typeof systemMessageSchema>;
export type UserMessage = z.infer<typeof userMessageSchema>;
export type AssistantMessage = z.infer<typeof assistantMessageSchema>;
export type ToolMessage = z.infer<typeof toolMessageSchema>;
export type ToolCallInput = z.infer<typeof toolCallSchema>;

export const toolSchema = z.looseObject({
  type: z.literal('function'),
  function: z.looseObject({
    name: z.string().min(1),
    description: z.string().optional(),
    parameters: z.record(z.string(), z.unknown()).optional(),
    strict: z.boolean().nullish(),
  }),
});
export type Tool = z.infer<typeof toolSchema>;

export const toolChoiceSchema = z.union(
  [
    z.enum(['none', 'auto', 'required']),
    z.looseObject({ type: z.literal('function'), function: z.looseObject({ name: z.string() }) }),
  ],
  { error: 'expected "none", "auto", "required" or {type: "function", function: {name}}' },
);
export type ToolChoice = z.infer<typeof toolChoiceSchema>;

export const responseFormatSchema = z.discriminatedUnion('type', [
  z.looseObject({ type: z.literal('text') }),
  z.looseObject({ type: z.literal('json_object') }),
  z.looseObject({
    type: z.literal('json_schema'),
    json_schema: z.looseObject({
      name: z.string(),
      description: z.string().optional(),
      schema: z.record(z.string(), z.unknown()).optional(),
      strict: z.boolean().nullish(),
    }),
  }),
]);
export type ResponseFormat = z.infer<typeof responseFormatSchema>;

/**
 * The OpenAI chat-completions request, the one request shape of rx-llm-router. Unknown extra
 * fields pass through untouched (providers add fields all the time).
 */
export const chatRequestSchema = z
  .looseObject({
    model: z.string().min(1),
    messages: z.array(chatMessageSchema).min(1),
    stream: z.boolean().optional(),
    stream_options: z.looseObject({ include_usage: z.boolean().optional() }).nullish(),
    tools: z.array(toolSchema).optional(),
    tool_choice: toolChoiceSchema.optional(),
    parallel_tool_calls: z.boolean().optional(),
    max_tokens: z.number().int().positive().nullish(),
    max_completion_tokens: z.number().int().positive().nullish(),
    temperature: z.number().min(0).max(2).nullish(),
    top_p: z.number().min(0).max(1).nullish(),
    n: z.number().int().min(1).max(128).nullish(),
    stop: z
      .union([z.string(), z.array(z.string()).max(16)], {
        error: 'expected a string or an array of at most 16 strings',
      })
      .nullish(),
    presence_penalty: z.number().min(-2).max(2).nullish(),
    frequency_penalty: z.number().min(-2).max(2).nullish(),
    seed: z.number().int().nullish(),
    response_format: responseFormatSchema.optional(),
    reasoning_effort: z.enum(['minimal', 'low', 'medium', 'high']).nullish(),
    user: z.string().optional(),
    metadata: z.record(z.string(), z.string()).optional(),
    logprobs: z.boolean().nullish(),
    top_logprobs: z.number().int().min(0).max(20).nullish(),
    // Audio answers do not fit a text stream: refused here rather than lost on the way.
    modalities: z
      .array(z.string())
      .refine((modalities) => !modalities.includes('audio'), {
        message: 'audio output is not supported: rx-llm-router streams text (send ["text"])',
      })
      .nullish(),
    audio: z
      .null({ error: 'audio output is not supported: rx-llm-router streams text' })
      .optional(),
  })
  .refine((request) => request.top_logprobs == null || request.logprobs === true, {
    message: 'logprobs must be true when top_logprobs is set',
    path: ['top_logprobs'],
  });

/** An OpenAI-shaped chat request. */
export type ChatRequest = z.infer<typeof chatRequestSchema>;
