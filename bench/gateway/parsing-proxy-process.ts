import { runMeasuredProcess } from './measured-process';
import { startParsingProxy } from './parsing-proxy';

/** Child process: the parsing proxy (the cost of normalization alone) in front of the simulator. */
runMeasuredProcess(({ upstream, connections }) => {
  if (upstream === undefined)
    throw new Error('parsing-proxy-process: no upstream URL in its config');
  return startParsingProxy(upstream, connections);
});
