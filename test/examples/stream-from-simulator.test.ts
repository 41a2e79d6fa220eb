import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { expectedText } from '../../src/simulator/index';

// The README's provider example, run as a user would run it.
const root = resolve(__dirname, '..', '..');

it('should stream the simulator answer through the openai provider and exit cleanly', async () => {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ['--import', 'tsx', 'examples/stream-from-simulator.ts'],
    { cwd: root, timeout: 30_000 },
  );
  const text = expectedText('openai', {
    model: 'gpt-4o-mini',
    messages: [{ role: 'user', content: 'Why RxJS?' }],
  });
  expect(text.length).toBeGreaterThan(20);
  expect(stdout.startsWith(text)).toBe(true);
  expect(stdout).toContain('[openai · gpt-4o-mini] usage:');
  expect(stdout).toContain('completion_tokens: 24');
}, 30_000);
