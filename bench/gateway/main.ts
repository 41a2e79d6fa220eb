import { cpus, loadavg, platform, release, totalmem } from 'node:os';
import { join } from 'node:path';
import { grouped, megabytes } from '../report';
import { formatGatewayReport } from './gateway-report';
import { summarizeProfiles } from './summarize-profile';
import {
  defaultRounds,
  requestsPerRun,
  runGatewayBench,
  TARGET_NAMES,
  type TargetName,
} from './run-gateway-bench';

function list(name: string, fallback: string): string[] {
  return (process.env[name] ?? fallback)
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
}

/**
 * `npm run bench -- gateway`: the gateway benchmark, configured from the environment, printed as
 * Markdown. Throws (after every child process has ended) when any stream failed.
 *
 * Environment: `BENCH_GATEWAY_CONCURRENCY` (default `1,100,1000`), `BENCH_GATEWAY_ROUNDS`
 * (default 6, and 3 at 1,000 streams), `BENCH_GATEWAY_TARGETS` (default `direct,proxy,gateway`), `BENCH_GATEWAY_TOKENS`
 * (default 60), `BENCH_GATEWAY_WARMUP` (streamed requests per target before the measured rounds;
 * default `max(concurrency, 300)`), `BENCH_GATEWAY_CPU_PROF=1` to profile the proxy and gateway processes,
 * `BENCH_GATEWAY_NODE_FLAGS` (space-separated node flags of the proxy and gateway processes),
 * `BENCH_GATEWAY_BASELINE` (another checkout: adds its gateway as the `baseline` target, to
 * compare a change with its base in the same run; the default targets become
 * `proxy,gateway,baseline`).
 */
export async function runGatewayBenchFromEnv(): Promise<void> {
  const concurrencies = list('BENCH_GATEWAY_CONCURRENCY', '1,100,1000').map(Number);
  const baselineDir = process.env.BENCH_GATEWAY_BASELINE;
  const known: readonly string[] =
    baselineDir === undefined ? TARGET_NAMES : [...TARGET_NAMES, 'baseline'];
  const targets = list(
    'BENCH_GATEWAY_TARGETS',
    baselineDir === undefined ? TARGET_NAMES.join(',') : 'proxy,gateway,baseline',
  );
  for (const target of targets) {
    if (!known.includes(target)) {
      throw new Error(
        `BENCH_GATEWAY_TARGETS: unknown target "${target}" (expected ${known.join(', ')}; ` +
          '`baseline` needs BENCH_GATEWAY_BASELINE, the path of another checkout)',
      );
    }
  }
  if (concurrencies.some((value) => !Number.isInteger(value) || value < 1)) {
    throw new Error(
      `BENCH_GATEWAY_CONCURRENCY: expected positive integers, got "${process.env.BENCH_GATEWAY_CONCURRENCY ?? ''}"`,
    );
  }
  const rounds =
    process.env.BENCH_GATEWAY_ROUNDS === undefined
      ? undefined
      : Number(process.env.BENCH_GATEWAY_ROUNDS);
  const tokens = Number(process.env.BENCH_GATEWAY_TOKENS ?? 60);
  const cpuProfileDir =
    process.env.BENCH_GATEWAY_CPU_PROF === '1'
      ? join(__dirname, '..', '..', '.tmp', 'bench', 'gateway', 'profiles', String(Date.now()))
      : undefined;
  const started = performance.now();
  const load = loadavg()[0]!.toFixed(2);

  const cpu = cpus();
  console.log('\n# gateway: direct vs bare proxy vs gateway\n');
  console.log(
    `node ${process.version}, ${platform()} ${release()}, ${cpu.length} × ${cpu[0]?.model ?? 'cpu'}, ${megabytes(totalmem())} RAM`,
  );
  const plan = concurrencies.map(
    (c) =>
      `${grouped(rounds ?? defaultRounds(c))} rounds × ${grouped(requestsPerRun(c))} requests at ${grouped(c)}`,
  );
  console.log(
    `${tokens}-token streamed completions, no artificial latency; ${plan.join(', ')}; ` +
      'client, simulator, proxy and gateway each in their own process\n',
  );
  const nodeFlags = (process.env.BENCH_GATEWAY_NODE_FLAGS ?? '')
    .split(/\s+/)
    .filter((flag) => flag !== '');
  if (nodeFlags.length > 0) console.log(`proxy and gateway run with ${nodeFlags.join(' ')}\n`);
  const result = await runGatewayBench({
    nodeFlags,
    concurrencies,
    rounds,
    tokens,
    targets: targets as TargetName[],
    cpuProfileDir,
    ...(baselineDir === undefined ? {} : { baselineDir }),
  });
  console.log(formatGatewayReport(result));
  if (cpuProfileDir !== undefined) {
    console.log(`\n## CPU profiles (${cpuProfileDir})\n`);
    console.log(summarizeProfiles(cpuProfileDir, result.bundles));
  }
  console.log(
    `\ngateway bench: ${((performance.now() - started) / 1000).toFixed(0)} s; load average at start ${load}, at end ${loadavg()[0]!.toFixed(2)}`,
  );
}
