import type { DecodeProviderStream } from './bundled-decoder';
import { oursDecodeWith } from './contenders';
import { repeatedBody } from './feeds';
import { collectGarbage, grouped, megabytes, table } from './report';
import { wireParts } from './wire-bytes';

export interface HeapBenchConfig {
  /** `decodeProviderStream` as it ships (bundled). */
  bundled: DecodeProviderStream;
  /** Body size to decode, in bytes. Default 100 MiB. */
  totalBytes?: number;
  /** Sample the heap after this many bytes, at most. Default 4 MiB. */
  sampleEvery?: number;
}

export interface HeapResult {
  /** Whether samples were taken after a full gc (`--expose-gc`). */
  gc: boolean;
  bytes: number;
  tokens: number;
  ms: number;
  /** heapUsed before decoding, bytes. */
  baseline: number;
  /** heapUsed samples during decoding and at the end, bytes. */
  samples: number[];
  /** heapUsed at the end, after the stream completed, bytes. */
  end: number;
  /** The largest sample minus the baseline, bytes. */
  maxGrowth: number;
  /** The largest growth of `arrayBuffers` (byte buffers outside the JS heap), bytes. */
  maxArrayBufferGrowth: number;
}

/**
 * Decodes a large OpenAI stream (100 MiB by default) fed lazily by a generator that repeats one
 * pre-built ~1 MiB block of events, so the input itself is never held; samples `heapUsed` after a
 * full gc before, every few MiB during, and after decoding.
 */
export async function benchDecodeHeap(config: HeapBenchConfig): Promise<HeapResult> {
  const { bundled, totalBytes = 100 * 2 ** 20, sampleEvery = 4 * 2 ** 20 } = config;
  const parts = wireParts('openai');
  const encoder = new TextEncoder();
  const blockTokens = 3600;
  const events: string[] = [];
  for (let i = 0; i < blockTokens; i++) events.push(parts.token(i));
  const block = encoder.encode(events.join(''));
  const head = encoder.encode(parts.head);
  const repeat = Math.ceil(totalBytes / block.length);
  const tokens = repeat * blockTokens;
  const tail = encoder.encode(parts.tail(tokens));
  const sampleBlocks = Math.max(1, Math.floor(sampleEvery / block.length));

  const gc = collectGarbage();
  collectGarbage();
  const first = process.memoryUsage();
  const baseline = first.heapUsed;
  let maxArrayBuffers = first.arrayBuffers;
  const samples: number[] = [];
  const sample = (): number => {
    collectGarbage();
    const usage = process.memoryUsage();
    maxArrayBuffers = Math.max(maxArrayBuffers, usage.arrayBuffers);
    samples.push(usage.heapUsed);
    return usage.heapUsed;
  };

  const start = performance.now();
  const decoded = await oursDecodeWith(bundled)(
    'openai',
    repeatedBody({
      head,
      block,
      repeat,
      tail,
      onBlock: (sent) => {
        if (sent % sampleBlocks === 0) sample();
      },
    }),
  );
  const ms = performance.now() - start;
  if (decoded !== tokens) throw new Error(`decoded ${decoded} tokens, expected ${tokens}`);
  const end = sample();
  return {
    gc,
    bytes: head.length + block.length * repeat + tail.length,
    tokens,
    ms,
    baseline,
    samples,
    end,
    maxGrowth: Math.max(...samples) - baseline,
    maxArrayBufferGrowth: maxArrayBuffers - first.arrayBuffers,
  };
}

/** Renders the heap result as a short Markdown table. */
export function formatHeapResult(result: HeapResult): string {
  const mb = (bytes: number): string => megabytes(bytes);
  const quarter = (fraction: number): string =>
    mb(
      result.samples[
        Math.min(result.samples.length - 1, Math.floor(fraction * result.samples.length))
      ]!,
    );
  const rows = [
    ['body decoded', `${mb(result.bytes)} (${grouped(result.tokens)} tokens, lazy feed)`],
    [
      'decode time',
      `${grouped(result.ms)} ms (${grouped((result.tokens * 1000) / result.ms)} tokens/s)`,
    ],
    ['heapUsed before', mb(result.baseline)],
    ['heapUsed at 25 / 50 / 75 %', `${quarter(0.25)} / ${quarter(0.5)} / ${quarter(0.75)}`],
    ['heapUsed after', mb(result.end)],
    [
      'samples',
      `${result.samples.length}${result.gc ? ', each after a full gc' : ' (no --expose-gc: garbage included)'}`,
    ],
    [
      'max heap growth',
      `${mb(result.maxGrowth)} (target < 50 MB: ${result.maxGrowth < 50e6 ? 'met' : 'MISSED'})`,
    ],
    ['max arrayBuffers growth', mb(result.maxArrayBufferGrowth)],
  ];
  return table(['heap (100 MiB OpenAI stream)', 'value'], rows, 'll');
}
