import { Agent, fetch, type Response } from 'undici';
import type { StreamFormat } from '../../src/chunk/streaming-chunk';
import {
  simulatorRequest,
  startSimulator,
  type Simulator,
  type SimulatorRequestOptions,
} from '../../src/simulator/index';

/** The handle types a leak would show, counted. */
function handles(): Record<string, number> {
  const counts: Record<string, number> = { TCPServerWrap: 0, TCPSocketWrap: 0, Timeout: 0 };
  for (const name of process.getActiveResourcesInfo()) {
    if (name in counts) counts[name] = (counts[name] ?? 0) + 1;
  }
  return counts;
}

/** Whether nothing is left above the baseline (jest's own timers come and go: an upper bound). */
function settled(baseline: Record<string, number>, now: Record<string, number>): boolean {
  return (
    now.TCPServerWrap === baseline.TCPServerWrap &&
    now.TCPSocketWrap === baseline.TCPSocketWrap &&
    (now.Timeout ?? 0) <= (baseline.Timeout ?? 0)
  );
}

/**
 * Waits until the handles are back to `baseline`: a few turns of the loop, then (on a loaded
 * machine, where jest's own short timers may still be pending) up to a second.
 */
async function settle(baseline: Record<string, number>): Promise<Record<string, number>> {
  for (let i = 0; i < 10 && !settled(baseline, handles()); i++) {
    await new Promise((resolve) => setImmediate(resolve));
  }
  for (let i = 0; i < 100 && !settled(baseline, handles()); i++) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return handles();
}

/** Timers and immediates created by the simulator's code, to check that each was cleared or ran. */
const created: { kind: string; handle: object; stack: string }[] = [];
const fromSimulator = (stack: string | undefined): boolean =>
  stack !== undefined && /src[\\/]simulator[\\/]/.test(stack);

beforeAll(async () => {
  // Let handles that other test files in this worker are still releasing go first.
  await new Promise((resolve) => setTimeout(resolve, 50));
});

beforeEach(() => {
  created.length = 0;
  const realSetTimeout = global.setTimeout;
  const realSetImmediate = global.setImmediate;
  jest.spyOn(global, 'setTimeout').mockImplementation((...args: Parameters<typeof setTimeout>) => {
    const handle = realSetTimeout(...args);
    const stack = new Error().stack;
    if (fromSimulator(stack)) created.push({ kind: 'Timeout', handle, stack: stack ?? '' });
    return handle;
  });
  jest
    .spyOn(global, 'setImmediate')
    .mockImplementation((...args: Parameters<typeof setImmediate>) => {
      const handle = realSetImmediate(...args);
      const stack = new Error().stack;
      if (fromSimulator(stack)) created.push({ kind: 'Immediate', handle, stack: stack ?? '' });
      return handle;
    });
});

afterEach(() => {
  jest.restoreAllMocks();
});

/** The simulator's timers and immediates that neither ran nor were cleared. */
function liveTimers(): string[] {
  return created
    .filter((t) => (t.handle as { _destroyed?: boolean })._destroyed !== true)
    .map((t) => `${t.kind} ${t.stack}`);
}

/**
 * No server or socket more than before, no simulator timer alive, and no more timers than before
 * (jest keeps a few timers of its own, which come and go, so that count is an upper bound).
 */
function expectNoLeaks(baseline: Record<string, number>, now: Record<string, number>): void {
  expect(liveTimers()).toEqual([]);
  expect(now.TCPServerWrap).toBe(baseline.TCPServerWrap);
  expect(now.TCPSocketWrap).toBe(baseline.TCPSocketWrap);
  expect(now.Timeout).toBeLessThanOrEqual(baseline.Timeout!);
}

function send(
  sim: Simulator,
  dispatcher: Agent,
  format: StreamFormat,
  options: SimulatorRequestOptions,
): Promise<Response> {
  const r = simulatorRequest(format, options);
  return fetch(sim.url + r.path, {
    method: r.method,
    headers: r.headers,
    body: JSON.stringify(r.body),
    dispatcher,
  });
}

describe('close()', () => {
  it('should leave no server, socket or timer behind after a quiet run', async () => {
    const baseline = handles();
    const client = new Agent();
    const sim = await startSimulator();
    const res = await send(sim, client, 'openai', { tokens: 3 });
    await res.text();
    await sim.close();
    await client.close();
    expectNoLeaks(baseline, await settle(baseline));
  });

  it('should cut every response in progress and leave no server, socket or timer behind', async () => {
    const baseline = handles();
    const client = new Agent();
    const sim = await startSimulator({ tokensPerSecond: 100 });
    // In progress at close: a stall before the headers, a stall before the first token, a paced
    // stream and a slow drip, each holding a timer.
    const pending = [
      send(sim, client, 'openai', { fault: 'stall-headers-10000' }),
      send(sim, client, 'anthropic', { fault: 'stall-first-token-10000' }),
      send(sim, client, 'google', { tokens: 1000 }),
      send(sim, client, 'openai', { fault: 'slow-drip-1-50' }),
    ].map((p) =>
      p.then(
        (res) =>
          res.text().then(
            () => 'complete',
            () => 'cut',
          ),
        () => 'failed',
      ),
    );
    const waiting = sim.waitForAttempt(() => false, { timeoutMs: 60_000 });
    await sim.waitForAttempt((a) => a.fault === 'slow-drip-1-50' && a.bytesSent > 0);
    await sim.waitForAttempt((a) => a.fault === 'stall-first-token-10000' && a.stalls.length > 0);
    await sim.waitForAttempt((a) => a.fault === 'stall-headers-10000' && a.stalls.length > 0);
    await sim.waitForAttempt((a) => a.format === 'google' && a.tokensSent > 0);

    await sim.close();
    await expect(waiting).rejects.toThrow(/closed/);
    expect(await Promise.all(pending)).toEqual(['failed', 'cut', 'cut', 'cut']);
    expect(sim.attempts.map((a) => a.outcome)).toEqual([
      'server-closed',
      'server-closed',
      'server-closed',
      'server-closed',
    ]);
    await client.close();
    // The stalls, the pacing and the drip each held a timer; all were cleared.
    expect(created.filter((t) => t.kind === 'Timeout').length).toBeGreaterThanOrEqual(3);
    expectNoLeaks(baseline, await settle(baseline));
    // Closing twice is fine.
    await sim.close();
  });
});
