// Config files of the gateway and the CLI (Node-only): parsing, validation, the embedded
// default. Explicit named exports only.

export { buildRouterConfig, createProviderFromConfig } from './build-router-config';
export type { BuildRouterConfigOptions } from './build-router-config';
export { closestMatch, didYouMean } from './did-you-mean';
export { embeddedDefaultConfig, startEmbeddedDefault } from './embedded-default';
export type { EmbeddedDefault, EmbeddedDefaultOptions } from './embedded-default';
export { DEFAULT_CONFIG_FILE_NAMES, findDefaultConfigFile } from './find-default-config-file';
export { PROVIDER_TYPES, gatewayFileConfigSchema } from './gateway-file-config';
export type {
  BreakerFileConfig,
  GatewayFileConfig,
  LogLevel,
  PriceFileConfig,
  ProviderFileConfig,
  ProviderType,
  ServerFileConfig,
} from './gateway-file-config';
export { interpolateEnv, interpolateString } from './interpolate-env';
export type { ConfigEnv } from './interpolate-env';
export { configFormatOf, loadConfigFile } from './load-config-file';
export type { LoadConfigFileOptions } from './load-config-file';
export { BUILT_IN_SIMULATOR, loadGatewayConfig } from './load-gateway-config';
export type { LoadGatewayConfigOptions, LoadedGatewayConfig } from './load-gateway-config';
export { parseConfig } from './parse-config';
export type { ConfigFormat, ParseConfigOptions } from './parse-config';
