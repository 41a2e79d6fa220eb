import { access } from 'node:fs/promises';
import { join } from 'node:path';

/** The file names looked for, in order of preference. */
export const DEFAULT_CONFIG_FILE_NAMES = [
  'rx-llm-router.yaml',
  'rx-llm-router.yml',
  'rx-llm-router.json',
] as const;

/**
 * The config file in `cwd`, if there is one: `rx-llm-router.yaml`, then `.yml`, then `.json`
 * (the first that exists). Parent directories are not searched.
 *
 * @param cwd The directory to look in.
 * @return The file's path, or undefined.
 */
export async function findDefaultConfigFile(cwd: string): Promise<string | undefined> {
  for (const name of DEFAULT_CONFIG_FILE_NAMES) {
    const path = join(cwd, name);
    try {
      await access(path);
      return path;
    } catch {
      // not there: try the next name
    }
  }
  return undefined;
}
