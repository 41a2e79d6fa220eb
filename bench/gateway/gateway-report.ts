import { grouped, megabytes, table, times } from '../report';
import {
  medianOf,
  pairedDifference,
  pairedRatio,
  type GatewayBenchResult,
  type PhaseResult,
  type RunSample,
  type TargetName,
} from './run-gateway-bench';

const labels: Record<TargetName, string> = {
  direct: 'direct (simulator)',
  proxy: 'bare proxy',
  parsing: 'parsing proxy',
  gateway: 'gateway',
  baseline: 'gateway (baseline)',
};

/** Milliseconds with a precision that suits their size. */
function ms(value: number | undefined, signed = false): string {
  if (value === undefined) return '–';
  const sign = signed && value >= 0 ? '+' : '';
  const abs = Math.abs(value);
  const digits = abs < 10 ? 2 : abs < 100 ? 1 : 0;
  return `${sign}${value.toFixed(digits)}`;
}

function peakRss(samples: readonly RunSample[] | undefined): number | undefined {
  const values = (samples ?? []).flatMap((sample) =>
    sample.server === undefined ? [] : [sample.server.peakRss],
  );
  return values.length === 0 ? undefined : Math.max(...values);
}

/** The V8 heap in the sample of the largest RSS over the rounds. */
function heapAtPeak(samples: readonly RunSample[]): string {
  let peak: RunSample['server'];
  for (const sample of samples) {
    if (sample.server !== undefined && sample.server.peakRss > (peak?.peakRss ?? -1)) {
      peak = sample.server;
    }
  }
  return peak === undefined ? '' : megabytes(peak.heapAtPeak);
}

function cpuPerRequest(sample: RunSample): number | undefined {
  return sample.server === undefined ? undefined : sample.server.cpuMs / sample.requests;
}

/** One target-and-concurrency row of the figures the issue asks for. */
interface TargetFigures {
  ttftP50: number | undefined;
  ttftP99: number | undefined;
  totalP50: number | undefined;
  totalP99: number | undefined;
  addedTtftP50: number | undefined;
  addedTtftP99: number | undefined;
  addedTotalP50: number | undefined;
  addedTotalP99: number | undefined;
  cpuMsPerRequest: number | undefined;
  peakRss: number | undefined;
  tokensPerSecond: number | undefined;
  requestsPerSecond: number | undefined;
}

/** The figures of one target in one phase: medians over rounds; added ones paired by round. */
export function figures(phase: PhaseResult, target: TargetName): TargetFigures {
  const samples = phase.samples[target];
  const direct = target === 'direct' ? undefined : phase.samples.direct;
  return {
    ttftP50: medianOf(samples, (sample) => sample.ttftP50),
    ttftP99: medianOf(samples, (sample) => sample.ttftP99),
    totalP50: medianOf(samples, (sample) => sample.totalP50),
    totalP99: medianOf(samples, (sample) => sample.totalP99),
    addedTtftP50: pairedDifference(samples, direct, (sample) => sample.ttftP50),
    addedTtftP99: pairedDifference(samples, direct, (sample) => sample.ttftP99),
    addedTotalP50: pairedDifference(samples, direct, (sample) => sample.totalP50),
    addedTotalP99: pairedDifference(samples, direct, (sample) => sample.totalP99),
    cpuMsPerRequest: medianOf(samples, cpuPerRequest),
    peakRss: peakRss(samples),
    tokensPerSecond: medianOf(samples, (sample) => sample.tokensPerSecond),
    requestsPerSecond: medianOf(samples, (sample) => sample.requestsPerSecond),
  };
}

/** A target of the issue, checked. */
export interface TargetCheck {
  label: string;
  value: string;
  target: string;
  met: boolean | undefined;
}

function check(
  label: string,
  value: number | undefined,
  format: (value: number) => string,
  target: string,
  met: (value: number) => boolean,
): TargetCheck {
  return {
    label,
    value: value === undefined || !Number.isFinite(value) ? '–' : format(value),
    target,
    met: value === undefined || !Number.isFinite(value) ? undefined : met(value),
  };
}

/** The targets, gateway against the bare proxy, at every concurrency measured. */
export function checkTargets(result: GatewayBenchResult): TargetCheck[] {
  const checks: TargetCheck[] = [];
  const phase = (concurrency: number): PhaseResult | undefined =>
    result.phases.find((candidate) => candidate.concurrency === concurrency);
  const one = phase(1);
  if (one !== undefined) {
    checks.push(
      check(
        'added TTFT p50 at 1 stream',
        figures(one, 'gateway').addedTtftP50,
        (value) => `${ms(value, true)} ms`,
        '< 1 ms',
        (value) => value < 1,
      ),
    );
  }
  for (const current of result.phases) {
    if (current.concurrency === 1) continue;
    const gateway = figures(current, 'gateway').addedTtftP50;
    const proxy = figures(current, 'proxy').addedTtftP50;
    const ratio = gateway === undefined || proxy === undefined ? undefined : gateway / proxy;
    checks.push(
      check(
        `added TTFT p50 vs bare proxy's at ${grouped(current.concurrency)}`,
        ratio,
        (value) => `${times(value)} (${ms(gateway, true)} vs ${ms(proxy, true)} ms)`,
        '≤ 2×',
        (value) => value <= 2,
      ),
    );
  }
  for (const current of result.phases) {
    const gateway = figures(current, 'gateway').cpuMsPerRequest;
    const proxy = figures(current, 'proxy').cpuMsPerRequest;
    const ratio = gateway === undefined || proxy === undefined ? undefined : gateway / proxy;
    checks.push(
      check(
        `CPU per request vs bare proxy at ${grouped(current.concurrency)}`,
        ratio,
        (value) => `${times(value)} (${ms(gateway)} vs ${ms(proxy)} ms)`,
        '≤ 2.5×',
        (value) => value <= 2.5,
      ),
    );
  }
  const largest = result.phases.at(-1);
  if (largest !== undefined) {
    const gateway = peakRss(largest.samples.gateway);
    const proxy = peakRss(largest.samples.proxy);
    const ratio = gateway === undefined || proxy === undefined ? undefined : gateway / proxy;
    checks.push(
      check(
        `peak RSS vs bare proxy at ${grouped(largest.concurrency)}`,
        ratio,
        (value) => `${times(value)} (${megabytes(gateway ?? NaN)} vs ${megabytes(proxy ?? NaN)})`,
        '≤ 1.5×',
        (value) => value <= 1.5,
      ),
    );
  }
  for (const current of result.phases) {
    const ratio = pairedRatio(
      current.samples.gateway,
      current.samples.proxy,
      (sample) => sample.tokensPerSecond,
    );
    checks.push(
      check(
        `tokens/s vs bare proxy at ${grouped(current.concurrency)}`,
        ratio,
        times,
        '≥ 0.5×',
        (value) => value >= 0.5,
      ),
    );
  }
  return checks;
}

/**
 * What normalization alone costs: the parsing proxy against the bare proxy, and the gateway
 * against the parsing proxy, per concurrency. Empty when the parsing proxy did not run.
 */
function floorTable(result: GatewayBenchResult): string[] {
  const rows: string[][] = [];
  for (const phase of result.phases) {
    if (phase.samples.parsing === undefined) continue;
    const cpu = (target: TargetName): number | undefined => figures(phase, target).cpuMsPerRequest;
    const added = (target: TargetName): number | undefined => figures(phase, target).addedTtftP50;
    const ratio = (a: number | undefined, b: number | undefined): string =>
      a === undefined || b === undefined ? '–' : times(a / b);
    rows.push([
      grouped(phase.concurrency),
      ratio(cpu('parsing'), cpu('proxy')),
      ratio(cpu('gateway'), cpu('parsing')),
      ratio(added('parsing'), added('proxy')),
      ratio(added('gateway'), added('parsing')),
    ]);
  }
  if (rows.length === 0) return [];
  return [
    '',
    table(
      [
        'streams',
        'CPU/req: parsing vs bare proxy',
        'CPU/req: gateway vs parsing proxy',
        '+TTFT p50: parsing vs bare proxy',
        '+TTFT p50: gateway vs parsing proxy',
      ],
      rows,
      'lrrrr',
    ),
  ];
}

function verdict(met: boolean | undefined): string {
  if (met === undefined) return 'not measured';
  return met ? 'met' : '**missed**';
}

/** The report as Markdown: the main table, the targets, and the checks behind the figures. */
export function formatGatewayReport(result: GatewayBenchResult): string {
  const targets = result.config.targets;
  const main: string[][] = [];
  const context: string[][] = [];
  for (const phase of result.phases) {
    for (const target of targets) {
      const samples = phase.samples[target];
      if (samples === undefined) continue;
      const figure = figures(phase, target);
      main.push([
        grouped(phase.concurrency),
        labels[target],
        ms(figure.ttftP50),
        ms(figure.ttftP99),
        ms(figure.totalP50),
        ms(figure.totalP99),
        target === 'direct' ? '' : ms(figure.addedTtftP50, true),
        target === 'direct' ? '' : ms(figure.addedTtftP99, true),
        target === 'direct' ? '' : ms(figure.addedTotalP50, true),
        target === 'direct' ? '' : ms(figure.addedTotalP99, true),
        figure.cpuMsPerRequest === undefined ? '' : figure.cpuMsPerRequest.toFixed(3),
        figure.peakRss === undefined ? '' : megabytes(figure.peakRss),
        grouped(figure.tokensPerSecond ?? NaN),
        grouped(figure.requestsPerSecond ?? NaN),
      ]);
      const lifetime = phase.lifetimeMaxRss[target === 'direct' ? 'upstream' : target];
      context.push([
        grouped(phase.concurrency),
        labels[target],
        grouped(phase.requestsPerRun),
        ms(medianOf(samples, (sample) => sample.wallMs)),
        target === 'direct'
          ? ''
          : (
              medianOf(samples, (sample) =>
                sample.server?.mainThreadCpuMs === undefined
                  ? undefined
                  : sample.server.mainThreadCpuMs / sample.requests,
              ) ?? NaN
            ).toFixed(3),
        (medianOf(samples, (sample) => sample.upstream.cpuMs / sample.requests) ?? NaN).toFixed(3),
        (medianOf(samples, (sample) => sample.clientCpuMs / sample.requests) ?? NaN).toFixed(3),
        String(
          samples.reduce(
            (sum, sample) => sum + (sample.server?.connections ?? sample.upstream.connections),
            0,
          ),
        ),
        String(
          target === 'direct'
            ? '–'
            : samples.reduce((sum, sample) => sum + sample.upstream.connections, 0),
        ),
        heapAtPeak(samples),
        lifetime === undefined ? '' : megabytes(lifetime),
        grouped(medianOf(samples, (sample) => sample.bytesPerRequest) ?? NaN),
        (medianOf(samples, (sample) => sample.piecesPerRequest) ?? NaN).toFixed(1),
      ]);
    }
  }
  const parts = [
    table(
      [
        'streams',
        'target',
        'TTFT p50',
        'TTFT p99',
        'total p50',
        'total p99',
        '+TTFT p50',
        '+TTFT p99',
        '+total p50',
        '+total p99',
        'CPU ms/req',
        'peak RSS',
        'tokens/s',
        'req/s',
      ],
      main,
      'llrrrrrrrrrrrr',
    ),
    '',
    'Times in ms, medians over rounds; `+` columns: added over direct, paired by round. CPU and RSS: the proxy or gateway process.',
    '',
    table(
      ['target (from the issue)', 'gateway', 'target', 'result'],
      checkTargets(result).map((row) => [row.label, row.value, row.target, verdict(row.met)]),
      'lrll',
    ),
    ...floorTable(result),
    '',
    table(
      [
        'streams',
        'target',
        'requests/run',
        'run ms',
        'main-thread CPU ms/req',
        'simulator CPU ms/req',
        'client CPU ms/req',
        'new conns to target',
        'new conns to simulator',
        'heap at peak RSS',
        'lifetime max RSS',
        'bytes/resp',
        'reads/resp',
      ],
      context,
      'llrrrrrrrrrrr',
    ),
  ];
  const cold = result.phases.flatMap((phase) =>
    Object.entries(phase.samples).flatMap(([target, samples]) => {
      const opened = samples.reduce(
        (sum, sample) => sum + sample.upstream.connections + (sample.server?.connections ?? 0),
        0,
      );
      return opened === 0
        ? []
        : [
            `- warning: ${target} at ${grouped(phase.concurrency)} streams opened ${opened} connections while measured (not all warm)`,
          ];
    }),
  );
  if (cold.length > 0) parts.push('', ...cold);
  const leftovers = result.phases.flatMap((phase) =>
    Object.entries(phase.leftovers).map(
      ([name, handles]) =>
        `- ${name} at ${grouped(phase.concurrency)} streams: after close(), still open: ${handles.join(', ')}`,
    ),
  );
  if (leftovers.length > 0) parts.push('', ...leftovers);
  for (const [target, reason] of Object.entries(result.skipped)) {
    parts.push('', `- ${target}: skipped (${reason})`);
  }
  return parts.join('\n');
}
