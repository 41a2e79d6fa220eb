import { runInThisContext } from 'node:vm';

/**
 * Leak checks for integration tests: handles left open by a test file, and promise rejections
 * nobody handled.
 *
 * ```ts
 * let baseline: HandleCounts;
 * let rejections: RejectionCapture;
 * beforeAll(() => {
 *   baseline = countHandles();
 *   rejections = captureUnhandledRejections();
 * });
 * afterAll(async () => {
 *   await provider.close();
 *   await sim.close();
 *   rejections.stop();
 *   await expectNoLeakedHandles(baseline);
 * });
 * ```
 */

/**
 * The resource types a leak shows up as in `process.getActiveResourcesInfo()`: servers, sockets,
 * connections being opened, and timers (only ref'd timers are listed).
 */
export const LEAK_RESOURCE_TYPES = [
  'TCPServerWrap',
  'TCPSocketWrap',
  'TCPConnectWrap',
  'GetAddrInfoReqWrap',
  'Timeout',
  'Immediate',
] as const;

export type LeakResourceType = (typeof LEAK_RESOURCE_TYPES)[number];

/** How many resources of each watched type are active. */
export type HandleCounts = Record<LeakResourceType, number>;

/** Counts the active resources of the watched types, now. */
export function countHandles(): HandleCounts {
  const counts = Object.fromEntries(LEAK_RESOURCE_TYPES.map((type) => [type, 0])) as HandleCounts;
  for (const name of process.getActiveResourcesInfo()) {
    if ((LEAK_RESOURCE_TYPES as readonly string[]).includes(name)) {
      counts[name as LeakResourceType]++;
    }
  }
  return counts;
}

/** The types that have more active resources than in `baseline`, with both counts. */
function excess(baseline: HandleCounts, now: HandleCounts): string[] {
  return LEAK_RESOURCE_TYPES.filter((type) => now[type] > baseline[type]).map(
    (type) => `${type}: ${now[type]} now, ${baseline[type]} at the start`,
  );
}

const turn = (): Promise<void> =>
  new Promise((resolve) => {
    setImmediate(resolve);
  });

/**
 * Fails unless, within `timeoutMs`, no watched resource type has more active resources than in
 * `baseline`. Closed sockets and servers can take a few turns of the event loop to go away, so
 * it polls (with `setImmediate`, whose own handle is gone by the time it counts).
 */
export async function expectNoLeakedHandles(
  baseline: HandleCounts,
  { timeoutMs = 2000 }: { timeoutMs?: number } = {},
): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  let left = excess(baseline, countHandles());
  while (left.length > 0 && performance.now() < deadline) {
    await turn();
    left = excess(baseline, countHandles());
  }
  if (left.length > 0) {
    throw new Error(
      `Handles leaked by this test file (still open after ${timeoutMs} ms): ${left.join('; ')}. ` +
        'Close every provider (provider.close()), the simulator (sim.close()) and clear every timer.',
    );
  }
}

/** The unhandled rejections seen since {@link captureUnhandledRejections} was called. */
export interface RejectionCapture {
  /** The rejection reasons so far. */
  readonly rejections: readonly unknown[];
  /** Stops listening and throws if any rejection went unhandled. Idempotent. */
  stop(): void;
}

/**
 * The process objects to listen on. Under jest, the test's `process` is a copy whose listeners
 * never hear the real process's events, so the real one (the main context's global) is used too.
 */
function processes(): NodeJS.Process[] {
  const real = runInThisContext('process') as NodeJS.Process;
  return real === process ? [process] : [process, real];
}

/**
 * Listens for unhandled promise rejections from now on. Call `stop()` at the end of the file (in
 * `afterAll`): it removes the listener and fails, naming them, if there were any. (Jest 30 also
 * fails the test that is running when one happens; this catches those between tests too, and
 * names every one of them at the end of the file.)
 */
export function captureUnhandledRejections(): RejectionCapture {
  const rejections: unknown[] = [];
  const onRejection = (reason: unknown): void => {
    if (!rejections.includes(reason)) rejections.push(reason);
  };
  const targets = processes();
  for (const target of targets) target.on('unhandledRejection', onRejection);
  let stopped = false;
  return {
    rejections,
    stop() {
      if (!stopped) {
        stopped = true;
        for (const target of targets) target.off('unhandledRejection', onRejection);
      }
      if (rejections.length > 0) {
        // Not `instanceof Error`: errors made by Node itself come from another realm under jest.
        const reasons = rejections.map((reason) => {
          if (typeof reason !== 'object' || reason === null) return String(reason);
          const { name, message } = reason as { name?: unknown; message?: unknown };
          return `${String(name)}: ${String(message)}`;
        });
        throw new Error(
          `${rejections.length} unhandled rejection(s) during this test file: ${reasons.join(' | ')}`,
        );
      }
    },
  };
}
