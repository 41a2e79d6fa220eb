export { createLogger } from './create-logger';
export type { LoggerOptions } from './create-logger';
export { redact, redactFormat, redactString, REDACTED } from './redact';
