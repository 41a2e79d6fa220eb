import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { NEVER } from 'rxjs';
import { Registry } from 'prom-client';
import { RouterError, type RouterErrorCode } from '../../src/errors/router-error';
import { createGatewayMetrics } from '../../src/gateway/gateway-metrics';
import { toOpenAIError } from '../../src/gateway/openai-error';
import type { Router } from '../../src/router/router';

// docs/gateway.md lists the error mapping and the metrics; these tests keep the lists true.
const guide = readFileSync(resolve(__dirname, '..', '..', 'docs', 'gateway.md'), 'utf8');

/** The rows of the Markdown table whose header starts with `firstHeader`, as cells. */
function table(firstHeader: string): string[][] {
  const lines = guide.split('\n');
  const start = lines.findIndex((line) => line.startsWith(`| ${firstHeader}`));
  expect(start).toBeGreaterThan(-1);
  const rows: string[][] = [];
  for (const line of lines.slice(start + 2)) {
    if (!line.startsWith('|')) break;
    rows.push(
      line
        .slice(1, -1)
        .split('|')
        .map((cell) => cell.trim().replace(/^`|`$/g, '')),
    );
  }
  return rows;
}

describe('docs/gateway.md', () => {
  it('should show the error mapping toOpenAIError applies', () => {
    const rows = table('error code');
    expect(rows.length).toBeGreaterThanOrEqual(20);
    for (const [code, status, type, openaiCode, param] of rows) {
      if (code === 'RXLLM_ALL_PROVIDERS_FAILED') continue;
      const mapped = toOpenAIError(new RouterError(code as RouterErrorCode, 'm', false));
      expect({
        code,
        status: mapped.status,
        type: mapped.error.type,
        openaiCode: mapped.error.code,
      }).toEqual({
        code,
        status: Number(status),
        type,
        openaiCode,
      });
      if (param === '' || param === 'the field') expect(mapped.error.param).toBeNull();
      else expect(mapped.error.param).toBe(param);
    }
  });

  it('should list every metric the gateway registers, with its type', async () => {
    const registry = new Registry();
    const router = {
      events$: NEVER,
      health: () => ({ at: 0, candidates: [] }),
    } as unknown as Router;
    const metrics = createGatewayMetrics(registry, router);
    const registered = (await registry.getMetricsAsJSON()).map((m) => [m.name, String(m.type)]);
    metrics.close();
    const documented = table('metric').map(([name, type]) => [name, type]);
    expect(documented.sort()).toEqual(registered.sort());
  });
});
