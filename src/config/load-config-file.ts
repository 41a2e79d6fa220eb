import { open } from 'node:fs/promises';
import { extname } from 'node:path';
import { ValidationError } from '../errors/validation-error';
import type { GatewayFileConfig } from './gateway-file-config';
import type { ConfigEnv } from './interpolate-env';
import { parseConfig, type ConfigFormat } from './parse-config';

/** Options of {@link loadConfigFile}. */
export interface LoadConfigFileOptions {
  /** Where `${ENV_VAR}` references are looked up. Default `process.env`. */
  env?: ConfigEnv | undefined;
  /** Larger files are refused. Default 1 MiB. */
  maxBytes?: number | undefined;
}

/** The format of a config file by its extension: `.json` is JSON, anything else YAML. */
export function configFormatOf(path: string): ConfigFormat {
  return extname(path).toLowerCase() === '.json' ? 'json' : 'yaml';
}

/**
 * Reads, parses and validates a config file (`.yaml`, `.yml` or `.json`; see `parseConfig`).
 * A file that cannot be read, is too large, or is invalid throws a `ValidationError` whose
 * subject is `config file <path>`.
 *
 * ```ts
 * const config = await loadConfigFile('rx-llm-router.yaml');
 * const router = createRouter(buildRouterConfig(config));
 * ```
 *
 * @param path The file to read.
 * @param options The environment for `${ENV_VAR}` and the size limit.
 * @return The validated config.
 */
export async function loadConfigFile(
  path: string,
  options: LoadConfigFileOptions = {},
): Promise<GatewayFileConfig> {
  const { env = process.env, maxBytes = 1024 * 1024 } = options;
  const fail = (message: string): never => {
    throw new ValidationError([{ path: '', message }], { subject: `config file ${path}` });
  };
  let text: string;
  try {
    const handle = await open(path, 'r');
    try {
      const buffer = Buffer.alloc(maxBytes + 1);
      let length = 0;
      for (;;) {
        const { bytesRead } = await handle.read(buffer, length, buffer.length - length, null);
        if (bytesRead === 0) break;
        length += bytesRead;
        if (length > maxBytes) return fail(`the file is larger than ${maxBytes} bytes`);
      }
      text = buffer.subarray(0, length).toString('utf8');
    } finally {
      await handle.close();
    }
  } catch (error) {
    if (error instanceof ValidationError) throw error;
    const code = (error as { code?: unknown }).code;
    return fail(
      code === 'ENOENT'
        ? 'no such file'
        : `cannot be read: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  return parseConfig(text, { format: configFormatOf(path), env, source: path });
}
