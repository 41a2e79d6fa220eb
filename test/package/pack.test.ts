import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';

// Packs the package as npm would publish it, installs the tarball into a fresh consumer project
// (offline, from the npm cache that `npm ci` filled), and uses it from ESM, CommonJS and
// TypeScript (node16 resolution, both module kinds).
const root = resolve(__dirname, '..', '..');
const work = join(root, '.tmp', 'pack-test');
const consumer = join(work, 'consumer');

function run(command: string, args: string[], cwd: string): string {
  return execFileSync(command, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

beforeAll(() => {
  rmSync(work, { recursive: true, force: true });
  mkdirSync(consumer, { recursive: true });
  run('npm', ['pack', '--pack-destination', work, '--silent'], root);
  const tarball = readdirSync(work).find((f) => f.endsWith('.tgz'));
  if (tarball === undefined) throw new Error('npm pack produced no tarball');
  writeFileSync(
    join(consumer, 'package.json'),
    JSON.stringify({ name: 'consumer', version: '1.0.0', private: true }),
  );
  run(
    'npm',
    ['install', '--offline', '--no-audit', '--no-fund', '--ignore-scripts', join(work, tarball)],
    consumer,
  );
}, 180_000);

afterAll(() => {
  rmSync(work, { recursive: true, force: true });
});

const sample =
  'data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":"hi"},"finish_reason":"stop"}]}\n\ndata: [DONE]\n\n';

it('should be importable from ESM, with the testing and core subpaths', () => {
  writeFileSync(
    join(consumer, 'esm.mjs'),
    `import { decodeProviderStream, isRouterError, ValidationError, validateChatRequest } from 'rx-llm-router';
import * as core from 'rx-llm-router/core';
import * as testing from 'rx-llm-router/testing';
import { lastValueFrom, toArray } from 'rxjs';
const bytes = new TextEncoder().encode(${JSON.stringify(sample)});
async function* body() { yield bytes; }
const chunks = await lastValueFrom(decodeProviderStream('openai', body()).pipe(toArray()));
let validation;
try { validateChatRequest({}); } catch (e) { validation = e; }
console.log(JSON.stringify({
  text: chunks.map((c) => c.choices[0].delta.content).join(''),
  branded: isRouterError(validation) && validation instanceof ValidationError,
  sameClass: core.RouterError === (await import('rx-llm-router')).RouterError,
  testing: typeof testing,
}));
`,
  );
  const out = JSON.parse(run('node', ['esm.mjs'], consumer)) as Record<string, unknown>;
  expect(out).toEqual({ text: 'hi', branded: true, sameClass: true, testing: 'object' });
});

it('should be requirable from CommonJS', () => {
  writeFileSync(
    join(consumer, 'cjs.cjs'),
    `const { decodeProviderStream, RouterError } = require('rx-llm-router');
const core = require('rx-llm-router/core');
const testing = require('rx-llm-router/testing');
const { lastValueFrom, toArray } = require('rxjs');
const bytes = new TextEncoder().encode(${JSON.stringify(sample)});
async function* body() { yield bytes; }
lastValueFrom(decodeProviderStream('openai', body()).pipe(toArray())).then((chunks) => {
  console.log(JSON.stringify({
    text: chunks.map((c) => c.choices[0].delta.content).join(''),
    sameClass: core.RouterError === RouterError,
    testing: typeof testing,
  }));
});
`,
  );
  const out = JSON.parse(run('node', ['cjs.cjs'], consumer)) as Record<string, unknown>;
  expect(out).toEqual({ text: 'hi', sameClass: true, testing: 'object' });
});

it('should ship type declarations that resolve for ESM and CommonJS TypeScript consumers', () => {
  const code = `import { decodeProviderStream, type StreamingChunk, type ChatRequest } from 'rx-llm-router';
import type { RouterError } from 'rx-llm-router/core';
export const request: ChatRequest = { model: 'm', messages: [{ role: 'user', content: 'hi' }] };
export const take = (c: StreamingChunk): string | null | undefined => c.choices[0]?.delta.content;
export const decode: typeof decodeProviderStream = decodeProviderStream;
export type E = RouterError['code'];
`;
  writeFileSync(join(consumer, 'types.mts'), code);
  writeFileSync(join(consumer, 'types.cts'), code);
  const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
  const out = run(
    'node',
    [
      tsc,
      '--noEmit',
      '--strict',
      '--module',
      'node16',
      '--moduleResolution',
      'node16',
      '--types',
      'node',
      '--typeRoots',
      join(root, 'node_modules', '@types'),
      'types.mts',
      'types.cts',
    ],
    consumer,
  );
  expect(out).toBe('');
});
