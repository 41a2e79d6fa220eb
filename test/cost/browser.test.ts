import { build } from 'esbuild';
import { resolve } from 'node:path';
import { createContext, runInContext } from 'node:vm';

// The cost module and its operators must run in browsers with no network: they are bundled for
// the browser platform (where a Node built-in fails to resolve), then run in a bare VM context
// with no `fetch`, no `process` and no `require`, so the price catalog can only be the bundled
// one and the tokenizer must be pure JavaScript.
const root = resolve(__dirname, '..', '..');

const entry = `
export { trackCost } from './src/operators/track-cost';
export { budget } from './src/operators/budget';
export { defaultPricing, createPricing } from './src/cost/index';
export { gptTokenEstimator } from './src/cost/gpt-token-estimator';
export { of, toArray, lastValueFrom } from 'rxjs';
`;

async function bundle(): Promise<{ code: string; inputs: string[] }> {
  const result = await build({
    stdin: { contents: entry, resolveDir: root, sourcefile: 'cost-entry.ts', loader: 'ts' },
    bundle: true,
    platform: 'browser',
    format: 'iife',
    globalName: 'cost',
    write: false,
    metafile: true,
    logLevel: 'silent',
  });
  return { code: result.outputFiles[0]!.text, inputs: Object.keys(result.metafile.inputs) };
}

it('should bundle the cost operators for the browser with no Node-only module', async () => {
  const { inputs } = await bundle();
  expect(inputs.filter((f) => f.startsWith('node:') || /undici|winston/.test(f))).toEqual([]);
  expect(inputs.some((f) => f.includes('@pydantic/genai-prices'))).toBe(true);
  expect(inputs.some((f) => f.includes('gpt-tokenizer'))).toBe(true);
}, 30_000);

it('should price a stream offline in a context that has only web globals', async () => {
  const { code } = await bundle();
  const context = createContext({
    console,
    setTimeout,
    clearTimeout,
    queueMicrotask,
    TextEncoder,
    TextDecoder,
  });
  runInContext(code, context);
  const result = await (runInContext(
    `(() => {
      const { trackCost, defaultPricing, gptTokenEstimator, of, toArray, lastValueFrom } = cost;
      const chunk = (delta, usage) => ({ id: 'c', object: 'chat.completion.chunk', created: 0,
        model: 'gpt-4o', provider: 'openai', choices: usage ? [] : [{ index: 0, delta, finish_reason: null }],
        ...(usage ? { usage } : {}) });
      return lastValueFrom(of(
        chunk({ content: 'Hello' }), chunk({ content: ' world' }),
        chunk({}, { prompt_tokens: 1000000, completion_tokens: 1000000, total_tokens: 2000000 }),
      ).pipe(trackCost(defaultPricing, { estimateTokens: gptTokenEstimator }), toArray()))
        .then((all) => all.map(({ cost }) => [cost.tokens.output, cost.estimated, cost.totalUsd])
          .concat([[typeof fetch, typeof process, typeof require]]));
    })()`,
    context,
  ) as Promise<unknown[]>);
  // Plain arrays from another realm: compare their JSON.
  expect(JSON.parse(JSON.stringify(result))).toEqual([
    [1, true, 10 / 1e6],
    [2, true, 20 / 1e6],
    [1_000_000, false, 12.5],
    ['undefined', 'undefined', 'undefined'],
  ]);
}, 30_000);
