#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import { CancelledError } from '../errors/cancelled-error';
import { ValidationError } from '../errors/validation-error';
import { runSimulateCommand } from '../simulator/run-simulate-command';
import { runChatCommand, type ChatCommandOptions } from './chat-command';
import { runDecodeDemo } from './decode-demo';
import { runServeCommand, SERVE_DEFAULTS } from './serve-command';

function port(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) {
    throw new InvalidArgumentError('expected a port number from 0 to 65535.');
  }
  return n;
}

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('expected a positive integer.');
  return n;
}

/** How long after a graceful shutdown the process may linger before it is ended anyway. */
const EXIT_GRACE_MS = 2000;

/** Reads the prompt from stdin (for `chat -`), at most 1 MiB. */
async function readStdin(): Promise<string> {
  const pieces: Buffer[] = [];
  let size = 0;
  for await (const piece of process.stdin as AsyncIterable<Buffer>) {
    size += piece.length;
    if (size > 1024 * 1024) throw new InvalidArgumentError('the prompt on stdin is over 1 MiB.');
    pieces.push(piece);
  }
  return Buffer.concat(pieces).toString('utf8');
}

/** An error as the terminal shows it: a config error with one problem per line. */
export function formatCliError(error: unknown): string {
  if (error instanceof ValidationError && error.issues.length > 1) {
    const [head] = error.message.split(': ', 1);
    return [
      `${head ?? 'Invalid input'}:`,
      ...error.issues.map((i) => `  - ${i.path === '' ? '' : `${i.path}: `}${i.message}`),
    ].join('\n');
  }
  return error instanceof Error ? error.message : String(error);
}

/** The package's version (package.json is two levels up, from src/cli and from dist/cli). */
export function packageVersion(): string {
  const manifest = JSON.parse(
    readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8'),
  ) as { version?: unknown };
  return typeof manifest.version === 'string' ? manifest.version : 'unknown';
}

/** Builds the `rx-llm-router` command line. */
export function createProgram(): Command {
  const program = new Command();
  program
    .name('rx-llm-router')
    .description(
      'Reactive LLM streaming router: an OpenAI-compatible gateway, a chat client, and a provider simulator.',
    )
    .version(packageVersion(), '-V, --version', 'print the version')
    .showHelpAfterError();

  program
    .command('serve')
    .description(
      'Run the OpenAI-compatible gateway. Config: --config, else rx-llm-router.yaml|yml|json in the current directory, else the built-in simulator (no API key needed).',
    )
    .option('-c, --config <file>', 'config file (YAML or JSON)')
    .option(
      '-p, --port <n>',
      `port to listen on, 0 picks a free one (default: the file's server.port, else ${SERVE_DEFAULTS.port})`,
      port,
    )
    .option(
      '-H, --host <host>',
      `interface to listen on (default: the file's server.host, else ${SERVE_DEFAULTS.host})`,
    )
    .action(async (options: { config?: string; port?: number; host?: string }) => {
      const running = await runServeCommand(options);
      let stopping = false;
      const stop = (signal: NodeJS.Signals): void => {
        if (stopping) {
          running.logger.warn(`${signal} again: exiting now`);
          process.exit(1);
        }
        stopping = true;
        running.logger.info(`${signal}: shutting down (open streams may finish)`);
        running
          .close()
          .then(() => {
            running.logger.info('stopped');
            process.exitCode = 0;
          })
          .catch((error: unknown) => {
            running.logger.error('shutdown failed', { error });
            process.exitCode = 1;
          })
          .finally(() => {
            // Everything is closed; do not let a stray handle keep the process alive.
            setTimeout(() => process.exit(), EXIT_GRACE_MS).unref();
          });
      };
      process.on('SIGINT', stop);
      process.on('SIGTERM', stop);
    });

  program
    .command('chat')
    .description(
      'Stream one answer to the terminal, through a running gateway (--url) or an in-process router (--config, else rx-llm-router.yaml|yml|json, else the built-in simulator). A status line on stderr shows provider, model, tokens/s, cost and failovers.',
    )
    .argument('<prompt>', 'the user message ("-" reads it from stdin)')
    .option('-m, --model <model>', 'model or alias to ask for', 'fast')
    .addOption(
      new Option('-c, --config <file>', 'config file for the in-process router').conflicts('url'),
    )
    .addOption(
      new Option('-u, --url <url>', 'a running gateway, e.g. http://127.0.0.1:8787').conflicts(
        'config',
      ),
    )
    .addOption(
      new Option('-k, --api-key <key>', "the gateway's key, with --url").env(
        'RX_LLM_ROUTER_API_KEY',
      ),
    )
    .option('-s, --system <text>', 'a system message')
    .option('--max-tokens <n>', 'the most tokens to generate', positiveInt)
    .option('--json', 'print each chunk as one JSON line instead of the text')
    .action(async (prompt: string, options: ChatCommandOptions) => {
      const text = prompt === '-' ? await readStdin() : prompt;
      const controller = new AbortController();
      const interrupt = (): void => {
        controller.abort(new CancelledError('Interrupted.'));
      };
      process.once('SIGINT', interrupt);
      process.once('SIGTERM', interrupt);
      try {
        process.exitCode = await runChatCommand(text, options, {
          stdout: process.stdout,
          stderr: process.stderr,
          signal: controller.signal,
        });
      } finally {
        process.off('SIGINT', interrupt);
        process.off('SIGTERM', interrupt);
      }
    });

  program
    .command('simulate')
    .description(
      'Run the local provider simulator (OpenAI, Anthropic and Gemini wire formats, with fault injection).',
    )
    .option('-p, --port <n>', 'port to listen on (0 picks a free one)', port, 8788)
    .option('-H, --host <host>', 'interface to listen on', '127.0.0.1')
    .action(async (options: { port: number; host: string }) => {
      const simulator = await runSimulateCommand({ port: options.port, host: options.host });
      const stop = (): void => {
        void simulator.close();
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });

  program
    .command('demo')
    .description(
      'Decode the bundled OpenAI, Anthropic and Gemini sample streams, printing the text live.',
    )
    .option('--pace <ms>', 'delay between network-sized pieces', (v) => Number(v), 12)
    .action(async (options: { pace: number }) => {
      await runDecodeDemo({ write: (text) => process.stdout.write(text), paceMs: options.pace });
    });

  return program;
}

if (require.main === module) {
  createProgram()
    .parseAsync(process.argv)
    .catch((error: unknown) => {
      console.error(`error: ${formatCliError(error)}`);
      process.exitCode = 1;
    });
}
