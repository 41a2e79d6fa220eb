import { existsSync, mkdirSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { bundleLikeTsup } from '../bundled-decoder';
import { median } from '../report';
import { BenchChild } from './child';
import type {
  LoadCommand,
  LoadReply,
  LoadResult,
  ServerCommand,
  ServerMeasurement,
  ServerProcessConfig,
  ServerReply,
} from './messages';

/**
 * The targets: straight to the simulator, through the bare proxy, through the parsing proxy (the
 * bare proxy plus SSE and JSON decoding and re-encoding: what normalization alone costs), through
 * our gateway, and (only on request) through the gateway of another checkout, to compare a
 * change with its base in the same run.
 */
export type TargetName = 'direct' | 'proxy' | 'parsing' | 'gateway' | 'baseline';

/** The targets run by default. */
export const TARGET_NAMES: readonly TargetName[] = ['direct', 'proxy', 'parsing', 'gateway'];

/** Configuration of {@link runGatewayBench}. */
export interface GatewayBenchConfig {
  /** Concurrent streams, one phase each. Default `[1, 100, 1000]`. */
  concurrencies?: number[];
  /**
   * Measured rounds per phase; each runs every target once, in a rotating order. Default
   * {@link defaultRounds}: 6, or 3 at 1,000 streams and more.
   */
  rounds?: number | undefined;
  /** Content tokens per streamed answer. Default 60. */
  tokens?: number;
  /** Streamed requests per target before the measured rounds. Default {@link defaultWarmup}. */
  warmup?: number | undefined;
  /** Which targets to run. Default all three (the gateway only if its source exists). */
  targets?: TargetName[];
  /** The checkout whose gateway the `baseline` target runs (its `bench/gateway/gateway-process.ts`). */
  baselineDir?: string;
  /** Every request is aborted after this long, ms. Default 30 000. */
  timeoutMs?: number;
  /** Writes V8 CPU profiles of the proxy and gateway processes (`--cpu-prof`) into this folder. */
  cpuProfileDir?: string | undefined;
  /** Extra node flags of the proxy and gateway processes (both), e.g. V8 heap sizes. Default none. */
  nodeFlags?: string[];
  /** The whole bench is killed after this long, ms. Default 10 minutes. */
  deadlineMs?: number;
}

/** One measured run of one target. */
export interface RunSample {
  round: number;
  /** Position of the target in the round's order, from 0. */
  position: number;
  requests: number;
  ttftP50: number;
  ttftP99: number;
  totalP50: number;
  totalP99: number;
  wallMs: number;
  tokensPerSecond: number;
  requestsPerSecond: number;
  /** The proxy's or gateway's process (undefined for direct). */
  server: ServerMeasurement | undefined;
  upstream: ServerMeasurement;
  clientCpuMs: number;
  /** Body bytes and socket reads the client received per request. */
  bytesPerRequest: number;
  piecesPerRequest: number;
}

/** One phase: every target at one concurrency. */
export interface PhaseResult {
  concurrency: number;
  rounds: number;
  requestsPerRun: number;
  samples: Partial<Record<TargetName, RunSample[]>>;
  /** Lifetime peak RSS (`resourceUsage().maxRSS`) of each server process, bytes. */
  lifetimeMaxRss: Partial<Record<TargetName | 'upstream', number>>;
  /** Handles still open in a server process after its `close()`, by process. */
  leftovers: Partial<Record<TargetName | 'upstream', string[]>>;
}

export interface GatewayBenchResult {
  config: Required<
    Omit<GatewayBenchConfig, 'cpuProfileDir' | 'rounds' | 'warmup' | 'baselineDir'>
  > & {
    cpuProfileDir?: string;
  };
  phases: PhaseResult[];
  /** Why a requested target did not run. */
  skipped: Partial<Record<TargetName, string>>;
  /** The bundled child entry points, for mapping profiles back to sources. */
  bundles: Partial<Record<TargetName | 'upstream' | 'client', string>>;
}

const root = join(__dirname, '..', '..');
const outdir = join(root, '.tmp', 'bench', 'gateway');

/** The source files the gateway target needs; until they exist it is skipped. */
export const GATEWAY_SOURCES = [
  'src/gateway/start-gateway.ts',
  'src/router/create-router.ts',
  'src/logging/create-logger.ts',
];

/**
 * Bundles each child entry the way tsup ships code (esbuild, one bundle, target node20, packages
 * external), so the child processes run plain JavaScript on plain node: no tsx loader in the
 * processes measured, no per-file export getters, no `__name` wrappers.
 */
function bundle(entries: Record<string, string>): Record<string, string> {
  mkdirSync(outdir, { recursive: true });
  const files: Record<string, string> = {};
  for (const [name, source] of Object.entries(entries)) {
    const outfile = join(outdir, `${name}.cjs`);
    bundleLikeTsup(isAbsolute(source) ? source : join(__dirname, source), outfile);
    files[name] = outfile;
  }
  return files;
}

/** A progress line on stderr (stdout carries only the report). */
function progress(what: string, since: number): void {
  console.error(`gateway bench: ${what}: ${((performance.now() - since) / 1000).toFixed(1)} s`);
}

/** The value at percentile `p` (nearest rank) of ascending `sorted`. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[
    Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))
  ]!;
}

/** Requests per measured run: enough for a p99, bounded so the whole bench stays short. */
export function requestsPerRun(concurrency: number): number {
  if (concurrency <= 1) return 200;
  return Math.max(concurrency * 2, 1000);
}

/** Default rounds at a concurrency: fewer at 1,000 streams, where each run has 2,000 samples. */
export function defaultRounds(concurrency: number): number {
  return concurrency >= 1000 ? 3 : 6;
}

/**
 * Streamed requests per target before the measured rounds: `BENCH_GATEWAY_WARMUP`, else
 * `max(concurrency, 300)`.
 */
export function defaultWarmup(concurrency: number): number {
  const fromEnv = process.env.BENCH_GATEWAY_WARMUP;
  return fromEnv === undefined ? Math.max(concurrency, 300) : Number(fromEnv);
}

/**
 * The order of the targets in round `round`: rotated by one each round, and reversed after
 * every full rotation, so over `2 × targets` rounds each target runs in each position, before
 * and after each other target, equally often.
 */
export function orderOf(targets: readonly TargetName[], round: number): TargetName[] {
  const n = targets.length;
  const rotated = targets.map((_, index) => targets[(index + round) % n]!);
  return Math.floor(round / n) % 2 === 1 ? rotated.reverse() : rotated;
}

const requestBody = JSON.stringify({
  model: 'gpt-4o-mini',
  stream: true,
  stream_options: { include_usage: true },
  messages: [{ role: 'user', content: 'Tell me about gateways.' }],
});

const requestHeaders = {
  'content-type': 'application/json',
  accept: 'text/event-stream',
  authorization: 'Bearer sk-bench',
};

/** What the deadline needs of a child. */
interface Killable {
  kill(): void;
}

type ServerChild = BenchChild<ServerCommand, ServerReply>;
type ClientChild = BenchChild<LoadCommand, LoadReply>;

/**
 * The gateway benchmark: direct to the simulator, through a bare pass-through proxy, and through
 * our gateway, in the same run, alternating their order. Each phase (one concurrency) starts its
 * own processes: the simulator, the proxy, the gateway and the load generator, each in its own
 * process; the proxy's and gateway's CPU time and RSS are measured inside their processes.
 * Throws when any stream fails (error, cut, wrong token count) or a child misbehaves; every
 * child is ended before it returns or throws.
 */
export async function runGatewayBench(
  config: GatewayBenchConfig = {},
): Promise<GatewayBenchResult> {
  const {
    concurrencies = [1, 100, 1000],
    rounds,
    tokens = 60,
    targets: requested = [...TARGET_NAMES],
    timeoutMs = 30_000,
    cpuProfileDir,
    nodeFlags = [],
    deadlineMs = 10 * 60_000,
    baselineDir,
  } = config;
  if (requested.includes('baseline') && baselineDir === undefined) {
    throw new Error(
      'gateway bench: the baseline target needs baselineDir (BENCH_GATEWAY_BASELINE)',
    );
  }
  const skipped: GatewayBenchResult['skipped'] = {};
  const missing = GATEWAY_SOURCES.filter((file) => !existsSync(join(root, file)));
  const targets = requested.filter((target) => {
    if (target !== 'gateway' || missing.length === 0) return true;
    skipped.gateway = `not yet written: ${missing.join(', ')} missing`;
    return false;
  });
  const bundles = bundle({
    upstream: 'upstream-process.ts',
    client: 'load-client.ts',
    ...(targets.includes('proxy') ? { proxy: 'proxy-process.ts' } : {}),
    ...(targets.includes('parsing') ? { parsing: 'parsing-proxy-process.ts' } : {}),
    ...(targets.includes('gateway') ? { gateway: 'gateway-process.ts' } : {}),
    ...(targets.includes('baseline') && baselineDir !== undefined
      ? { baseline: resolve(baselineDir, 'bench', 'gateway', 'gateway-process.ts') }
      : {}),
  });
  if (cpuProfileDir !== undefined) mkdirSync(cpuProfileDir, { recursive: true });

  const live = new Set<Killable>();
  const deadline = setTimeout(() => {
    console.error(`gateway bench: over its ${deadlineMs} ms deadline; killing its processes`);
    for (const child of live) child.kill();
  }, deadlineMs);
  const phases: PhaseResult[] = [];
  const connections = Math.max(...concurrencies) + 24;
  try {
    for (const concurrency of concurrencies) {
      phases.push(
        await runPhase({
          concurrency,
          rounds: rounds ?? defaultRounds(concurrency),
          warmup: config.warmup ?? defaultWarmup(concurrency),
          tokens,
          targets,
          timeoutMs,
          connections,
          bundles,
          cpuProfileDir,
          nodeFlags,
          live,
        }),
      );
    }
  } finally {
    clearTimeout(deadline);
    for (const child of live) child.kill();
  }
  return {
    config: {
      concurrencies,
      tokens,
      targets,
      timeoutMs,
      nodeFlags,
      deadlineMs,
      ...(cpuProfileDir === undefined ? {} : { cpuProfileDir }),
    },
    phases,
    skipped,
    bundles,
  };
}

interface PhaseSetup {
  concurrency: number;
  rounds: number;
  warmup: number;
  tokens: number;
  targets: TargetName[];
  timeoutMs: number;
  connections: number;
  bundles: Record<string, string>;
  cpuProfileDir: string | undefined;
  nodeFlags: string[];
  live: Set<Killable>;
}

async function runPhase(setup: PhaseSetup): Promise<PhaseResult> {
  const { concurrency, rounds, warmup, tokens, targets, timeoutMs, bundles, live } = setup;
  const requests = requestsPerRun(concurrency);
  const startupMs = 20_000;
  const servers: Partial<Record<TargetName | 'upstream', ServerChild>> = {};
  let client: ClientChild | undefined;
  const track = <C extends Killable>(child: C): C => {
    live.add(child);
    return child;
  };
  const spawnServer = (name: TargetName | 'upstream', upstream?: string): ServerChild => {
    const serverConfig: ServerProcessConfig = {
      connections: setup.connections,
      tokens,
      ...(upstream === undefined ? {} : { upstream }),
    };
    const execArgv =
      name === 'upstream'
        ? []
        : [
            ...setup.nodeFlags,
            ...(setup.cpuProfileDir === undefined
              ? []
              : [
                  '--cpu-prof',
                  `--cpu-prof-dir=${setup.cpuProfileDir}`,
                  `--cpu-prof-name=${name}-${concurrency}.cpuprofile`,
                ]),
          ];
    const child = track(
      new BenchChild<ServerCommand, ServerReply>(
        `${name} (${concurrency} streams)`,
        bundles[name]!,
        [JSON.stringify(serverConfig)],
        execArgv,
      ),
    );
    servers[name] = child;
    return child;
  };
  const result: PhaseResult = {
    concurrency,
    rounds,
    requestsPerRun: requests,
    samples: {},
    lifetimeMaxRss: {},
    leftovers: {},
  };

  try {
    const upstream = spawnServer('upstream');
    const upstreamUrl = (await upstream.next('ready', startupMs)).url;
    const urls: Partial<Record<TargetName, string>> = { direct: upstreamUrl };
    for (const target of targets) {
      if (target === 'direct') continue;
      urls[target] = (await spawnServer(target, upstreamUrl).next('ready', startupMs)).url;
    }
    const load = track(
      new BenchChild<LoadCommand, LoadReply>(
        `load generator (${concurrency} streams)`,
        bundles.client!,
        [],
      ),
    );
    client = load;

    const run = async (
      target: TargetName,
      count: number,
      method: 'GET' | 'POST' = 'POST',
    ): Promise<LoadResult> => {
      const waves = Math.ceil(count / concurrency);
      const reply = await load.request(
        {
          type: 'run',
          origin: urls[target]!,
          method,
          path: method === 'GET' ? '/v1/models' : '/v1/chat/completions',
          body: requestBody,
          headers: requestHeaders,
          concurrency,
          requests: count,
          tokens,
          timeoutMs,
        },
        'result',
        waves * timeoutMs + 30_000,
      );
      if (reply.errors > 0) {
        throw new Error(
          `gateway bench: ${target} at ${concurrency} streams: ${reply.errors} of ${count} streams ` +
            `failed (${reply.completed} completed). First errors:\n  ${reply.errorSamples.join('\n  ')}`,
        );
      }
      return reply;
    };

    // Warm-up. First the keep-alive connections are opened, `concurrency` at once, with a cheap
    // GET /v1/models: opening them under a full load of streams would measure the kernel's listen
    // backlog (511) and connect timeouts rather than the servers. Then streams warm the JIT.
    const warmStarted = performance.now();
    for (const target of targets) {
      if (concurrency > 1) await run(target, concurrency, 'GET');
      await run(target, warmup);
    }
    progress(`${concurrency} streams: warm-up`, warmStarted);

    for (let round = 0; round < rounds; round++) {
      const roundStarted = performance.now();
      const order = orderOf(targets, round);
      for (const [position, target] of order.entries()) {
        const server = target === 'direct' ? undefined : servers[target]!;
        const measured = server === undefined ? [upstream] : [upstream, server];
        await Promise.all(
          measured.map((child) => child.request({ type: 'measure-start' }, 'measuring', 10_000)),
        );
        const load = await run(target, requests);
        // Let the server finish what it does after the last byte (logs, metrics, sessions).
        await sleep(50);
        const [upstreamMeasure, serverMeasure] = await Promise.all(
          measured.map((child) => child.request({ type: 'measure-stop' }, 'measured', 10_000)),
        );
        const ttft = [...load.ttftMs].sort((a, b) => a - b);
        const total = [...load.totalMs].sort((a, b) => a - b);
        const sample: RunSample = {
          round,
          position,
          requests,
          ttftP50: percentile(ttft, 50),
          ttftP99: percentile(ttft, 99),
          totalP50: percentile(total, 50),
          totalP99: percentile(total, 99),
          wallMs: load.wallMs,
          tokensPerSecond: load.tokens / (load.wallMs / 1000),
          requestsPerSecond: load.completed / (load.wallMs / 1000),
          server: strip(serverMeasure),
          upstream: strip(upstreamMeasure)!,
          clientCpuMs: load.cpuMs,
          bytesPerRequest: load.bytes / requests,
          piecesPerRequest: load.pieces / requests,
        };
        (result.samples[target] ??= []).push(sample);
      }
      progress(
        `${concurrency} streams: round ${round + 1} of ${rounds} (${order.join(', ')})`,
        roundStarted,
      );
    }
  } finally {
    if (client !== undefined) {
      await client.stop({ type: 'shutdown' }, 'closed', 10_000);
      live.delete(client);
    }
    // The targets first, then the simulator they talk to.
    const order: (TargetName | 'upstream')[] = [
      'gateway',
      'baseline',
      'parsing',
      'proxy',
      'upstream',
    ];
    for (const name of order) {
      const child = servers[name];
      if (child === undefined) continue;
      const closed = await child.stop({ type: 'shutdown' }, 'closed', 10_000);
      live.delete(child);
      if (closed !== undefined) {
        result.lifetimeMaxRss[name] = closed.maxRss;
        if (closed.resources.length > 0) result.leftovers[name] = closed.resources;
      }
    }
  }
  return result;
}

function strip(
  reply: (ServerMeasurement & { type?: string }) | undefined,
): ServerMeasurement | undefined {
  if (reply === undefined) return undefined;
  const { cpuMs, mainThreadCpuMs, peakRss, heapAtPeak, connections } = reply;
  return { cpuMs, mainThreadCpuMs, peakRss, heapAtPeak, connections };
}

/** The median over rounds of `pick`, or undefined without samples. */
export function medianOf(
  samples: readonly RunSample[] | undefined,
  pick: (sample: RunSample) => number | undefined,
): number | undefined {
  const values = (samples ?? [])
    .map(pick)
    .filter((value): value is number => value !== undefined && Number.isFinite(value));
  return values.length === 0 ? undefined : median(values);
}

/** The median over rounds of `pick(target) - pick(base)`, paired by round. */
export function pairedDifference(
  samples: readonly RunSample[] | undefined,
  base: readonly RunSample[] | undefined,
  pick: (sample: RunSample) => number,
): number | undefined {
  return pairedMedian(samples, base, (sample, other) => pick(sample) - pick(other));
}

/** The median over rounds of `pick(target) / pick(base)`, paired by round. */
export function pairedRatio(
  samples: readonly RunSample[] | undefined,
  base: readonly RunSample[] | undefined,
  pick: (sample: RunSample) => number,
): number | undefined {
  return pairedMedian(samples, base, (sample, other) => pick(sample) / pick(other));
}

/** The median over rounds of `compare(sample, base's sample of the same round)`. */
function pairedMedian(
  samples: readonly RunSample[] | undefined,
  base: readonly RunSample[] | undefined,
  compare: (sample: RunSample, other: RunSample) => number,
): number | undefined {
  if (samples === undefined || base === undefined) return undefined;
  const values = samples.flatMap((sample) => {
    const other = base.find((candidate) => candidate.round === sample.round);
    return other === undefined ? [] : [compare(sample, other)];
  });
  return values.length === 0 ? undefined : median(values);
}
