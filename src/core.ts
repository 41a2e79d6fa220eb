// Browser-safe core of rx-llm-router: no Node built-ins, no undici. Explicit named exports only.

// Chunks and completions
export type {
  ChunkChoice,
  ChunkDelta,
  FinishReason,
  StreamFormat,
  StreamingChunk,
  ToolCallDelta,
  Usage,
} from './chunk/streaming-chunk';
export type {
  ChatCompletion,
  CompletionChoice,
  CompletionMessage,
  ToolCall,
} from './chunk/chat-completion';
export { collectCompletion, toCompletion } from './chunk/collect-completion';

// Requests
export {
  chatRequestSchema,
  chatMessageSchema,
  toolSchema,
  toolChoiceSchema,
  responseFormatSchema,
  userContentPartSchema,
} from './request/chat-request';
export type {
  AssistantMessage,
  ChatMessage,
  ChatRequest,
  ResponseFormat,
  SystemMessage,
  TextContentPart,
  Tool,
  ToolCallInput,
  ToolChoice,
  ToolMessage,
  UserContentPart,
  UserMessage,
} from './request/chat-request';
export { validateChatRequest } from './request/validate-chat-request';

// Errors
export {
  BudgetExceededError,
  CircuitOpenError,
  IncompleteStreamError,
  NetworkError,
  ParseError,
  ProviderError,
  RateLimitError,
  RouterError,
  TimeoutError,
  ValidationError,
  hasErrorCode,
  isRouterError,
} from './errors/index';
export type {
  IncompleteStreamErrorOptions,
  ProviderErrorKind,
  ProviderErrorOptions,
  RateLimitErrorOptions,
  RouterErrorCode,
  RouterErrorOptions,
  TimeoutKind,
  ValidationIssue,
} from './errors/index';

// Decoding
export { decodeProviderStream } from './providers/decode-provider-stream';
export type { DecodeProviderStreamOptions } from './providers/decode-provider-stream';
export { classifyProviderError } from './providers/classify-error';
export type { ProviderErrorFacts } from './providers/classify-error';
export { createSseDecoder } from './sse/sse-decoder';
export type {
  SseDecoder,
  SseDecoderHandlers,
  SseDecoderOptions,
  SseEvent,
} from './sse/sse-decoder';
export type { ByteBody } from './sse/read-body';

// Backpressure for pull consumers
export { toAsyncIterable } from './flow/to-async-iterable';
export type { BufferedAsyncIterable, ToAsyncIterableOptions } from './flow/to-async-iterable';
export { currentFlow, runWithFlow } from './flow/flow-control';
export type { FlowControl } from './flow/flow-control';

// Providers: the interface, request translation and error mapping (no Node needed)
export type { Provider, ProviderStreamOptions } from './providers/provider';
export { toOpenAIRequest } from './providers/openai/convert-to-openai-request';
export {
  toAnthropicRequest,
  ANTHROPIC_DEFAULT_MAX_TOKENS,
} from './providers/anthropic/convert-to-anthropic-request';
export { toGoogleRequest, googleStreamPath } from './providers/google/convert-to-google-request';
export { errorFromResponse } from './providers/error-from-response';
export type { ErrorResponse } from './providers/error-from-response';
export { retryAfterFromHeaders, retryAfterFromMessage } from './providers/retry-after';
export type { HeaderBag } from './providers/retry-after';
