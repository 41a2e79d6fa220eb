import { connect } from 'node:net';
import { startGateway, type Gateway } from '../../src/gateway/index';
import { createLogger } from '../../src/logging/index';
import { simulatedText } from '../../src/simulator/index';
import { chatBody, parseSse, postChat, sseText, useGateway } from './gateway-fixtures';

/**
 * `gateway.close()`: stop accepting, let open streams finish up to the grace period, then cut
 * them, and close every connection, without closing the router.
 */
const env = useGateway();

async function gateway(): Promise<Gateway> {
  return startGateway({ router: env.router, port: 0, logger: createLogger({ silent: true }) });
}

beforeEach(() => {
  env.sim.clearAttempts();
});

/** Resolves once the response has sent `n` content chunks. */
async function firstChunks(
  res: Response,
  n: number,
): Promise<{ rest: () => Promise<string>; head: string }> {
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let head = '';
  while ((head.match(/"content":"[^"]+"/g) ?? []).length < n) {
    const { value, done } = await reader.read();
    if (done) throw new Error('ended early');
    head += decoder.decode(value, { stream: true });
  }
  return {
    head,
    rest: async () => {
      let more = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return more;
        more += decoder.decode(value, { stream: true });
      }
    },
  };
}

describe('gateway.close()', () => {
  it('should refuse new connections at once and let a stream under way finish', async () => {
    const g = await gateway();
    const res = await postChat(g.url, chatBody('sim-fault-stall-after-3-300', { stream: true }));
    const started = await firstChunks(res, 3);
    const closing = g.close({ graceMs: 5000 });
    expect(g.close()).toBe(closing);
    await expect(fetch(`${g.url}/health`)).rejects.toThrow();

    const all = parseSse(started.head + (await started.rest()));
    expect(sseText(all)).toBe(simulatedText('Hello', 24));
    expect(all.at(-1)?.data).toBe('[DONE]');
    const before = performance.now();
    await closing;
    expect(performance.now() - before).toBeLessThan(1000);
    expect(g.server.listening).toBe(false);
    // The router is not the gateway's to close.
    expect(env.router.closed).toBe(false);
  });

  it('should answer 503 to a request arriving on a connection still open', async () => {
    const g = await gateway();
    const socket = connect(g.port, '127.0.0.1');
    let received = '';
    socket.setEncoding('utf8');
    socket.on('data', (text: string) => (received += text));
    const closedSocket = new Promise((resolve) => socket.on('close', resolve));
    const body = JSON.stringify(chatBody('sim-fault-stall-after-3-300', { stream: true }));
    socket.write(
      `POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    );
    await env.sim.waitForAttempt((a) => a.stalls.length > 0);
    const closing = g.close({ graceMs: 5000 });
    // A pipelined request on the busy connection, after close() began.
    socket.write('GET /health HTTP/1.1\r\nhost: x\r\n\r\n');
    await closing;
    await closedSocket;
    const [first, second] = received.split(/(?=HTTP\/1\.1 )/);
    expect(first).toMatch(/^HTTP\/1\.1 200 OK/);
    expect(first).toContain('data: [DONE]');
    expect(second).toMatch(/^HTTP\/1\.1 503 /);
    expect(second?.toLowerCase()).toContain('connection: close');
    expect(second).toContain('{"status":"shutting_down"}');
  });

  it('should cut a stream still running at the deadline with an in-band error and abort its upstream', async () => {
    const g = await gateway();
    const res = await postChat(g.url, chatBody('sim-fault-stall-after-2-5000', { stream: true }));
    const started = await firstChunks(res, 2);
    const t0 = performance.now();
    await g.close({ graceMs: 200 });
    const elapsed = performance.now() - t0;
    expect(elapsed).toBeGreaterThanOrEqual(190);
    expect(elapsed).toBeLessThan(1500);
    const tail = parseSse(await started.rest());
    expect(tail.at(-1)?.data).toMatchObject({ error: { code: 'shutting_down' } });
    expect(tail.some((e) => e.data === '[DONE]')).toBe(false);
    const closed = await env.sim.waitForAttempt((a) => a.outcome === 'client-closed', {
      timeoutMs: 1000,
    });
    expect(closed.tokensSent).toBe(2);
  });

  it('should answer a request still waiting for its first chunk with a 503', async () => {
    const g = await gateway();
    const pending = postChat(g.url, chatBody('sim-fault-stall-headers-5000', { stream: true }));
    await env.sim.waitForAttempt((a) => a.stalls.length > 0);
    await g.close({ graceMs: 50 });
    const res = await pending;
    expect(res.status).toBe(503);
    expect(((await res.json()) as { error: { code: string } }).error).toMatchObject({
      code: 'shutting_down',
      type: 'server_error',
    });
    await env.sim.waitForAttempt((a) => a.outcome === 'client-closed', { timeoutMs: 1000 });
  });

  it('should cut a non-streaming request at the deadline too', async () => {
    const g = await gateway();
    const pending = postChat(g.url, chatBody('sim-fault-stall-headers-5000'));
    await env.sim.waitForAttempt((a) => a.stalls.length > 0);
    await g.close({ graceMs: 50 });
    const res = await pending;
    expect(res.status).toBe(503);
    await res.arrayBuffer();
  });

  it('should close at once with nothing open, and keep the router serving', async () => {
    const g = await gateway();
    const t0 = performance.now();
    await g.close();
    expect(performance.now() - t0).toBeLessThan(500);
    const answer = await env.router.complete(chatBody('gpt-4o-mini'));
    expect(answer.choices[0]?.message.content).toBe(simulatedText('Hello', 24));
  });
});
