import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { runServeCommand } from '../../src/cli/serve-command';
import { startSimulator, type Simulator } from '../../src/simulator/start-simulator';
import {
  captureUnhandledRejections,
  countHandles,
  expectNoLeakedHandles,
  type HandleCounts,
  type RejectionCapture,
} from '../helpers/leaks';

/** A log destination whose JSON lines can be read back. */
function logSink(): { stream: PassThrough; lines: () => Record<string, unknown>[] } {
  const stream = new PassThrough();
  let text = '';
  stream.setEncoding('utf8');
  stream.on('data', (piece: string) => (text += piece));
  return {
    stream,
    lines: () =>
      text
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

const chat = (
  url: string,
  model: string,
  headers: Record<string, string> = {},
): Promise<Response> =>
  fetch(`${url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ model, messages: [{ role: 'user', content: 'Hi' }] }),
  });

let sim: Simulator;
let dir: string;
let emptyDir: string;
let configPath: string;
let baseline: HandleCounts;
let rejections: RejectionCapture;

beforeAll(async () => {
  baseline = countHandles();
  rejections = captureUnhandledRejections();
  sim = await startSimulator();
  dir = await mkdtemp(join(tmpdir(), 'rx-llm-router-serve-'));
  emptyDir = await mkdtemp(join(tmpdir(), 'rx-llm-router-serve-empty-'));
  configPath = join(dir, 'gateway.json');
  await writeFile(
    configPath,
    JSON.stringify({
      providers: {
        openai: { type: 'openai', apiKey: '${UPSTREAM_KEY}', baseUrl: `${sim.url}/v1` },
      },
      routes: { mini: [{ provider: 'openai', model: 'gpt-4o-mini' }] },
      server: { host: '127.0.0.1', port: 9, shutdownGraceMs: 100 },
      auth: { keys: ['${GATEWAY_KEY}'] },
      logging: { level: 'info', format: 'json' },
    }),
  );
});

afterAll(async () => {
  await sim.close();
  await rm(dir, { recursive: true, force: true });
  await rm(emptyDir, { recursive: true, force: true });
  rejections.stop();
  await expectNoLeakedHandles(baseline);
});

describe('runServeCommand', () => {
  it('should serve a config file, say so in its first log line, and let --port win', async () => {
    const log = logSink();
    const running = await runServeCommand({
      config: configPath,
      port: 0,
      env: { UPSTREAM_KEY: 'sk-upstream-secret-1', GATEWAY_KEY: 'gw-key-1' },
      logStream: log.stream,
    });
    try {
      expect(running.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(running.url).not.toBe('http://127.0.0.1:9');
      expect(running.source).toBe(configPath);
      const first = log.lines()[0];
      expect(first?.message).toBe(
        `rx-llm-router listening on ${running.url}, serving ${configPath}`,
      );
      expect(first).toMatchObject({
        url: running.url,
        config: configPath,
        routes: ['mini'],
        auth: true,
      });

      expect((await chat(running.url, 'mini')).status).toBe(401);
      const ok = await chat(running.url, 'mini', { authorization: 'Bearer gw-key-1' });
      expect(ok.status).toBe(200);
      const body = (await ok.json()) as { model: string; provider?: string };
      expect(body.model).toBe('gpt-4o-mini');
    } finally {
      await running.close();
    }
    // Keys never reach the log.
    const text = JSON.stringify(log.lines());
    expect(text).not.toContain('sk-upstream-secret-1');
    expect(text).not.toContain('gw-key-1');
  });

  it('should serve the built-in simulator without a config file, and close it on close()', async () => {
    const log = logSink();
    const running = await runServeCommand({ cwd: emptyDir, port: 0, logStream: log.stream });
    const simulator = running.simulator;
    expect(simulator).toBeDefined();
    expect(running.source).toBe('built-in simulator');
    expect(log.lines()[0]?.message).toBe(
      `rx-llm-router listening on ${running.url}, serving the built-in simulator (no config file found; no API key needed)`,
    );
    const models = (await (await fetch(`${running.url}/v1/models`)).json()) as {
      data: { id: string }[];
    };
    expect(models.data.map((m) => m.id)).toEqual(
      expect.arrayContaining(['fast', 'smart', 'gpt-*', 'claude-*', 'gemini-*']),
    );
    const answer = await chat(running.url, 'claude-sonnet-4-5');
    expect(answer.status).toBe(200);
    expect(((await answer.json()) as { model: string }).model).toBe('claude-sonnet-4-5');
    await running.close();
    await running.close(); // idempotent
    expect(running.router.closed).toBe(true);
    await expect(fetch(`${running.url}/health`)).rejects.toThrow();
    await expect(fetch(`${simulator?.url ?? ''}/v1/models`)).rejects.toThrow();
  });

  it('should fail with the cause when the port is taken, leaving nothing open', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as { port: number }).port;
    try {
      await expect(
        runServeCommand({ cwd: emptyDir, port, logStream: logSink().stream }),
      ).rejects.toThrow(/EADDRINUSE/);
    } finally {
      await new Promise<void>((resolve) => {
        blocker.close(() => {
          resolve();
        });
      });
    }
  });
});
