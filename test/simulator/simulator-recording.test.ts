import { connect } from 'node:net';
import { Readable } from 'node:stream';
import { Agent, fetch, request, type Response } from 'undici';
import type { StreamFormat } from '../../src/chunk/streaming-chunk';
import {
  runSimulateCommand,
  simulatedText,
  simulatorRequest,
  startSimulator,
  type Simulator,
  type SimulatorOptions,
  type SimulatorRequestOptions,
} from '../../src/simulator/index';

const formats = ['openai', 'anthropic', 'google'] as const;

let agent: Agent;
const open: Simulator[] = [];

beforeAll(() => {
  agent = new Agent();
});

afterAll(async () => {
  await agent.close();
  await Promise.all(open.map((s) => s.close()));
});

async function start(options: SimulatorOptions = {}): Promise<Simulator> {
  const sim = await startSimulator(options);
  open.push(sim);
  return sim;
}

function send(
  sim: Simulator,
  format: StreamFormat,
  options: SimulatorRequestOptions = {},
  init: { signal?: AbortSignal; dispatcher?: Agent } = {},
): Promise<Response> {
  const r = simulatorRequest(format, options);
  return fetch(sim.url + r.path, {
    method: r.method,
    headers: r.headers,
    body: JSON.stringify(r.body),
    dispatcher: init.dispatcher ?? agent,
    ...(init.signal === undefined ? {} : { signal: init.signal }),
  });
}

describe('the attempt log', () => {
  it('should record every field of a completed stream', async () => {
    const sim = await start();
    const res = await send(sim, 'openai', { prompt: 'two words', tokens: 5 });
    await res.text();
    const attempt = await sim.waitForAttempt((a) => a.outcome === 'completed');
    expect(attempt).toEqual({
      id: 1,
      time: expect.any(Number),
      method: 'POST',
      path: '/v1/chat/completions',
      format: 'openai',
      endpoint: 'chat',
      model: 'gpt-4o-mini',
      stream: true,
      fault: undefined,
      faultSource: undefined,
      faultKey: undefined,
      outcome: 'completed',
      status: 200,
      tokensSent: 5,
      promptTokens: 2,
      headersAt: expect.any(Number),
      firstTokenAt: expect.any(Number),
      endedAt: expect.any(Number),
      clientClosedAt: undefined,
      writeReturnedFalse: 0,
      bytesSent: expect.any(Number),
      stalls: [],
      error: undefined,
    });
    expect(attempt.time).toBeLessThanOrEqual(attempt.headersAt!);
    expect(attempt.headersAt!).toBeLessThanOrEqual(attempt.firstTokenAt!);
    expect(attempt.firstTokenAt!).toBeLessThanOrEqual(attempt.endedAt!);
    expect(Number(res.headers.get('x-simulator-attempt'))).toBe(1);
    expect(sim.attempts).toHaveLength(1);
  });

  it('should record error answers with their message, and keep ids after clearAttempts', async () => {
    const sim = await start();
    await (await send(sim, 'anthropic', { fault: 'status-429' })).text();
    const attempt = await sim.waitForAttempt((a) => a.outcome !== 'in-progress');
    expect(attempt).toMatchObject({
      id: 1,
      format: 'anthropic',
      outcome: 'error-status',
      status: 429,
      error: expect.stringContaining('rate limit'),
      fault: 'status-429',
    });
    sim.clearAttempts();
    expect(sim.attempts).toEqual([]);
    await (await send(sim, 'anthropic', { tokens: 1 })).text();
    expect((await sim.waitForAttempt((a) => a.outcome === 'completed')).id).toBe(2);
  });

  it('should keep at most maxAttempts records', async () => {
    const sim = await start({ maxAttempts: 2 });
    for (let i = 0; i < 3; i++) await (await send(sim, 'google', { tokens: 1 })).text();
    await sim.waitForAttempt((a) => a.id === 3 && a.outcome === 'completed');
    expect(sim.attempts.map((a) => a.id)).toEqual([2, 3]);
  });

  it('should reject waitForAttempt after its timeout', async () => {
    const sim = await start();
    await expect(sim.waitForAttempt(() => false, { timeoutMs: 20 })).rejects.toThrow(
      /within 20 ms/,
    );
  });
});

describe('pacing', () => {
  it('should wait latencyMs before the headers and firstTokenMs before the first token', async () => {
    const sim = await start({ latencyMs: 40, firstTokenMs: 60 });
    await (await send(sim, 'openai', { tokens: 2 })).text();
    const attempt = await sim.waitForAttempt((a) => a.outcome === 'completed');
    expect(attempt.stalls[0]).toMatchObject({ kind: 'headers', ms: 40 });
    expect(attempt.headersAt! - attempt.time).toBeGreaterThanOrEqual(39);
    expect(attempt.firstTokenAt! - attempt.headersAt!).toBeGreaterThanOrEqual(59);
  });

  it('should pace tokens at tokensPerSecond', async () => {
    const sim = await start({ tokensPerSecond: 200 });
    await (await send(sim, 'anthropic', { tokens: 11 })).text();
    const attempt = await sim.waitForAttempt((a) => a.outcome === 'completed');
    // Ten intervals of 5 ms after the first token.
    expect(attempt.endedAt! - attempt.firstTokenAt!).toBeGreaterThanOrEqual(48);
  });
});

describe('client close', () => {
  it.each(formats)(
    'should record a %s client closing mid-stream within 100 ms and stop',
    async (format) => {
      const sim = await start();
      const controller = new AbortController();
      const res = await send(
        sim,
        format,
        { fault: 'stall-after-2-5000', tokens: 10 },
        { signal: controller.signal },
      );
      const reader = res.body!.getReader();
      await reader.read();
      const stalled = await sim.waitForAttempt((a) => a.stalls.length > 0);
      expect(stalled.tokensSent).toBe(2);
      const abortedAt = sim.now();
      controller.abort();
      await reader.read().catch(() => undefined);
      const closed = await sim.waitForAttempt((a) => a.outcome === 'client-closed', {
        timeoutMs: 1000,
      });
      // Measured in the simulator's clock, from the abort to the record.
      expect(closed.clientClosedAt! - abortedAt).toBeLessThan(100);
      expect(closed.clientClosedAt! - closed.stalls[0]!.startedAt).toBeLessThan(1000);
      // The stall's timer was cleared: the stall never ended and nothing more was written.
      expect(closed.stalls[0]!.endedAt).toBeUndefined();
      expect(closed.tokensSent).toBe(2);
      const bytes = closed.bytesSent;
      await new Promise((resolve) => setTimeout(resolve, 30));
      expect(closed.bytesSent).toBe(bytes);
    },
  );

  it('should record a client that leaves before the headers', async () => {
    const sim = await start();
    const controller = new AbortController();
    const pending = send(
      sim,
      'openai',
      { fault: 'stall-headers-5000' },
      { signal: controller.signal },
    );
    await sim.waitForAttempt((a) => a.stalls.length > 0);
    controller.abort();
    await expect(pending).rejects.toThrow();
    const closed = await sim.waitForAttempt((a) => a.outcome === 'client-closed', {
      timeoutMs: 1000,
    });
    expect(closed).toMatchObject({ status: undefined, headersAt: undefined });
  });
});

describe('backpressure', () => {
  it('should wait for drain when the client stops reading, with bounded memory', async () => {
    const sim = await start();
    const controller = new AbortController();
    const res = await send(sim, 'openai', { tokens: 5_000_000 }, { signal: controller.signal });
    expect(res.status).toBe(200);
    // Read nothing: the socket buffers fill and res.write() returns false.
    const blocked = await sim.waitForAttempt((a) => a.writeReturnedFalse > 0, {
      timeoutMs: 10_000,
    });
    const sent = blocked.bytesSent;
    await new Promise((resolve) => setTimeout(resolve, 50));
    // Nothing more is written while the client does not read.
    expect(blocked.bytesSent).toBe(sent);
    expect(blocked.writeReturnedFalse).toBe(1);
    expect(sent).toBeLessThan(64 * 1024 * 1024);
    // Reading resumes the stream.
    const reader = res.body!.getReader();
    let read = 0;
    while (read < sent) {
      const { value, done } = await reader.read();
      if (done) break;
      read += (value as Uint8Array).length;
    }
    await sim.waitForAttempt((a) => a.bytesSent > sent, { timeoutMs: 2000 });
    controller.abort();
    await reader.read().catch(() => undefined);
    const closed = await sim.waitForAttempt((a) => a.outcome === 'client-closed');
    expect(closed.tokensSent).toBeLessThan(5_000_000);
  });
});

describe('scenarios', () => {
  it('should give the n-th matching attempt faults[n], then answer healthily', async () => {
    const sim = await start({
      scenarios: [{ match: { model: 'flaky' }, faults: ['status-503', 'reset-after-1', null] }],
    });
    const outcomes: string[] = [];
    for (let i = 0; i < 4; i++) {
      try {
        const res = await send(sim, 'openai', { model: 'flaky', tokens: 2 });
        await res.text();
        outcomes.push(String(res.status));
      } catch {
        outcomes.push('error');
      }
    }
    // Another model is not matched.
    const other = await send(sim, 'openai', { tokens: 1 });
    await other.text();
    expect(outcomes).toEqual(['503', 'error', '200', '200']);
    expect(other.status).toBe(200);
    await sim.waitForAttempt((a) => a.id === 5 && a.outcome !== 'in-progress');
    expect(sim.attempts.map((a) => [a.fault, a.faultSource, a.outcome])).toEqual([
      ['status-503', 'scenario', 'error-status'],
      ['reset-after-1', 'scenario', 'reset'],
      [undefined, undefined, 'completed'],
      [undefined, undefined, 'completed'],
      [undefined, undefined, 'completed'],
    ]);
  });

  it('should repeat the last step, cycle, and match by path and format', async () => {
    const sim = await start({
      scenarios: [
        { match: { format: 'anthropic' }, faults: ['status-529'], then: 'repeat-last' },
        {
          match: { path: /:streamGenerateContent$/ },
          faults: [{ type: 'status', status: 500 }, null],
          then: 'cycle',
        },
      ],
    });
    const statuses = async (format: StreamFormat, n: number): Promise<number[]> => {
      const out: number[] = [];
      for (let i = 0; i < n; i++) {
        const res = await send(sim, format, { tokens: 1 });
        out.push(res.status);
        await res.text();
      }
      return out;
    };
    expect(await statuses('anthropic', 3)).toEqual([529, 529, 529]);
    expect(await statuses('google', 4)).toEqual([500, 200, 500, 200]);
    expect(await statuses('openai', 1)).toEqual([200]);
  });

  it('should let a header fault override the scenario, and reset() restart it', async () => {
    const sim = await start({ scenarios: [{ faults: ['status-503'] }] });
    const header = await send(sim, 'openai', { fault: 'status-418' });
    expect(header.status).toBe(418);
    await header.text();
    const scripted = await send(sim, 'openai', { tokens: 1 });
    expect(scripted.status).toBe(503);
    await scripted.text();
    const after = await send(sim, 'openai', { tokens: 1 });
    expect(after.status).toBe(200);
    await after.text();
    sim.reset();
    expect(sim.attempts).toEqual([]);
    const again = await send(sim, 'openai', { tokens: 1 });
    expect(again.status).toBe(503);
    await again.text();
    sim.setScenarios([]);
    const none = await send(sim, 'openai', { tokens: 1 });
    expect(none.status).toBe(200);
    await none.text();
  });
});

describe('robustness', () => {
  it('should answer 413 when a chunked body grows past maxBodyBytes', async () => {
    const sim = await start({ maxBodyBytes: 1024 });
    const body = Readable.from(
      (function* () {
        yield '{"model":"m","messages":[{"role":"user","content":"';
        for (let i = 0; i < 100; i++) yield 'x'.repeat(100);
        yield '"}]}';
      })(),
    );
    const res = await request(`${sim.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
      dispatcher: agent,
    });
    expect(res.statusCode).toBe(413);
    expect(await res.body.text()).toContain('1024 bytes');
  });

  it('should survive garbage on the socket', async () => {
    const sim = await start();
    const socket = connect(sim.port, '127.0.0.1');
    const reply = await new Promise<string>((resolve) => {
      let data = '';
      socket.on('data', (chunk) => (data += chunk.toString()));
      socket.on('close', () => {
        resolve(data);
      });
      socket.write('NOT HTTP\r\n\r\n');
    });
    expect(reply).toContain('400 Bad Request');
    const res = await send(sim, 'openai', { tokens: 1 });
    expect(res.status).toBe(200);
    await res.text();
  });

  it('should log the URL from runSimulateCommand', async () => {
    const lines: string[] = [];
    const sim = await runSimulateCommand({
      port: 0,
      host: '127.0.0.1',
      log: (line) => lines.push(line),
    });
    open.push(sim);
    expect(lines[0]).toBe(`LLM provider simulator listening on ${sim.url}`);
    expect(sim.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const res = await send(sim, 'google', { tokens: 2 });
    expect(await res.text()).toContain(
      JSON.stringify(simulatedText('Hello', 2).split(' ')[0]).slice(1, -1),
    );
  });
});
