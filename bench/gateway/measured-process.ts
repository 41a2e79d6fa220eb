import { readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { ServerCommand, ServerProcessConfig, ServerReply } from './messages';

/** A server started in a measured process. */
export interface MeasuredServer {
  url: string;
  server: Server;
  close(): Promise<void>;
}

/** How often memory is sampled while measuring, ms (a sample costs about 25 µs here). */
const rssSampleMs = 20;

/** Clock ticks per second of `/proc` times (`getconf CLK_TCK`, 100 on Linux). */
const ticksPerSecond = 100;

/** The main thread's CPU time (user + system), ms, or undefined where `/proc` is missing. */
function mainThreadCpuMs(): number | undefined {
  try {
    const stat = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8');
    // Fields after the command name (which is in parentheses): utime and stime are 12th and 13th.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / ticksPerSecond;
  } catch {
    return undefined;
  }
}

function send(reply: ServerReply): void {
  process.send?.(reply);
}

/**
 * The body of a server process of the gateway benchmark (upstream simulator, bare proxy or
 * gateway): starts the server from `argv[2]`'s config, says `ready`, then measures its own CPU
 * time, peak RSS and accepted connections between `measure-start` and `measure-stop`, and closes
 * on `shutdown`. Measuring inside the process is what makes the CPU time the server's alone.
 */
export function runMeasuredProcess(
  start: (config: ServerProcessConfig) => Promise<MeasuredServer>,
): void {
  const config = JSON.parse(process.argv[2] ?? '{}') as ServerProcessConfig;
  let running: MeasuredServer | undefined;
  let connections = 0;
  let cpu = process.cpuUsage();
  let mainCpu = mainThreadCpuMs();
  let peakRss = 0;
  let sampler: NodeJS.Timeout | undefined;
  let heapAtPeak = 0;
  const sample = (): void => {
    // `rss()` alone is cheap; the heap statistics are read only at a new peak.
    const rss = process.memoryUsage.rss();
    if (rss > peakRss) {
      peakRss = rss;
      heapAtPeak = process.memoryUsage().heapTotal;
    }
  };

  const onCommand = async (command: ServerCommand): Promise<void> => {
    switch (command.type) {
      case 'measure-start':
        connections = 0;
        peakRss = 0;
        sample();
        clearInterval(sampler);
        sampler = setInterval(sample, rssSampleMs);
        cpu = process.cpuUsage();
        mainCpu = mainThreadCpuMs();
        send({ type: 'measuring' });
        return;
      case 'measure-stop': {
        const used = process.cpuUsage(cpu);
        const mainNow = mainThreadCpuMs();
        clearInterval(sampler);
        sampler = undefined;
        sample();
        send({
          type: 'measured',
          cpuMs: (used.user + used.system) / 1000,
          mainThreadCpuMs:
            mainNow === undefined || mainCpu === undefined ? undefined : mainNow - mainCpu,
          peakRss,
          heapAtPeak,
          connections,
        });
        return;
      }
      case 'shutdown': {
        clearInterval(sampler);
        await running?.close();
        // A closed server's handle is released a turn or two after its 'close' event.
        await new Promise((resolve) => setImmediate(resolve));
        await new Promise((resolve) => setImmediate(resolve));
        process.off('message', listener);
        const resources = process
          .getActiveResourcesInfo()
          .filter((name) => name !== 'PipeWrap' && name !== 'TTYWrap');
        send({ type: 'closed', maxRss: process.resourceUsage().maxRSS * 1024, resources });
        // Whatever is left (reported above) must not keep the process: the orchestrator waits.
        process.disconnect();
        setTimeout(() => process.exit(0), 1000).unref();
        return;
      }
    }
  };
  const listener = (command: ServerCommand): void => {
    onCommand(command).catch((error: unknown) => {
      send({ type: 'failed', message: String(error) });
    });
  };
  process.on('message', listener);

  start(config).then(
    (server) => {
      running = server;
      server.server.keepAliveTimeout = 120_000;
      server.server.on('connection', () => connections++);
      send({ type: 'ready', url: server.url });
    },
    (error: unknown) => {
      send({
        type: 'failed',
        message: error instanceof Error ? (error.stack ?? error.message) : String(error),
      });
      process.exitCode = 1;
      process.disconnect();
    },
  );
}
