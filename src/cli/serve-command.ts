import type { Logger } from 'winston';
import { buildRouterConfig } from '../config/build-router-config';
import type { ConfigEnv } from '../config/interpolate-env';
import { BUILT_IN_SIMULATOR, loadGatewayConfig } from '../config/load-gateway-config';
import { startGateway, type Gateway } from '../gateway/start-gateway';
import { createLogger } from '../logging/create-logger';
import { createRouter } from '../router/create-router';
import type { Router } from '../router/router';
import type { Simulator } from '../simulator/start-simulator';

/** Where `serve` listens when neither the flags nor the file say. */
export const SERVE_DEFAULTS = { host: '127.0.0.1', port: 8787 } as const;

/** Options of `rx-llm-router serve`. */
export interface ServeCommandOptions {
  /** The config file (`--config`). Default: `rx-llm-router.yaml|yml|json` in `cwd`, else the built-in simulator. */
  config?: string | undefined;
  /** Wins over the file's `server.port`. */
  port?: number | undefined;
  /** Wins over the file's `server.host`. */
  host?: string | undefined;
  /** Default `process.cwd()`. */
  cwd?: string | undefined;
  /** For `${ENV_VAR}` in the file. Default `process.env`. */
  env?: ConfigEnv | undefined;
  /** Where log lines go. Default stdout. */
  logStream?: NodeJS.WritableStream | undefined;
  /** The log format when the file sets none. Default: `pretty` on a terminal, else `json`. */
  logFormat?: 'json' | 'pretty' | undefined;
}

/** A running `serve`: the gateway, its router, and where the config came from. */
export interface RunningServe {
  readonly url: string;
  /** The config file's path, or `built-in simulator`. */
  readonly source: string;
  readonly gateway: Gateway;
  readonly router: Router;
  readonly logger: Logger;
  /** The built-in simulator, when no config file was found; `close()` closes it. */
  readonly simulator: Simulator | undefined;
  /**
   * Graceful shutdown: the gateway stops accepting and lets open streams finish (up to
   * `graceMs`, default the file's `server.shutdownGraceMs`), then the router closes (providers,
   * breakers, timers), then the built-in simulator, if any. Idempotent.
   */
  close(options?: { graceMs?: number }): Promise<void>;
}

/**
 * `rx-llm-router serve`: loads the config (or starts the built-in simulator), builds the router
 * and starts the gateway. The first log line says where it listens and which config it serves:
 * `rx-llm-router listening on http://127.0.0.1:8787, serving the built-in simulator ...` or
 * `... serving rx-llm-router.yaml`.
 *
 * @param options The config file, host and port, and where to log.
 * @return The running server; call `close()` on SIGTERM.
 */
export async function runServeCommand(options: ServeCommandOptions = {}): Promise<RunningServe> {
  const loaded = await loadGatewayConfig({
    configPath: options.config,
    cwd: options.cwd,
    env: options.env,
  });
  const { config, source } = loaded;
  const server = config.server ?? {};
  const logger = createLogger({
    level: config.logging?.level ?? 'info',
    format:
      config.logging?.format ??
      options.logFormat ??
      (process.stdout.isTTY && options.logStream === undefined ? 'pretty' : 'json'),
    ...(options.logStream === undefined ? {} : { stream: options.logStream }),
  });
  let router: Router | undefined;
  let gateway: Gateway;
  try {
    router = createRouter(buildRouterConfig(config, { logger }));
    gateway = await startGateway({
      router,
      host: options.host ?? server.host ?? SERVE_DEFAULTS.host,
      port: options.port ?? server.port ?? SERVE_DEFAULTS.port,
      logger,
      ...(server.bodyLimitBytes === undefined ? {} : { bodyLimitBytes: server.bodyLimitBytes }),
      ...(server.cors === undefined ? {} : { cors: server.cors }),
      ...(server.shutdownGraceMs === undefined ? {} : { shutdownGraceMs: server.shutdownGraceMs }),
      ...(server.includeUsageByDefault === undefined
        ? {}
        : { includeUsageByDefault: server.includeUsageByDefault }),
      ...(config.auth === undefined ? {} : { authKeys: config.auth.keys }),
    });
  } catch (error) {
    await router?.close().catch(() => undefined);
    await loaded.close().catch(() => undefined);
    throw error;
  }
  const embedded = source === BUILT_IN_SIMULATOR;
  const routes = Object.keys(config.routes);
  logger.info(
    embedded
      ? `rx-llm-router listening on ${gateway.url}, serving the built-in simulator (no config file found; no API key needed)`
      : `rx-llm-router listening on ${gateway.url}, serving ${source}`,
    {
      url: gateway.url,
      config: source,
      providers: Object.keys(config.providers),
      routes,
      auth: config.auth !== undefined,
    },
  );
  logger.info(
    `Try: curl -N ${gateway.url}/v1/chat/completions -H 'content-type: application/json' -d '{"model":"${routes.find((r) => !r.includes('*')) ?? 'gpt-4o-mini'}","stream":true,"messages":[{"role":"user","content":"Hello"}]}'`,
  );

  let closing: Promise<void> | undefined;
  const running = router;
  return {
    url: gateway.url,
    source,
    gateway,
    router: running,
    logger,
    simulator: loaded.simulator,
    close(closeOptions = {}) {
      closing ??= (async () => {
        try {
          await gateway.close(closeOptions);
        } finally {
          try {
            await running.close();
          } finally {
            await loaded.close();
          }
        }
      })();
      return closing;
    },
  };
}
