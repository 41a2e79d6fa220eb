import type { StreamFormat } from '../src/chunk/streaming-chunk';
import type { DecodeProviderStream } from './bundled-decoder';
import { floorDecode, openAISdkDecode, oursDecodeWith, type Decode } from './contenders';
import { piecesOf, streamOf } from './feeds';
import { collectGarbage, grouped, median, table, times } from './report';
import { buildWireBody, type WireBody } from './wire-bytes';

/** How a contender is fed the body's pieces. */
export type Feed = 'async iterable' | 'ReadableStream';

/** Who decodes: the floor, ours, or the openai SDK. */
export type Role = 'floor' | 'ours' | 'sdk';

export interface DecodeBenchConfig {
  /** `decodeProviderStream` as it ships (bundled, see `loadBundledDecoder`). */
  bundled: DecodeProviderStream;
  /** Content tokens per stream (one per event). Default 200,000. */
  tokens?: number;
  /** Measured rounds; each round runs every contender once. Default 7. */
  rounds?: number;
  /** Warm-up runs per contender, on a tenth of the stream, before measuring. Default 2. */
  warmups?: number;
}

interface Contender {
  role: Role;
  feed: Feed;
  decode: Decode;
}

/** One contender's measured runs on one stream. */
export interface ContenderResult {
  role: Role;
  name: string;
  feed: Feed;
  /** Wall-clock milliseconds per run, in round order. */
  wallMs: number[];
  /** Process CPU milliseconds (user + system) per run, in round order. */
  cpuMs: number[];
  /** Why the contender was dropped (an error, or a wrong token count). */
  failure?: string;
}

/** One throughput ratio (`top / bottom`, in tokens/s) checked against its target. */
export interface RatioResult {
  label: string;
  target: number;
  /**
   * The median of the per-round ratios. The two contenders of a round run back to back, so
   * each ratio cancels the machine's slow swings in speed; this is the figure checked.
   */
  paired: number | undefined;
  /** The smallest and largest per-round ratios. */
  range: [number, number] | undefined;
  /** The ratio of the median CPU times, for comparison. */
  cpu: number | undefined;
}

export interface FormatResult {
  format: StreamFormat;
  tokens: number;
  bytes: number;
  bytesPerTokenEvent: number;
  rounds: number;
  contenders: ContenderResult[];
  ratios: RatioResult[];
}

const names: Record<Role, string> = {
  floor: 'floor: eventsource-parser + JSON.parse',
  ours: 'ours: decodeProviderStream',
  sdk: 'openai@6 SDK: Stream.fromSSEResponse',
};

/**
 * The contenders, in groups whose members are compared with each other: each group runs back
 * to back, its order reversed every other round. In the openai ReadableStream group ours sits
 * in the middle, next to both the floor and the SDK in every round.
 */
function groupsFor(format: StreamFormat, bundled: DecodeProviderStream): Contender[][] {
  const ours = oursDecodeWith(bundled);
  const groups: Contender[][] = [
    [
      { role: 'floor', feed: 'async iterable', decode: floorDecode },
      { role: 'ours', feed: 'async iterable', decode: ours },
    ],
  ];
  if (format === 'openai') {
    groups.push([
      { role: 'floor', feed: 'ReadableStream', decode: floorDecode },
      { role: 'ours', feed: 'ReadableStream', decode: ours },
      { role: 'sdk', feed: 'ReadableStream', decode: openAISdkDecode },
    ]);
  }
  return groups;
}

function feedOf(feed: Feed, bytes: Uint8Array): AsyncIterable<Uint8Array> | ReadableStream {
  return feed === 'async iterable' ? piecesOf(bytes) : streamOf(bytes);
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Runs one contender once; returns wall and CPU milliseconds, or throws on error or a wrong count. */
async function timeRun(
  contender: Contender,
  format: StreamFormat,
  body: WireBody,
): Promise<[number, number]> {
  collectGarbage(); // so no run pays for the previous run's garbage
  const input = feedOf(contender.feed, body.bytes);
  const cpuStart = process.cpuUsage();
  const start = performance.now();
  const tokens = await contender.decode(format, input);
  const wall = performance.now() - start;
  const cpu = process.cpuUsage(cpuStart);
  if (tokens !== body.tokens) {
    throw new Error(`decoded ${tokens} tokens, expected ${body.tokens}`);
  }
  return [wall, (cpu.user + cpu.system) / 1000];
}

function ratio(
  label: string,
  target: number,
  results: ContenderResult[],
  top: [Role, Feed],
  bottom: [Role, Feed],
): RatioResult {
  const find = ([role, feed]: [Role, Feed]): ContenderResult | undefined =>
    results.find((result) => result.role === role && result.feed === feed);
  const a = find(top);
  const b = find(bottom);
  if (
    a === undefined ||
    b === undefined ||
    a.failure !== undefined ||
    b.failure !== undefined ||
    a.wallMs.length === 0
  ) {
    return { label, target, paired: undefined, range: undefined, cpu: undefined };
  }
  // Throughput ratio = inverse time ratio.
  const perRound = a.wallMs.map((ms, round) => b.wallMs[round]! / ms);
  return {
    label,
    target,
    paired: median(perRound),
    range: [Math.min(...perRound), Math.max(...perRound)],
    cpu: median(b.cpuMs) / median(a.cpuMs),
  };
}

/**
 * Measures decode throughput on one format's stream. Every contender decodes the same
 * pre-built bytes, fed in the same 16 KiB pieces: first `warmups` runs each on a tenth of the
 * stream, then `rounds` measured rounds. Reports each contender's median tokens/s and the
 * paired ratios against the targets.
 */
export async function benchDecodeFormat(
  format: StreamFormat,
  config: DecodeBenchConfig,
): Promise<FormatResult> {
  const { bundled, tokens = 200_000, rounds = 7, warmups = 2 } = config;
  const body = buildWireBody(format, tokens);
  const warmBody = buildWireBody(format, Math.ceil(tokens / 10));
  const groups = groupsFor(format, bundled);
  const contenders = groups.flat();
  const results = new Map<Contender, ContenderResult>(
    contenders.map((contender) => [
      contender,
      {
        role: contender.role,
        name: names[contender.role],
        feed: contender.feed,
        wallMs: [],
        cpuMs: [],
      },
    ]),
  );

  const attempt = async (contender: Contender, run: () => Promise<void>): Promise<void> => {
    const result = results.get(contender)!;
    if (result.failure !== undefined) return;
    try {
      await run();
    } catch (error) {
      result.failure = describe(error);
    }
  };
  for (const contender of contenders) {
    await attempt(contender, async () => {
      for (let i = 0; i < warmups; i++) await timeRun(contender, format, warmBody);
    });
  }
  for (let round = 0; round < rounds; round++) {
    for (const group of groups) {
      for (const contender of round % 2 === 0 ? group : [...group].reverse()) {
        await attempt(contender, async () => {
          const [wall, cpu] = await timeRun(contender, format, body);
          const result = results.get(contender)!;
          result.wallMs.push(wall);
          result.cpuMs.push(cpu);
        });
      }
    }
  }

  const list = [...results.values()];
  const ratios = [
    ratio(
      'ours / floor (async iterable)',
      0.8,
      list,
      ['ours', 'async iterable'],
      ['floor', 'async iterable'],
    ),
  ];
  if (format === 'openai') {
    ratios.push(
      ratio(
        'ours / floor (ReadableStream)',
        0.8,
        list,
        ['ours', 'ReadableStream'],
        ['floor', 'ReadableStream'],
      ),
      ratio(
        'ours / openai SDK (ReadableStream)',
        5,
        list,
        ['ours', 'ReadableStream'],
        ['sdk', 'ReadableStream'],
      ),
    );
  }
  return {
    format,
    tokens,
    bytes: body.bytes.length,
    bytesPerTokenEvent: body.bytesPerTokenEvent,
    rounds,
    contenders: list,
    ratios,
  };
}

/** Renders one format's results as two Markdown tables: contenders, then ratios. */
export function formatResultTables(result: FormatResult): string {
  const perSecond = (ms: number): number => (result.tokens * 1000) / ms;
  const contenderRows = result.contenders.map((contender) => {
    if (contender.failure !== undefined || contender.wallMs.length === 0) {
      const why = `failed: ${contender.failure ?? 'no runs'}`;
      return [contender.name, contender.feed, 'n/a', 'n/a', 'n/a', 'n/a', why];
    }
    const ms = median(contender.wallMs);
    return [
      contender.name,
      contender.feed,
      grouped(perSecond(ms)),
      grouped(perSecond(median(contender.cpuMs))),
      (result.bytes / 1e3 / ms).toFixed(1),
      grouped(ms),
      `${grouped(perSecond(Math.max(...contender.wallMs)))} – ${grouped(perSecond(Math.min(...contender.wallMs)))}`,
    ];
  });
  const ratioRows = result.ratios.map((entry) => [
    entry.label,
    entry.paired === undefined ? 'n/a' : times(entry.paired),
    entry.range === undefined ? 'n/a' : `${times(entry.range[0])} – ${times(entry.range[1])}`,
    entry.cpu === undefined ? 'n/a' : times(entry.cpu),
    `≥ ${times(entry.target)}`,
    entry.paired === undefined ? 'not measured' : entry.paired >= entry.target ? 'met' : 'MISSED',
  ]);
  return [
    table(
      ['contender', 'feed', 'tokens/s', 'tokens/CPU-s', 'MB/s', 'ms', 'tokens/s min – max'],
      contenderRows,
      'llrrrrl',
    ),
    '',
    table(
      ['ratio (tokens/s)', 'paired median', 'per round', 'CPU medians', 'target', 'result'],
      ratioRows,
      'lrrrll',
    ),
  ].join('\n');
}
