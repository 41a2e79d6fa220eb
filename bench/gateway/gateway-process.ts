import { createLogger } from '../../src/logging/create-logger';
import { openai } from '../../src/providers/http/openai-provider';
import { createRouter } from '../../src/router/create-router';
import { startGateway } from '../../src/gateway/start-gateway';
import { runMeasuredProcess } from './measured-process';

/**
 * Child process: our gateway in front of the simulator, configured the way a user would for one
 * OpenAI-compatible upstream: every model (`*`) to the `openai` provider, the model passed
 * through, the provider's pool sized for the largest concurrency, and a silent logger.
 */
runMeasuredProcess(async ({ upstream, connections }) => {
  if (upstream === undefined) throw new Error('gateway-process: no upstream URL in its config');
  const router = createRouter({
    providers: {
      openai: openai({ apiKey: 'sk-bench', baseURL: `${upstream}/v1`, connections }),
    },
    routes: { '*': [{ provider: 'openai', model: '$model' }] },
  });
  const gateway = await startGateway({ router, port: 0, logger: createLogger({ silent: true }) });
  return {
    url: gateway.url,
    server: gateway.server,
    async close() {
      await gateway.close();
      if (!router.closed) await router.close();
    },
  };
});
