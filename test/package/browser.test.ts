import { build } from 'esbuild';
import { resolve } from 'node:path';
import { createContext, runInContext } from 'node:vm';

// The core entry (chunk types, schemas, errors, SSE decoding, decodeProviderStream) must run in
// browsers: it is bundled for the browser platform, where any Node built-in fails to resolve,
// and the bundle is then run in a bare VM context with only web globals.
const root = resolve(__dirname, '..', '..');

async function bundleCore(): Promise<{ code: string; inputs: string[] }> {
  const result = await build({
    entryPoints: [resolve(root, 'src/core.ts')],
    bundle: true,
    platform: 'browser',
    format: 'iife',
    globalName: 'rxLlmRouter',
    write: false,
    metafile: true,
    logLevel: 'silent',
  });
  return {
    code: result.outputFiles[0]!.text,
    inputs: Object.keys(result.metafile.inputs),
  };
}

it('should bundle the core for the browser with no Node-only module inside', async () => {
  const { inputs } = await bundleCore();
  const nodeOnly = inputs.filter((f) => /node_modules\/(undici|winston)\/|^node:/.test(f));
  expect(nodeOnly).toEqual([]);
  // opossum (the circuit breaker) needs EventEmitter: the `events` package stands in for it.
  expect(inputs.some((f) => f.startsWith('node_modules/events/'))).toBe(true);
  expect(inputs.some((f) => f.includes('src/providers/decode-provider-stream.ts'))).toBe(true);
});

it('should decode a stream inside a context that has only web globals', async () => {
  const { code } = await bundleCore();
  const sandbox: Record<string, unknown> = {
    TextEncoder,
    TextDecoder,
    ReadableStream,
    setTimeout,
    clearTimeout,
    queueMicrotask,
    console,
  };
  const context = createContext(sandbox);
  runInContext(code, context);
  const text = await (runInContext(
    `new Promise((resolve, reject) => {
      const bytes = new TextEncoder().encode(
        'data: {"id":"c","created":1,"model":"m","choices":[{"index":0,"delta":{"content":"héllo"},"finish_reason":"stop"}]}\\n\\ndata: [DONE]\\n\\n');
      const body = new ReadableStream({ start(c) { c.enqueue(bytes.subarray(0, 50)); c.enqueue(bytes.subarray(50)); c.close(); } });
      let text = '';
      rxLlmRouter.decodeProviderStream('openai', body).subscribe({
        next: (chunk) => { text += chunk.choices[0].delta.content; },
        error: reject,
        complete: () => resolve(text + ':' + typeof process + ':' + typeof require),
      });
    })`,
    context,
  ) as Promise<string>);
  expect(text).toBe('héllo:undefined:undefined');
});
