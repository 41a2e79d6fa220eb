import { startSimulator } from '../../src/simulator/start-simulator';
import { runMeasuredProcess } from './measured-process';

/** Child process: the provider simulator, unpaced, answering every request with `tokens` tokens. */
runMeasuredProcess(async ({ tokens }) => {
  const sim = await startSimulator({
    defaultTokens: tokens,
    // Zero artificial latency (these are the defaults; spelled out because the bench relies on it).
    latencyMs: 0,
    firstTokenMs: 0,
    tokensPerSecond: Infinity,
    maxAttempts: 1000,
  });
  return { url: sim.url, server: sim.server, close: () => sim.close() };
});
