// Public API of rx-llm-router. The browser-safe core is re-exported whole from ./core (its own
// explicit list); the Node-only parts (HTTP providers over undici, the simulator) are added here.
export * from './core';

// HTTP providers (undici)
export { openai } from './providers/http/openai-provider';
export type { OpenAIProviderOptions } from './providers/http/openai-provider';
export { anthropic } from './providers/http/anthropic-provider';
export type { AnthropicProviderOptions } from './providers/http/anthropic-provider';
export { google } from './providers/http/google-provider';
export type { GoogleProviderOptions } from './providers/http/google-provider';
export { openaiCompatible } from './providers/http/openai-compatible-provider';
export type { OpenAICompatibleProviderOptions } from './providers/http/openai-compatible-provider';
export type { HttpProvider, HttpProviderOptions } from './providers/http/create-http-provider';

// The provider simulator
export {
  startSimulator,
  runSimulateCommand,
  expectedAnswer,
  expectedText,
  parseFaultSpec,
  formatFaultSpec,
  FaultSpecError,
} from './simulator/index';
export type {
  AttemptOutcome,
  AttemptRecord,
  FaultSpec,
  ScenarioMatch,
  ScenarioStep,
  Simulator,
  SimulatorOptions,
  SimulatorScenario,
  SimulateCommandOptions,
} from './simulator/index';

// The OpenAI-compatible gateway and its logger (node:http, prom-client, winston)
export { startGateway, toOpenAIError } from './gateway/index';
export type {
  Gateway,
  GatewayOptions,
  MappedError,
  OpenAIErrorObject,
  RequestOutcome,
  RequestRecord,
} from './gateway/index';
export { createLogger, redact } from './logging/index';
export type { LoggerOptions } from './logging/index';

// Config files, the embedded simulator default (the CLI's `serve` and `chat`)
export {
  buildRouterConfig,
  embeddedDefaultConfig,
  findDefaultConfigFile,
  loadConfigFile,
  loadGatewayConfig,
  parseConfig,
  startEmbeddedDefault,
} from './config/index';
export type {
  EmbeddedDefault,
  GatewayFileConfig,
  LoadedGatewayConfig,
  ParseConfigOptions,
  ProviderFileConfig,
} from './config/index';
