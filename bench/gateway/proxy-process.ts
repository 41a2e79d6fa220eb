import { startBareProxy } from './bare-proxy';
import { runMeasuredProcess } from './measured-process';

/** Child process: the bare pass-through proxy in front of the simulator. */
runMeasuredProcess(({ upstream, connections }) => {
  if (upstream === undefined) throw new Error('proxy-process: no upstream URL in its config');
  return startBareProxy(upstream, connections);
});
