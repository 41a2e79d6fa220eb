import type { ChoiceLogprobs, FinishReason, Usage } from './streaming-chunk';

/** A complete tool call, with its JSON arguments concatenated. */
export interface ToolCall {
  id: string;
  type: 'function';
  function: { name: string; arguments: string };
}

export interface CompletionMessage {
  role: 'assistant';
  content: string | null;
  refusal: string | null;
  /** Reasoning text, when the model streamed any. */
  reasoning?: string;
  tool_calls?: ToolCall[];
  /** The text's annotations (URL citations), when the stream carried any. */
  annotations?: Record<string, unknown>[];
}

export interface CompletionChoice {
  index: number;
  message: CompletionMessage;
  finish_reason: FinishReason | null;
  raw_finish_reason?: string;
  /** Every token's log probability, in order, when the stream carried them. */
  logprobs?: ChoiceLogprobs;
}

/** The non-streaming result: OpenAI's `chat.completion` shape, plus the provider. */
export interface ChatCompletion {
  id: string;
  object: 'chat.completion';
  created: number;
  model: string;
  provider: string;
  choices: CompletionChoice[];
  usage?: Usage;
}
