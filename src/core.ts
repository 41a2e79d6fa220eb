// Browser-safe core of rx-llm-router: no Node built-ins, no undici. Explicit named exports only.

// Chunks and completions
export type {
  ChoiceLogprobs,
  ChunkChoice,
  ChunkDelta,
  FinishReason,
  StreamFormat,
  StreamingChunk,
  TokenLogprob,
  ToolCallDelta,
  TopLogprob,
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
  AllProvidersFailedError,
  BudgetExceededError,
  CancelledError,
  CircuitOpenError,
  IncompleteStreamError,
  NetworkError,
  ParseError,
  ProviderError,
  RateLimitError,
  RouterError,
  TimeoutError,
  UnknownModelError,
  ValidationError,
  hasErrorCode,
  isRouterError,
} from './errors/index';
export type {
  CandidateAttempt,
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

// Resilience operators
export { isContentChunk } from './operators/is-content-chunk';
export { circuitBreaker } from './operators/circuit-breaker';
export type { CircuitBreakerOperator } from './operators/circuit-breaker';
export {
  createStreamBreaker,
  isBreakerFailure,
  isStreamBreaker,
  STREAM_BREAKER_DEFAULTS,
} from './operators/create-stream-breaker';
export type { StreamBreaker, StreamBreakerOptions } from './operators/create-stream-breaker';
export { failover, candidate, isFailoverableError } from './operators/failover';
export type {
  FailoverCandidate,
  FailoverConfig,
  FailoverInfo,
  FailoverMode,
  FailoverPolicy,
} from './operators/failover';
export { retryBackoff } from './operators/retry-backoff';
export type { RetryBackoffConfig, RetryInfo, RetryJitter } from './operators/retry-backoff';
export { timeouts } from './operators/timeouts';
export type { TimeoutsConfig } from './operators/timeouts';
export { textDeltas } from './operators/text-deltas';
export type { TextDeltasConfig } from './operators/text-deltas';
export { trackCost } from './operators/track-cost';
export type { CostedChunk, TrackCostConfig } from './operators/track-cost';
export { budget } from './operators/budget';
export type { BudgetConfig } from './operators/budget';
export { shareStream, SharedStream } from './operators/share-stream';
export type {
  AfterAbandon,
  RecordingCodec,
  ShareStreamConfig,
  SharedStreamStatus,
} from './operators/share-stream';
export { compactChunkRecording } from './chunk/compact-chunk-recording';

// Pricing and token estimates (the tokenizer-backed estimator is at rx-llm-router/tokenizer)
export {
  CHARS_PER_TOKEN,
  NO_TOKENS,
  TOKEN_CLASSES,
  computeCost,
  createPricing,
  defaultPricing,
  estimatePromptTokens,
  estimateTokensByChars,
  genaiPricesCatalog,
  inputTokensOf,
  pricesForInput,
  tokenCountsFromUsage,
} from './cost/index';
export type {
  CatalogLookup,
  CatalogPrice,
  CostBreakdown,
  CostSnapshot,
  GenaiPricesCatalogOptions,
  ModelPrice,
  PriceCatalog,
  PriceOverride,
  PriceResolution,
  PriceSource,
  PriceTier,
  Pricing,
  PricingOptions,
  ResolvedPrice,
  TokenClass,
  TokenCounts,
  TokenEstimator,
  TokenPrices,
} from './cost/index';

// The router, its sessions and its health
export {
  createRouter,
  ROUTER_RETRY_DEFAULTS,
  ROUTER_TIMEOUT_DEFAULTS,
} from './router/create-router';
export {
  PASS_THROUGH_MODEL,
  ROUTING_STRATEGIES,
  validateRouterConfig,
} from './router/router-config';
export type {
  CandidateConfig,
  HealthOptions,
  ProbeOptions,
  RouteConfig,
  RouteOptions,
  RouteRetryOptions,
  RouteTimeoutOptions,
  RouterBreakerOptions,
  RouterConfig,
  RouterLogger,
  RoutingStrategy,
  SessionOptions,
} from './router/router-config';
export type {
  ModelListing,
  RouteStreamOptions,
  Router,
  Sessions,
  StreamChatCompletionOptions,
} from './router/router';
export type {
  AttemptEndEvent,
  AttemptEvent,
  BreakerEvent,
  BudgetEvent,
  CooldownEvent,
  FailoverEvent,
  ProbeEvent,
  RetryEvent,
  RouterEvent,
  RouterEventType,
  SkipEvent,
} from './router/router-events';
export type { SessionError, SessionInfo, SessionState } from './sessions/session-info';
export { LatencyWindow, RollingCounts, ThroughputWindow } from './health/index';
export type {
  CandidateHealth,
  HealthCountKind,
  HealthCounts,
  HealthSnapshot,
  LatencyWindowConfig,
  RollingCountsConfig,
  ThroughputWindowConfig,
} from './health/index';
