import { startSimulator, type Simulator, type SimulatorOptions } from './start-simulator';

/** Options of {@link runSimulateCommand}: the simulator's, plus where to log. */
export interface SimulateCommandOptions extends SimulatorOptions {
  /** Where the startup lines go. Default: stdout. */
  log?: (line: string) => void;
}

/**
 * The `simulate` command: starts the simulator and logs its URL and endpoints. The caller owns
 * the returned simulator (close it on SIGINT).
 *
 * ```ts
 * const sim = await runSimulateCommand({ port: 8787 });
 * process.once('SIGINT', () => void sim.close());
 * ```
 *
 * @param options Where to listen (`host`, `port`) and any other simulator option.
 * @return The running simulator.
 */
export async function runSimulateCommand(options: SimulateCommandOptions = {}): Promise<Simulator> {
  const { log = (line: string) => process.stdout.write(`${line}\n`), ...simulatorOptions } =
    options;
  const simulator = await startSimulator(simulatorOptions);
  const { url } = simulator;
  log(`LLM provider simulator listening on ${url}`);
  log(`  OpenAI     POST ${url}/v1/chat/completions   GET ${url}/v1/models`);
  log(`  Anthropic  POST ${url}/v1/messages`);
  log(
    `  Gemini     POST ${url}/v1beta/models/{model}:streamGenerateContent?alt=sse  and  :generateContent`,
  );
  log(
    '  Faults: header x-simulator-fault: <spec>, or model sim-fault-<spec> (see docs/simulator.md)',
  );
  return simulator;
}
