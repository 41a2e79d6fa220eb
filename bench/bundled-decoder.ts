import { buildSync } from 'esbuild';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { decodeProviderStream } from '../src/providers/decode-provider-stream';

/** The decoder entry point, from src or from a bundle. */
export type DecodeProviderStream = typeof decodeProviderStream;

const root = join(__dirname, '..');

/**
 * Bundles `decodeProviderStream` the way tsup ships it (esbuild, one bundle, target node20,
 * packages external) into `.tmp/bench/` and loads it, so the benchmark measures the code users
 * run. Running `src` through tsx instead costs extra: tsx transpiles each file on its own, so
 * every call across modules goes through an export getter, and it keeps function names by
 * wrapping each function expression in a `__name(...)` call.
 */
export function loadBundledDecoder(): DecodeProviderStream {
  const outfile = join(root, '.tmp', 'bench', 'decode-provider-stream.cjs');
  bundleLikeTsup(join(root, 'src', 'providers', 'decode-provider-stream.ts'), outfile);
  const loaded = createRequire(__filename)(outfile) as {
    decodeProviderStream: DecodeProviderStream;
  };
  return loaded.decodeProviderStream;
}

/**
 * Bundles `entry` into `outfile` the way tsup ships the package: esbuild, one CommonJS bundle,
 * target node20, packages left external (they load from `node_modules` at run time).
 */
export function bundleLikeTsup(entry: string, outfile: string): void {
  buildSync({
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    packages: 'external',
    tsconfig: join(root, 'tsconfig.build.json'),
    logLevel: 'warning',
  });
}
