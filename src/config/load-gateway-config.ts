import { resolve } from 'node:path';
import type { Simulator } from '../simulator/start-simulator';
import { startEmbeddedDefault, type EmbeddedDefaultOptions } from './embedded-default';
import { findDefaultConfigFile } from './find-default-config-file';
import type { GatewayFileConfig } from './gateway-file-config';
import type { ConfigEnv } from './interpolate-env';
import { loadConfigFile } from './load-config-file';

/** What `serve` and `chat` run on when no config file is found. */
export const BUILT_IN_SIMULATOR = 'built-in simulator';

/** Options of {@link loadGatewayConfig}. */
export interface LoadGatewayConfigOptions {
  /** An explicit config file (`--config`); it must exist. */
  configPath?: string | undefined;
  /** Where to look for `rx-llm-router.yaml|yml|json` without `configPath`. Default: the cwd. */
  cwd?: string | undefined;
  /** For `${ENV_VAR}`. Default `process.env`. */
  env?: ConfigEnv | undefined;
  /** Options of the built-in simulator, when it is used. */
  embedded?: EmbeddedDefaultOptions | undefined;
}

/** A config and where it came from. */
export interface LoadedGatewayConfig {
  readonly config: GatewayFileConfig;
  /** The file's path, or {@link BUILT_IN_SIMULATOR}. */
  readonly source: string;
  /** The running built-in simulator, when `source` is {@link BUILT_IN_SIMULATOR}. */
  readonly simulator: Simulator | undefined;
  /** Closes the built-in simulator, if one was started. Idempotent. */
  close(): Promise<void>;
}

/**
 * Finds and loads the config the CLI runs on:
 *
 * 1. `configPath` when given (a missing file is an error);
 * 2. else `rx-llm-router.yaml`, `.yml` or `.json` in `cwd`;
 * 3. else the embedded default: the built-in simulator, started now on 127.0.0.1, as the
 *    providers `openai`, `anthropic` and `google` (see `embeddedDefaultConfig`).
 *
 * @return The config, its source, and `close()` for the simulator.
 */
export async function loadGatewayConfig(
  options: LoadGatewayConfigOptions = {},
): Promise<LoadedGatewayConfig> {
  const { configPath, cwd = process.cwd(), env = process.env, embedded } = options;
  const path =
    configPath !== undefined ? resolve(cwd, configPath) : await findDefaultConfigFile(cwd);
  if (path !== undefined) {
    const config = await loadConfigFile(path, { env });
    return { config, source: path, simulator: undefined, close: () => Promise.resolve() };
  }
  const started = await startEmbeddedDefault(embedded);
  return {
    config: started.config,
    source: BUILT_IN_SIMULATOR,
    simulator: started.simulator,
    close: () => started.close(),
  };
}
