import { startSimulator, type Simulator } from '../simulator/start-simulator';
import type { GatewayFileConfig } from './gateway-file-config';

/** A placeholder key: the built-in simulator checks none, and the HTTP providers need one. */
const SIMULATOR_API_KEY = 'sk-simulator-not-a-secret';

/** Options of {@link startEmbeddedDefault}. */
export interface EmbeddedDefaultOptions {
  /** Pacing of the simulator's answers, so a demo visibly streams. Default 50 tokens/s. */
  tokensPerSecond?: number | undefined;
}

/** The built-in simulator and the config that routes to it. */
export interface EmbeddedDefault {
  /** The config: providers `openai`, `anthropic`, `google` at the simulator, and demo routes. */
  readonly config: GatewayFileConfig;
  readonly simulator: Simulator;
  /** Closes the simulator. Idempotent. */
  close(): Promise<void>;
}

/**
 * The config of the embedded default, given the simulator's URL:
 *
 * | Route         | Candidates                                                                   |
 * | ------------- | ---------------------------------------------------------------------------- |
 * | `fast`        | openai `gpt-4o-mini`, then anthropic `claude-3-5-haiku-latest`               |
 * | `smart`       | openai `gpt-4o`, anthropic `claude-sonnet-4-5`, google `gemini-2.5-pro`; resume |
 * | `gpt-*`       | openai, the requested model                                                  |
 * | `claude-*`    | anthropic, the requested model                                               |
 * | `gemini-*`    | google, the requested model                                                  |
 * | `sim-fault-*` | openai with the fault in the model name, then anthropic; resume (a demo)      |
 *
 * @param simulatorUrl The simulator's `http://127.0.0.1:<port>`.
 * @return A config as `parseConfig` would return it.
 */
export function embeddedDefaultConfig(simulatorUrl: string): GatewayFileConfig {
  return {
    providers: {
      openai: { type: 'openai', baseUrl: `${simulatorUrl}/v1`, apiKey: SIMULATOR_API_KEY },
      anthropic: { type: 'anthropic', baseUrl: simulatorUrl, apiKey: SIMULATOR_API_KEY },
      google: { type: 'google', baseUrl: simulatorUrl, apiKey: SIMULATOR_API_KEY },
    },
    routes: {
      fast: [
        { provider: 'openai', model: 'gpt-4o-mini' },
        { provider: 'anthropic', model: 'claude-3-5-haiku-latest' },
      ],
      smart: {
        failover: 'resume',
        candidates: [
          { provider: 'openai', model: 'gpt-4o' },
          { provider: 'anthropic', model: 'claude-sonnet-4-5' },
          { provider: 'google', model: 'gemini-2.5-pro' },
        ],
      },
      'gpt-*': [{ provider: 'openai', model: '$model' }],
      'claude-*': [{ provider: 'anthropic', model: '$model' }],
      'gemini-*': [{ provider: 'google', model: '$model' }],
      'sim-fault-*': {
        failover: 'resume',
        candidates: [
          { provider: 'openai', model: '$model' },
          { provider: 'anthropic', model: 'claude-3-5-haiku-latest' },
        ],
      },
    },
  };
}

/**
 * Starts the built-in provider simulator on 127.0.0.1 (a free port) and returns the config
 * that uses it as its providers: what `serve` and `chat` run on when there is no config file,
 * so nothing needs an API key.
 *
 * ```ts
 * const embedded = await startEmbeddedDefault();
 * const router = createRouter(buildRouterConfig(embedded.config));
 * // ...
 * await router.close();
 * await embedded.close();
 * ```
 */
export async function startEmbeddedDefault(
  options: EmbeddedDefaultOptions = {},
): Promise<EmbeddedDefault> {
  const { tokensPerSecond = 50 } = options;
  const simulator = await startSimulator({
    host: '127.0.0.1',
    port: 0,
    tokensPerSecond,
    models: [
      'gpt-4o-mini',
      'gpt-4o',
      'claude-3-5-haiku-latest',
      'claude-sonnet-4-5',
      'gemini-2.5-flash',
      'gemini-2.5-pro',
    ],
  });
  return {
    config: embeddedDefaultConfig(simulator.url),
    simulator,
    close: () => simulator.close(),
  };
}
