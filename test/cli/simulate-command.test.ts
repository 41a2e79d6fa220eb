import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { resolve } from 'node:path';

// `rx-llm-router simulate --port N` as a user runs it: a child process that serves until SIGTERM.
const root = resolve(__dirname, '..', '..');

it('should serve the simulator from the command line and stop on SIGTERM', async () => {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'src/cli/main.ts', 'simulate', '--port', '0'],
    { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  child.stdout.setEncoding('utf8');
  const url = await new Promise<string>((resolveUrl, reject) => {
    child.stdout.on('data', (text: string) => {
      output += text;
      const match = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(output);
      if (match?.[1] !== undefined) resolveUrl(match[1]);
    });
    child.once('exit', (code) => {
      reject(new Error(`simulate exited early (${String(code)}): ${output}`));
    });
  });
  const response = await fetch(`${url}/v1/models`);
  const body = (await response.json()) as { object: string; data: { id: string }[] };
  expect(response.status).toBe(200);
  expect(body.object).toBe('list');
  expect(body.data.length).toBeGreaterThan(0);
  expect(output).toContain('/v1/messages');
  expect(output).toContain(':streamGenerateContent?alt=sse');

  child.kill('SIGTERM');
  const [code] = (await once(child, 'exit')) as [number | null];
  expect(code).toBe(0);
}, 30_000);

it('should reject a bad port with a message that names the problem', async () => {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'src/cli/main.ts', 'simulate', '--port', 'eighty'],
    { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (text: string) => (stderr += text));
  const [code] = (await once(child, 'exit')) as [number | null];
  expect(code).not.toBe(0);
  expect(stderr).toContain('expected a port number from 0 to 65535');
}, 30_000);
