// rx-llm-router/testing: helpers for testing LLM pipelines with any test runner: scripted fake
// providers played under virtual time (rxjs TestScheduler), chunk and error builders, and
// assertions that throw plain AssertionErrors. Explicit named exports only; no Node built-ins,
// no test-runner import.

/** The version of the testing helpers' API. */
export const testingApiVersion = 1;

// Fake providers
export { chunkScript, fakeProvider } from './fake-provider';
export type {
  ChunkScriptOptions,
  FakeAttempt,
  FakeAttemptContext,
  FakeAttemptOutcome,
  FakeAttemptRecord,
  FakeAttemptScript,
  FakeProvider,
  FakeProviderOptions,
  FakeSubscriptionLog,
} from './fake-provider';

// Chunk builders
export {
  FAKE_CHUNK_ID,
  FAKE_MODEL,
  FAKE_PROVIDER,
  chunksFromText,
  deltaChunk,
  finishChunk,
  reasoningChunk,
  refusalChunk,
  roleChunk,
  splitWords,
  textChunk,
  toolCallChunk,
  usage,
  usageChunk,
} from './chunk-builders';
export type {
  ChunkOptions,
  ChunksFromTextOptions,
  ToolCallSpec,
  UsageSpec,
} from './chunk-builders';

// Error builders
export {
  httpError,
  incompleteStream,
  networkError,
  quotaExceeded,
  rateLimited,
  streamError,
  timeoutError,
} from './error-builders';
export type { ProviderErrorSpec } from './error-builders';

// Assertions
export {
  StreamAssertionError,
  completionOf,
  expectFinishReason,
  expectText,
  expectToolCalls,
  expectUsage,
  finishReasonOf,
  textOf,
  toolCallsOf,
  usageOf,
} from './assertions';
export type { ChunksOrCompletion, ExpectedToolCall, ExpectedUsage } from './assertions';
