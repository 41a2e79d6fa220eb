import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runChatCommand, type ChatOutput } from '../../src/cli/chat-command';
import type { StreamingChunk } from '../../src/chunk/streaming-chunk';
import { expectedText } from '../../src/simulator/plan-answer';
import { startSimulator, type Simulator } from '../../src/simulator/start-simulator';
import {
  captureUnhandledRejections,
  countHandles,
  expectNoLeakedHandles,
  type HandleCounts,
  type RejectionCapture,
} from '../helpers/leaks';

// `chat` in-process: the router built from a config file (or the built-in simulator), output
// captured. The child-process tests (cli.e2e.test.ts) cover the same command end to end.

interface Captured extends ChatOutput {
  text: string;
  writes: number;
}

function output(onWrite?: () => void): Captured {
  const out: Captured = {
    text: '',
    writes: 0,
    isTTY: false,
    write(text: string) {
      out.text += text;
      out.writes++;
      onWrite?.();
      return true;
    },
    once() {
      return out;
    },
  };
  return out;
}

const prompt = 'Tell me about streams';
const answerOf = (model: string): string =>
  expectedText('openai', { model, messages: [{ role: 'user', content: prompt }] });

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
  dir = await mkdtemp(join(tmpdir(), 'rx-llm-router-chat-'));
  emptyDir = await mkdtemp(join(tmpdir(), 'rx-llm-router-chat-empty-'));
  configPath = join(dir, 'rx-llm-router.yaml');
  await writeFile(
    configPath,
    `
providers:
  openai: { type: openai, apiKey: "\${SIM_KEY}", baseUrl: "${sim.url}/v1" }
routes:
  gpt-*: [{ provider: openai, model: $model }]
  sim-fault-*:
    candidates: [{ provider: openai, model: $model }]
    retry: false
`,
  );
});

afterAll(async () => {
  await sim.close();
  await rm(dir, { recursive: true, force: true });
  await rm(emptyDir, { recursive: true, force: true });
  rejections.stop();
  await expectNoLeakedHandles(baseline);
});

const env = { SIM_KEY: 'sk-test-chat' };

describe('runChatCommand', () => {
  it('should stream the text to stdout and print one summary line on stderr', async () => {
    const stdout = output();
    const stderr = output();
    const code = await runChatCommand(
      prompt,
      { model: 'gpt-4o-mini', config: configPath },
      { stdout, stderr, env },
    );
    expect(code).toBe(0);
    expect(stdout.text).toBe(`${answerOf('gpt-4o-mini')}\n`);
    expect(stdout.writes).toBeGreaterThan(20); // token by token, not one block
    expect(stderr.text).toMatch(
      /^openai\/gpt-4o-mini · 24 tokens in \d+\.\d\d s · [\d.]+ tok\/s · \$0\.\d{6}\n$/,
    );
  });

  it('should print each chunk as one JSON line with --json', async () => {
    const stdout = output();
    const stderr = output();
    const code = await runChatCommand(
      prompt,
      { model: 'gpt-4o-mini', config: configPath, json: true, system: 'Be brief', maxTokens: 5 },
      { stdout, stderr, env },
    );
    expect(code).toBe(0);
    const chunks = stdout.text
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line) as StreamingChunk);
    const text = chunks.map((c) => c.choices[0]?.delta.content ?? '').join('');
    expect(answerOf('gpt-4o-mini').startsWith(text)).toBe(true);
    expect(chunks.every((c) => c.provider === 'openai')).toBe(true);
    expect(chunks.at(-1)?.usage?.completion_tokens).toBe(5);
    expect(chunks.some((c) => c.choices[0]?.finish_reason === 'length')).toBe(true);
    // The system message went upstream too: 2 + 4 prompt words.
    expect(sim.attempts.at(-1)?.promptTokens).toBe(6);
  });

  it('should exit non-zero with the error when the stream is cut after content', async () => {
    const stdout = output();
    const stderr = output();
    const code = await runChatCommand(
      prompt,
      { model: 'sim-fault-inband-error-after-4', config: configPath },
      { stdout, stderr, env },
    );
    expect(code).toBe(1);
    expect(answerOf('x').startsWith(stdout.text.trimEnd())).toBe(true);
    expect(stdout.text.trimEnd().split(' ')).toHaveLength(4);
    const lines = stderr.text.trimEnd().split('\n');
    expect(lines[0]).toMatch(
      /^openai\/sim-fault-inband-error-after-4 · ~?\d+ tokens in .* · failed$/,
    );
    expect(lines[1]).toMatch(/^error: .*\[RXLLM_/);
  });

  it('should exit non-zero naming the models when the model is unknown', async () => {
    const stdout = output();
    const stderr = output();
    const code = await runChatCommand(
      prompt,
      { model: 'nope', config: configPath },
      { stdout, stderr, env },
    );
    expect(code).toBe(1);
    expect(stdout.text).toBe('');
    expect(stderr.text).toContain(
      'error: Unknown model "nope": no route matches it. Available: gpt-*, sim-fault-*.',
    );
  });

  it('should exit non-zero naming the file and path of a config error', async () => {
    const stdout = output();
    const stderr = output();
    const code = await runChatCommand(prompt, { config: configPath }, { stdout, stderr, env: {} });
    expect(code).toBe(1);
    expect(stderr.text).toContain(
      `error: Invalid config file ${configPath}: providers.openai.apiKey: environment variable SIM_KEY is not set`,
    );
  });

  it('should stop and exit 130 when interrupted', async () => {
    const controller = new AbortController();
    const stdout = output(() => {
      controller.abort(new Error('Ctrl-C'));
    });
    const stderr = output();
    const code = await runChatCommand(
      prompt,
      { model: 'gpt-4o-mini', config: configPath },
      { stdout, stderr, env, signal: controller.signal },
    );
    expect(code).toBe(130);
    expect(stderr.text).toContain('error: interrupted');
    expect(stdout.text.trimEnd().split(' ').length).toBeLessThan(24);
  });

  it('should run on the built-in simulator without a config file, showing a resumed failover', async () => {
    const stdout = output();
    const stderr = output();
    const code = await runChatCommand(
      prompt,
      { model: 'sim-fault-reset-after-5' },
      { stdout, stderr, cwd: emptyDir, env: {} },
    );
    expect(code).toBe(0);
    expect(stdout.text).toBe(`${answerOf('sim-fault-reset-after-5')}\n`);
    expect(stderr.text).toContain(
      '1 failover: openai/sim-fault-reset-after-5 → anthropic/claude-3-5-haiku-latest',
    );
    expect(stderr.text).toMatch(/^anthropic\/claude-3-5-haiku-latest · /);
  });

  it('should draw a live status line when stderr is a TTY', async () => {
    const stdout = output();
    const stderr = output();
    Object.assign(stderr, { isTTY: true, columns: 120 });
    const code = await runChatCommand(
      prompt,
      { model: 'fast' },
      { stdout, stderr, cwd: emptyDir, env: {} },
    );
    expect(code).toBe(0);
    expect(stderr.text).toContain('\r\u001b[2Kwaiting for the first token');
    const draws = stderr.text.split('\r\u001b[2K');
    expect(draws.some((d) => /^openai\/gpt-4o-mini · ~?\d+ tokens/.test(d))).toBe(true);
    expect(stderr.text.endsWith('\n')).toBe(true);
  });
});
