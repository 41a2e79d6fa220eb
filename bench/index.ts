import { cpus, loadavg, platform, release, totalmem } from 'node:os';
import type { StreamFormat } from '../src/chunk/streaming-chunk';
import { benchDecodeHeap, formatHeapResult } from './decode-heap';
import { benchDecodeFormat, formatResultTables } from './decode.bench';
import { pieceSize } from './feeds';
import { loadBundledDecoder } from './bundled-decoder';
import { runGatewayBenchFromEnv } from './gateway/main';
import { grouped, megabytes } from './report';

/** The benchmarks, in the order they run. */
const benchmarks = ['decode', 'gateway'] as const;
type Benchmark = (typeof benchmarks)[number];

/**
 * `npm run bench`: every benchmark; `npm run bench -- gateway` (or `BENCH_ONLY=gateway`): only
 * the ones named. Benchmarks, not tests: they print figures and never fail on a missed target
 * (the gateway bench fails when a stream fails).
 */
async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const named = args.length > 0 ? args : (process.env.BENCH_ONLY?.split(',') ?? [...benchmarks]);
  const selected = named.map((name) => name.trim()).filter((name) => name !== '');
  for (const name of selected) {
    if (!(benchmarks as readonly string[]).includes(name)) {
      throw new Error(`unknown benchmark "${name}" (expected ${benchmarks.join(', ')})`);
    }
  }
  const runs: Record<Benchmark, () => Promise<void>> = {
    decode: runDecodeBench,
    gateway: runGatewayBenchFromEnv,
  };
  for (const name of benchmarks) if (selected.includes(name)) await runs[name]();
}

/**
 * The decode benchmark: decode throughput against the floor and the openai SDK, and heap growth
 * on a 100 MiB stream.
 *
 * Environment: `BENCH_ROUNDS` (default 7), `BENCH_TOKENS` (default 200000),
 * `BENCH_FORMATS` (comma-separated, default `openai,anthropic,google`), `BENCH_PIECE_KIB`
 * (default 16), `BENCH_HEAP=0` to skip the heap run.
 */
async function runDecodeBench(): Promise<void> {
  const rounds = Number(process.env.BENCH_ROUNDS ?? 7);
  const tokens = Number(process.env.BENCH_TOKENS ?? 200_000);
  const formats = (process.env.BENCH_FORMATS ?? 'openai,anthropic,google')
    .split(',')
    .map((format) => format.trim()) as StreamFormat[];
  const started = performance.now();
  const bundled = loadBundledDecoder();
  const cpu = cpus();
  // Other processes on the machine skew every figure; the load average tells how much.
  const load = loadavg()[0]!.toFixed(2);

  console.log('# rx-llm-router decode benchmarks\n');
  console.log(
    `node ${process.version}, ${platform()} ${release()}, ${cpu.length} × ${cpu[0]?.model ?? 'cpu'}, ${megabytes(totalmem())} RAM`,
  );
  console.log(
    `${grouped(tokens)} tokens per stream, ${pieceSize / 1024} KiB pieces, ${rounds} rounds (median), ` +
      `gc between runs: ${typeof globalThis.gc === 'function' ? 'yes' : 'no (run with --expose-gc)'}`,
  );

  for (const format of formats) {
    const result = await benchDecodeFormat(format, { bundled, tokens, rounds });
    console.log(
      `\n## ${format}: ${megabytes(result.bytes)}, ${result.bytesPerTokenEvent.toFixed(0)} bytes per token event\n`,
    );
    console.log(formatResultTables(result));
  }

  if (process.env.BENCH_HEAP !== '0') {
    console.log('\n## heap\n');
    console.log(formatHeapResult(await benchDecodeHeap({ bundled })));
  }
  console.log(
    `\ntotal ${((performance.now() - started) / 1000).toFixed(0)} s; load average at start ${load}, at end ${loadavg()[0]!.toFixed(2)}`,
  );
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
