import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { table } from '../report';

/** The parts of a V8 `.cpuprofile` read here. */
interface CpuProfile {
  nodes: {
    id: number;
    callFrame: { functionName: string; url: string; lineNumber: number };
    children?: number[];
  }[];
  samples: number[];
  timeDeltas: number[];
}

/**
 * Maps a line of an esbuild bundle back to its source file: a non-minified bundle opens each
 * module with a `// src/...` comment.
 */
function sourceMapper(bundleFile: string): (line: number) => string {
  if (!existsSync(bundleFile)) return () => bundleFile;
  const starts: { line: number; file: string }[] = [];
  readFileSync(bundleFile, 'utf8')
    .split('\n')
    .forEach((text, line) => {
      const match = /^\/\/ ((?:src|bench)\/\S+\.ts)$/.exec(text);
      if (match !== null) starts.push({ line, file: match[1]! });
    });
  return (line) => {
    let file = 'bundle';
    for (const start of starts) {
      if (start.line > line) break;
      file = start.file;
    }
    return file;
  };
}

/** Where a frame's code lives: a source file, a package, Node's internals, or V8 itself. */
function placeOf(
  frame: { functionName: string; url: string; lineNumber: number },
  mappers: Map<string, (line: number) => string>,
): string {
  const { url } = frame;
  if (url === '') return `(native) ${frame.functionName}`;
  if (url.startsWith('node:')) return url.startsWith('node:internal') ? 'node:internal' : url;
  if (url.startsWith('wasm:')) return 'wasm (undici llhttp)';
  const path = url.startsWith('file://') ? fileURLToPath(url) : url;
  const mapper = mappers.get(path);
  if (mapper !== undefined) return mapper(frame.lineNumber);
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path);
  return pkg === null ? path : pkg[1]!;
}

/** `src/gateway/sse-stream.ts` → `src/gateway`; packages and natives stay as they are. */
function areaOf(place: string): string {
  const match = /^(src\/[^/]+|bench\/[^/]+)\//.exec(place);
  return match === null ? place : match[1]!;
}

/**
 * Summarizes every `.cpuprofile` in `dir`, idle time excluded: self time by area (a folder of
 * `src`, a package, Node's internals, natives such as `writev` and the garbage collector), the top
 * functions by self time, and the top functions of `src` by total time (callees included).
 */
export function summarizeProfiles(
  dir: string,
  bundles: Record<string, string | undefined>,
): string {
  const mappers = new Map<string, (line: number) => string>();
  for (const file of Object.values(bundles)) {
    if (file !== undefined) mappers.set(file, sourceMapper(file));
  }
  const out: string[] = [];
  const files = readdirSync(dir)
    .filter((file) => file.endsWith('.cpuprofile'))
    .sort();
  for (const name of files) {
    const profile = JSON.parse(readFileSync(join(dir, name), 'utf8')) as CpuProfile;
    const byId = new Map(profile.nodes.map((node) => [node.id, node]));
    const selfUs = new Map<number, number>();
    profile.samples.forEach((id, index) => {
      selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[index] ?? 0));
    });
    const keyOf = (id: number): { key: string; place: string } => {
      const frame = byId.get(id)!.callFrame;
      const place = placeOf(frame, mappers);
      const fn = frame.functionName === '' ? '(anonymous)' : frame.functionName;
      const at = frame.functionName === '' ? `, bundle line ${frame.lineNumber + 1}` : '';
      return { key: frame.url === '' ? place : `${fn} (${place}${at})`, place };
    };

    const areas = new Map<string, number>();
    const selfByKey = new Map<string, number>();
    let busyUs = 0;
    for (const [id, us] of selfUs) {
      if (byId.get(id)?.callFrame.functionName === '(idle)') continue;
      busyUs += us;
      const { key, place } = keyOf(id);
      selfByKey.set(key, (selfByKey.get(key) ?? 0) + us);
      const area = areaOf(place);
      areas.set(area, (areas.get(area) ?? 0) + us);
    }

    // Total time of each src function, counted once even when it recurses.
    const totalByKey = new Map<string, number>();
    const active = new Map<string, number>();
    const walk = (id: number): number => {
      const node = byId.get(id)!;
      const { key, place } = keyOf(id);
      const counted = place.startsWith('src/') && (active.get(key) ?? 0) === 0;
      active.set(key, (active.get(key) ?? 0) + 1);
      let us = node.callFrame.functionName === '(idle)' ? 0 : (selfUs.get(id) ?? 0);
      for (const child of node.children ?? []) us += walk(child);
      active.set(key, active.get(key)! - 1);
      if (counted) totalByKey.set(key, (totalByKey.get(key) ?? 0) + us);
      return us;
    };
    if (profile.nodes[0] !== undefined) walk(profile.nodes[0].id);

    const percent = (us: number): string => `${((100 * us) / busyUs).toFixed(1)} %`;
    const top = (values: Map<string, number>, count: number): string[][] =>
      [...values.entries()]
        .sort((a, b) => b[1] - a[1])
        .slice(0, count)
        .map(([key, us]) => [key, percent(us)]);
    out.push(`### ${name}: ${(busyUs / 1000).toFixed(0)} ms busy (idle excluded)\n`);
    out.push(table(['self time by area', 'share'], top(areas, 16), 'lr'), '');
    out.push(
      table(
        ['top functions, self time', 'share'],
        top(selfByKey, Number(process.env.BENCH_PROFILE_ROWS ?? 20)),
        'lr',
      ),
      '',
    );
    out.push(
      table(
        ['top src functions, total time', 'share'],
        top(totalByKey, Number(process.env.BENCH_PROFILE_ROWS ?? 20)),
        'lr',
      ),
      '',
    );
  }
  return out.join('\n');
}
