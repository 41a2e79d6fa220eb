import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { configFormatOf, loadConfigFile } from '../../src/config/load-config-file';
import { findDefaultConfigFile } from '../../src/config/find-default-config-file';
import { ValidationError } from '../../src/errors/validation-error';

const yaml = `
providers:
  openai: { type: openai, apiKey: "\${KEY}" }
routes:
  gpt-*: [{ provider: openai, model: $model }]
  fast: [{ provider: openai, model: gpt-4o-mini }]
`;

let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rx-llm-router-config-'));
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('loadConfigFile', () => {
  it('should load a YAML file with environment variables from the given env', async () => {
    const path = join(dir, 'rx-llm-router.yaml');
    await writeFile(path, yaml);
    const config = await loadConfigFile(path, { env: { KEY: 'sk-from-env' } });
    expect(config.providers.openai?.apiKey).toBe('sk-from-env');
    expect(Object.keys(config.routes)).toEqual(['gpt-*', 'fast']);
  });

  it('should load a JSON file by its extension', async () => {
    const path = join(dir, 'custom.json');
    await writeFile(
      path,
      JSON.stringify({
        providers: { local: { type: 'openai-compatible', baseUrl: 'http://127.0.0.1:1/v1' } },
        routes: { '*': [{ provider: 'local', model: '$model' }] },
      }),
    );
    const config = await loadConfigFile(path, { env: {} });
    expect(config.providers.local?.type).toBe('openai-compatible');
  });

  it('should name the file when it does not exist', async () => {
    const path = join(dir, 'missing.yaml');
    await expect(loadConfigFile(path)).rejects.toThrow(`Invalid config file ${path}: no such file`);
  });

  it('should name the file and the path of a problem inside it', async () => {
    const path = join(dir, 'rx-llm-router.yml');
    await writeFile(path, yaml);
    const error: unknown = await loadConfigFile(path, { env: {} }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).message).toBe(
      `Invalid config file ${path}: providers.openai.apiKey: environment variable KEY is not set`,
    );
  });

  it('should refuse a file larger than the limit without reading all of it', async () => {
    const path = join(dir, 'big.yaml');
    await writeFile(path, `# ${'x'.repeat(5000)}\n${yaml}`);
    await expect(loadConfigFile(path, { env: { KEY: 'k' }, maxBytes: 1024 })).rejects.toThrow(
      'the file is larger than 1024 bytes',
    );
  });

  it('should treat .json as JSON and everything else as YAML', () => {
    expect(configFormatOf('a/b.JSON')).toBe('json');
    expect(configFormatOf('a/b.yml')).toBe('yaml');
    expect(configFormatOf('a/b.yaml')).toBe('yaml');
    expect(configFormatOf('a/b.conf')).toBe('yaml');
  });
});

describe('findDefaultConfigFile', () => {
  it('should find nothing in an empty directory', async () => {
    await expect(findDefaultConfigFile(dir)).resolves.toBeUndefined();
  });

  it('should prefer .yaml, then .yml, then .json', async () => {
    await writeFile(join(dir, 'rx-llm-router.json'), '{}');
    await expect(findDefaultConfigFile(dir)).resolves.toBe(join(dir, 'rx-llm-router.json'));
    await writeFile(join(dir, 'rx-llm-router.yml'), '');
    await expect(findDefaultConfigFile(dir)).resolves.toBe(join(dir, 'rx-llm-router.yml'));
    await writeFile(join(dir, 'rx-llm-router.yaml'), '');
    await expect(findDefaultConfigFile(dir)).resolves.toBe(join(dir, 'rx-llm-router.yaml'));
  });
});
