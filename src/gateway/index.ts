export { startGateway } from './start-gateway';
export type { Gateway, GatewayOptions } from './start-gateway';
export { toOpenAIError } from './openai-error';
export type { MappedError, OpenAIErrorObject } from './openai-error';
export type { RequestOutcome, RequestRecord } from './request-record';
