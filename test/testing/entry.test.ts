import { build } from 'esbuild';
import { resolve } from 'node:path';
import { createContext, runInContext } from 'node:vm';
import * as testing from '../../src/testing/index';

// `rx-llm-router/testing` must work with any test runner, in Node or in a browser runner: it is
// bundled for the browser platform (any Node built-in fails to resolve) and run in a bare VM
// context with only web globals, where no test-runner global (`expect`, `jest`) exists.
const root = resolve(__dirname, '..', '..');

async function bundleTesting(): Promise<{ code: string; inputs: string[] }> {
  const result = await build({
    entryPoints: [resolve(root, 'src/testing/index.ts')],
    bundle: true,
    platform: 'browser',
    format: 'iife',
    globalName: 'rxTesting',
    write: false,
    metafile: true,
    logLevel: 'silent',
  });
  return { code: result.outputFiles[0]!.text, inputs: Object.keys(result.metafile.inputs) };
}

it('should bundle the testing entry with no Node-only module and no test runner inside', async () => {
  const { inputs } = await bundleTesting();
  const forbidden = inputs.filter((f) =>
    /node_modules\/(undici|winston|opossum|jest|@jest|expect|vitest|mocha)\/|^node:/.test(f),
  );
  expect(forbidden).toEqual([]);
  expect(inputs.some((f) => f.includes('src/testing/fake-provider.ts'))).toBe(true);
});

it('should play a fake provider and assert on it in a context with only web globals', async () => {
  const { code } = await bundleTesting();
  const context = createContext({ setTimeout, clearTimeout, setInterval, clearInterval, console });
  runInContext(code, context);
  const result = await (runInContext(
    `new Promise((resolve, reject) => {
      const t = rxTesting;
      const provider = t.fakeProvider({ attempts: t.chunkScript(t.chunksFromText('Hello world')) });
      const chunks = [];
      provider.stream({ model: 'm', messages: [] }).subscribe({
        next: (chunk) => chunks.push(chunk),
        error: reject,
        complete: () => {
          t.expectText(chunks, 'Hello world');
          let message = '';
          try { t.expectText(chunks, 'Hello'); } catch (e) { message = e.name; }
          resolve(t.textOf(chunks) + ':' + message + ':' + typeof expect + ':' + typeof process);
        },
      });
    })`,
    context,
  ) as Promise<string>);
  expect(result).toBe('Hello world:AssertionError:undefined:undefined');
});

it('should export only named helpers', () => {
  expect(Object.keys(testing).sort()).toEqual(
    [
      'FAKE_CHUNK_ID',
      'FAKE_MODEL',
      'FAKE_PROVIDER',
      'StreamAssertionError',
      'chunkScript',
      'chunksFromText',
      'completionOf',
      'deltaChunk',
      'expectFinishReason',
      'expectText',
      'expectToolCalls',
      'expectUsage',
      'fakeProvider',
      'finishChunk',
      'finishReasonOf',
      'httpError',
      'incompleteStream',
      'networkError',
      'quotaExceeded',
      'rateLimited',
      'reasoningChunk',
      'refusalChunk',
      'roleChunk',
      'splitWords',
      'streamError',
      'testingApiVersion',
      'textChunk',
      'textOf',
      'timeoutError',
      'toolCallChunk',
      'toolCallsOf',
      'usage',
      'usageChunk',
      'usageOf',
    ].sort(),
  );
});
