#!/usr/bin/env node
import { Command, InvalidArgumentError } from 'commander';
import { runSimulateCommand } from '../simulator/run-simulate-command';
import { runDecodeDemo } from './decode-demo';

function port(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) {
    throw new InvalidArgumentError('expected a port number from 0 to 65535.');
  }
  return n;
}

/** Builds the `rx-llm-router` command line. */
export function createProgram(): Command {
  const program = new Command();
  program
    .name('rx-llm-router')
    .description('Reactive LLM streaming router: providers, simulator and tools.')
    .showHelpAfterError();

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
      console.error(error instanceof Error ? error.message : error);
      process.exitCode = 1;
    });
}
