import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { pathToFileURL } from 'node:url';
import type { StreamingChunk } from '../../src/chunk/streaming-chunk';
import { expectedText } from '../../src/simulator/plan-answer';
import { startSimulator, type Simulator } from '../../src/simulator/start-simulator';

// The CLI as a user runs it: `serve` and `chat` as child processes (through tsx). Each child
// costs about 2 s of startup (tsx compiles the sources), so the three chats run in parallel and the file takes about 10 s.

const root = resolve(__dirname, '..', '..');
const main = join(root, 'src', 'cli', 'main.ts');
const tsx = pathToFileURL(join(root, 'node_modules', 'tsx', 'dist', 'loader.mjs')).href;

type Child = ChildProcessByStdio<null, Readable, Readable>;
const children = new Set<Child>();

/** Starts `rx-llm-router <args>` in `cwd`; the child is killed in afterAll whatever happens. */
function cli(args: string[], cwd: string, env: NodeJS.ProcessEnv = {}): Child {
  const child = spawn(process.execPath, ['--import', tsx, main, ...args], {
    cwd,
    env: { ...process.env, NO_COLOR: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  child.once('exit', () => children.delete(child));
  child.stdout.setEncoding('utf8');
  child.stderr.setEncoding('utf8');
  return child;
}

/** Runs a command to its end. */
async function run(
  args: string[],
  cwd: string,
  env: NodeJS.ProcessEnv = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = cli(args, cwd, env);
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (t: string) => (stdout += t));
  child.stderr.on('data', (t: string) => (stderr += t));
  const [code] = (await once(child, 'exit')) as [number | null];
  return { code, stdout, stderr };
}

const prompt = 'Hello from the CLI test';
const answer = (model: string): string =>
  expectedText('openai', { model, messages: [{ role: 'user', content: prompt }] });

let sim: Simulator;
let dir: string;
let serve: Child;
let serveLog = '';
let url: string;
type Run = ReturnType<typeof run>;
let viaGateway: Run;
let cutInBand: Run;
let builtIn: Run;

beforeAll(async () => {
  sim = await startSimulator();
  dir = await mkdtemp(join(tmpdir(), 'rx-llm-router-cli-'));
  await writeFile(
    join(dir, 'gateway.yaml'),
    `
providers:
  openai: { type: openai, apiKey: "\${TEST_UPSTREAM_KEY}", baseUrl: "${sim.url}/v1" }
routes:
  gpt-*: [{ provider: openai, model: $model }]
  sim-fault-*:
    candidates: [{ provider: openai, model: $model }]
    retry: false
server: { shutdownGraceMs: 500 }
`,
  );
  serve = cli(['serve', '--config', 'gateway.yaml', '--port', '0'], dir, {
    TEST_UPSTREAM_KEY: 'sk-cli-test-upstream',
  });
  url = await new Promise<string>((resolveUrl, reject) => {
    serve.stdout.on('data', (text: string) => {
      serveLog += text;
      const first = serveLog.split('\n')[0] ?? '';
      const match = /listening on (http:\/\/127\.0\.0\.1:\d+), serving (\S+)/.exec(first);
      if (match?.[1] !== undefined) resolveUrl(match[1]);
    });
    serve.once('exit', (code) => {
      reject(new Error(`serve exited early (${String(code)}): ${serveLog}`));
    });
  });
  // The three chats run at once: each child spends most of its life starting up.
  viaGateway = run(['chat', prompt, '--url', url, '--model', 'gpt-4o-mini'], dir);
  cutInBand = run(['chat', prompt, '--url', url, '--model', 'sim-fault-inband-error-after-4'], dir);
  builtIn = run(['chat', prompt, '--json'], dir);
  for (const pending of [viaGateway, cutInBand, builtIn]) pending.catch(() => undefined);
}, 30_000);

afterAll(async () => {
  for (const child of children) child.kill('SIGKILL');
  await sim.close();
  await rm(dir, { recursive: true, force: true });
});

describe('rx-llm-router serve + chat (child processes)', () => {
  it('should name the config file and the URL in the first log line', () => {
    const first = JSON.parse(serveLog.split('\n')[0] ?? '{}') as Record<string, unknown>;
    expect(first.message).toBe(
      `rx-llm-router listening on ${url}, serving ${join(dir, 'gateway.yaml')}`,
    );
    expect(serveLog).not.toContain('sk-cli-test-upstream');
  });

  it('should stream an answer from the running gateway with chat --url', async () => {
    const { code, stdout, stderr } = await viaGateway;
    expect(stderr).toMatch(
      /^openai\/gpt-4o-mini · 24 tokens in [\d.]+ s · [\d.]+ tok\/s · \$0\.\d{6}\n$/,
    );
    expect(code).toBe(0);
    expect(stdout).toBe(`${answer('gpt-4o-mini')}\n`);
  }, 30_000);

  it('should exit non-zero when the gateway cuts the stream in-band', async () => {
    const { code, stdout, stderr } = await cutInBand;
    expect(code).toBe(1);
    expect(answer('x').startsWith(stdout.trimEnd())).toBe(true);
    expect(stdout.trimEnd().split(' ')).toHaveLength(4);
    expect(stderr).toMatch(
      /\nerror: The answer broke off after \d+ chunks: .*\[RXLLM_INCOMPLETE_STREAM\]\n$/,
    );
  }, 30_000);

  it('should print JSON chunks from the built-in simulator without a config or URL', async () => {
    const { code, stdout, stderr } = await builtIn;
    expect(stderr).toMatch(/^openai\/gpt-4o-mini · /);
    expect(code).toBe(0);
    const chunks = stdout
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line) as StreamingChunk);
    expect(chunks.map((c) => c.choices[0]?.delta.content ?? '').join('')).toBe(
      answer('gpt-4o-mini'),
    );
    expect(new Set(chunks.map((c) => `${c.provider}/${c.model}`))).toEqual(
      new Set(['openai/gpt-4o-mini']),
    );
    expect(chunks.at(-1)?.usage?.completion_tokens).toBe(24);
  }, 30_000);

  it('should shut down gracefully on SIGTERM and exit 0', async () => {
    const exited = once(serve, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
    serve.kill('SIGTERM');
    const [code, signal] = await exited;
    expect(signal).toBeNull();
    expect(code).toBe(0);
    expect(serveLog).toContain('"message":"SIGTERM: shutting down (open streams may finish)"');
    expect(serveLog).toContain('"message":"stopped"');
  }, 30_000);
});
