import { readFileSync } from 'node:fs';
import { CommanderError } from 'commander';
import { createProgram, formatCliError } from '../../src/cli/main';
import { ValidationError } from '../../src/errors/validation-error';

/** Runs the program in-process on `args`, returning what it printed and how it ended. */
function parse(args: string[]): { out: string; err: string; exit: CommanderError | undefined } {
  const program = createProgram();
  let out = '';
  let err = '';
  const capture = (command: typeof program): void => {
    command.exitOverride().configureOutput({
      writeOut: (text) => (out += text),
      writeErr: (text) => (err += text),
      getOutHelpWidth: () => 80,
      getErrHelpWidth: () => 80,
    });
    for (const sub of command.commands) capture(sub);
  };
  capture(program);
  let exit: CommanderError | undefined;
  try {
    program.parse(['node', 'rx-llm-router', ...args]);
  } catch (error) {
    if (!(error instanceof CommanderError)) throw error;
    exit = error;
  }
  return { out, err, exit };
}

describe('rx-llm-router --help', () => {
  it('should list every command', () => {
    const { out, exit } = parse(['--help']);
    expect(exit?.exitCode).toBe(0);
    for (const command of [
      'serve [options]',
      'chat [options] <prompt>',
      'simulate [options]',
      'demo [options]',
    ]) {
      expect(out).toContain(command);
    }
  });

  it('should print the package version with --version and -V', () => {
    const { version } = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string };
    expect(version).toMatch(/^\d+\.\d+\.\d+/);
    for (const flag of ['--version', '-V']) {
      const { out, exit } = parse([flag]);
      expect(exit?.exitCode).toBe(0);
      expect(out).toBe(`${version}\n`);
    }
    expect(parse(['--help']).out).toMatch(/-V, --version\s+print the version/);
  });

  it('should document serve: config lookup, built-in simulator, host and port defaults', () => {
    const { out } = parse(['serve', '--help']);
    expect(out).toContain('Usage: rx-llm-router serve [options]');
    expect(out).toMatch(
      /rx-llm-router\.yaml\|yml\|json in the current\s+directory, else the built-in\s+simulator/,
    );
    expect(out).toMatch(/-c, --config <file>/);
    expect(out).toMatch(
      /-p, --port <n>\s+port to listen on, 0 picks a free one \(default: the\s+file's server\.port, else 8787\)/,
    );
    expect(out).toMatch(
      /-H, --host <host>\s+interface to listen on \(default: the file's server\.host,\s+else 127\.0\.0\.1\)/,
    );
  });

  it('should document chat: prompt, model default, config or url, json, system, max tokens', () => {
    const { out } = parse(['chat', '--help']);
    expect(out).toContain('Usage: rx-llm-router chat [options] <prompt>');
    expect(out).toMatch(/prompt\s+the user message \("-" reads it from stdin\)/);
    expect(out).toMatch(/-m, --model <model>\s+model or alias to ask for \(default: "fast"\)/);
    expect(out).toMatch(/-c, --config <file>/);
    expect(out).toMatch(/-u, --url <url>/);
    expect(out).toMatch(/-k, --api-key <key>[\s\S]*RX_LLM_ROUTER_API_KEY/);
    expect(out).toMatch(/--json\s+print each chunk as one JSON line/);
    expect(out).toMatch(/-s, --system <text>/);
    expect(out).toMatch(/--max-tokens <n>/);
  });

  it('should document simulate', () => {
    const { out } = parse(['simulate', '--help']);
    expect(out).toMatch(
      /-p, --port <n>\s+port to listen on \(0 picks a free one\) \(default: 8788\)/,
    );
  });

  it('should refuse --config together with --url', () => {
    const { err, exit } = parse([
      'chat',
      'hi',
      '--config',
      'a.yaml',
      '--url',
      'http://127.0.0.1:1',
    ]);
    expect(exit?.exitCode).toBe(1);
    expect(err).toMatch(
      /option '-u, --url <url>' cannot be used with option '-c, --config <file>'|option '-c, --config <file>' cannot be used with option '-u, --url <url>'/,
    );
  });

  it('should refuse a bad port and a bad --max-tokens with the reason', () => {
    expect(parse(['serve', '--port', '70000']).err).toContain(
      'expected a port number from 0 to 65535',
    );
    expect(parse(['chat', 'hi', '--max-tokens', '0']).err).toContain('expected a positive integer');
  });
});

describe('formatCliError', () => {
  it('should put each problem of a config error on its own line', () => {
    const error = new ValidationError(
      [
        {
          path: 'routes.fast[1].provider',
          message: 'unknown provider "anthropc" (did you mean "anthropic"?)',
        },
        { path: 'server.prot', message: 'unknown key (did you mean "port"?)' },
      ],
      { subject: 'config file rx-llm-router.yaml' },
    );
    expect(formatCliError(error)).toBe(
      [
        'Invalid config file rx-llm-router.yaml:',
        '  - routes.fast[1].provider: unknown provider "anthropc" (did you mean "anthropic"?)',
        '  - server.prot: unknown key (did you mean "port"?)',
      ].join('\n'),
    );
  });

  it('should keep a single problem on one line', () => {
    const error = new ValidationError([{ path: 'a', message: 'b' }], { subject: 'config file x' });
    expect(formatCliError(error)).toBe('Invalid config file x: a: b');
  });
});
