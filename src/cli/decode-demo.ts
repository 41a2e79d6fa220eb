import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { lastValueFrom, tap } from 'rxjs';
import type { StreamFormat, Usage } from '../chunk/streaming-chunk';
import { collectCompletion } from '../chunk/collect-completion';
import { decodeProviderStream } from '../providers/decode-provider-stream';

/** Options of {@link runDecodeDemo}. */
export interface DecodeDemoOptions {
  /** Where the output goes. */
  write: (text: string) => void;
  /** Delay between network-sized pieces, to show the text as it streams. 0 for none. */
  paceMs?: number;
  /** Folder of the sample streams (`<format>.sse`). */
  samplesDir?: string;
}

const formats: StreamFormat[] = ['openai', 'anthropic', 'google'];

/** Replays recorded bytes in small pieces, as a network would deliver them. */
async function* paced(
  bytes: Uint8Array,
  pieceSize: number,
  paceMs: number,
): AsyncGenerator<Uint8Array> {
  for (let offset = 0; offset < bytes.length; offset += pieceSize) {
    if (paceMs > 0) await delay(paceMs);
    yield bytes.subarray(offset, offset + pieceSize);
  }
}

function describeUsage(usage: Usage | undefined): string {
  if (usage === undefined) return 'no usage reported';
  const cached = usage.prompt_tokens_details?.cached_tokens;
  return `prompt ${usage.prompt_tokens}${cached === undefined ? '' : ` (cached ${cached})`}, completion ${usage.completion_tokens}, total ${usage.total_tokens}`;
}

/**
 * The decode demo: decodes the bundled sample stream of each provider's wire format and prints
 * the text as it streams, then the chunk count, the streamed token count and the usage.
 */
export async function runDecodeDemo(options: DecodeDemoOptions): Promise<void> {
  const {
    write,
    paceMs = 0,
    samplesDir = join(__dirname, '..', '..', 'examples', 'streams'),
  } = options;
  for (const format of formats) {
    const bytes = new Uint8Array(await readFile(join(samplesDir, `${format}.sse`)));
    write(`\n── ${format} (${bytes.length} bytes of recorded SSE) ──\n`);
    let contentChunks = 0;
    const completion = await lastValueFrom(
      decodeProviderStream(format, paced(bytes, 97, paceMs)).pipe(
        tap((chunk) => {
          for (const choice of chunk.choices) {
            if (typeof choice.delta.content === 'string' && choice.delta.content !== '') {
              contentChunks++;
              write(choice.delta.content);
            }
          }
        }),
        collectCompletion(),
      ),
    );
    const choice = completion.choices[0];
    write(
      `\n[${completion.provider} · ${completion.model}] ${contentChunks} content chunks · finish ${
        choice?.finish_reason ?? 'none'
      }${choice?.raw_finish_reason === undefined ? '' : ` (${choice.raw_finish_reason})`} · usage: ${describeUsage(completion.usage)}\n`,
    );
  }
}

if (require.main === module) {
  runDecodeDemo({ write: (text) => process.stdout.write(text), paceMs: 12 }).catch(
    (error: unknown) => {
      console.error(error);
      process.exitCode = 1;
    },
  );
}
