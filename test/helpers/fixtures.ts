import { readFileSync, readdirSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { firstValueFrom, toArray, catchError, of, map } from 'rxjs';
import { decodeProviderStream } from '../../src/providers/decode-provider-stream';
import type { DecodeProviderStreamOptions } from '../../src/providers/decode-provider-stream';
import type { StreamFormat, StreamingChunk } from '../../src/chunk/streaming-chunk';
import { isRouterError } from '../../src/errors/router-error';

export const fixturesDir = join(__dirname, '..', 'fixtures');

/** The `created` time the decoders see under {@link freezeNow}: 2026-01-01T00:00:00Z. */
export const FROZEN_NOW_MS = 1767225600000;

/** Pins Date.now() so decoders that stamp `created` themselves are deterministic. */
export function freezeNow(): void {
  jest.spyOn(Date, 'now').mockReturnValue(FROZEN_NOW_MS);
}

/** The fixture case names of a provider (files `<case>.sse`). */
export function listFixtures(provider: string): string[] {
  return readdirSync(join(fixturesDir, provider))
    .filter((f) => f.endsWith('.sse'))
    .map((f) => f.slice(0, -'.sse'.length))
    .sort();
}

export function loadFixture(provider: string, name: string): Uint8Array {
  return new Uint8Array(readFileSync(join(fixturesDir, provider, `${name}.sse`)));
}

/** An async iterable over `bytes` cut at the given sizes (cycled), or into one piece. */
export async function* pieces(
  bytes: Uint8Array,
  sizes: readonly number[] = [],
): AsyncGenerator<Uint8Array> {
  if (sizes.length === 0) {
    yield bytes;
    return;
  }
  let offset = 0;
  let i = 0;
  while (offset < bytes.length) {
    const size = Math.max(1, sizes[i++ % sizes.length]!);
    yield bytes.subarray(offset, offset + size);
    offset += size;
    await Promise.resolve();
  }
}

/** A plain, comparable view of an error. */
export function describeError(error: unknown): Record<string, unknown> {
  if (isRouterError(error)) {
    const out: Record<string, unknown> = {
      name: error.name,
      code: error.code,
      isRetryable: error.isRetryable,
    };
    for (const key of ['status', 'retryAfterMs', 'kind', 'providerCode'] as const) {
      const value = (error as unknown as Record<string, unknown>)[key];
      if (value !== undefined) out[key] = value;
    }
    return out;
  }
  return { name: (error as Error).name, message: (error as Error).message };
}

export interface DecodeOutcome {
  chunks: StreamingChunk[];
  error?: Record<string, unknown>;
}

/** Decodes `bytes` (cut at `sizes`) to completion and returns what came out. */
export async function decodeAll(
  format: StreamFormat,
  bytes: Uint8Array,
  sizes: readonly number[] = [],
  options: DecodeProviderStreamOptions = {},
): Promise<DecodeOutcome> {
  const chunks: StreamingChunk[] = [];
  let error: unknown;
  await firstValueFrom(
    decodeProviderStream(format, pieces(bytes, sizes), options).pipe(
      map((c) => {
        chunks.push(c);
        return c;
      }),
      toArray(),
      catchError((e: unknown) => {
        error = e;
        return of([]);
      }),
    ),
  );
  return error === undefined ? { chunks } : { chunks, error: describeError(error) };
}

/** Path of the expected-result file beside a fixture. */
export function expectedPath(provider: string, name: string): string {
  return join(fixturesDir, provider, `${name}.expected.json`);
}

/**
 * Reads a fixture's expected result. With UPDATE_FIXTURES=1 it (re)writes the file from
 * `actual` first: review every rewritten file by hand before committing it.
 */
export function readExpected(provider: string, name: string, actual: unknown): unknown {
  const path = expectedPath(provider, name);
  if (process.env.UPDATE_FIXTURES === '1' || !existsSync(path)) {
    if (process.env.UPDATE_FIXTURES !== '1')
      throw new Error(`Missing ${path}; run with UPDATE_FIXTURES=1 and review it.`);
    writeFileSync(path, `${JSON.stringify(actual, null, 2)}\n`);
  }
  return JSON.parse(readFileSync(path, 'utf8')) as unknown;
}
