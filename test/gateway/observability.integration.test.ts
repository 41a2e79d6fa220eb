import { register as globalRegistry } from 'prom-client';
import { DEFAULT_ROUTES, PROVIDER_KEYS, chatBody, postChat, useGateway } from './gateway-fixtures';

/** The `/metrics` endpoint and the one-JSON-line-per-request log, without secrets. */
const env = useGateway({
  simulator: {
    scenarios: [
      { match: { model: 'flaky-once' }, faults: ['status-503', null] },
      { match: { model: 'always-down' }, faults: ['status-503'], then: 'repeat-last' },
    ],
  },
  routes: {
    ...DEFAULT_ROUTES,
    retried: [{ provider: 'openai', model: 'flaky-once' }],
    'failing-over': [
      { provider: 'openai', model: 'always-down' },
      { provider: 'anthropic', model: 'claude-backup' },
    ],
  },
});

async function metrics(): Promise<string> {
  const res = await fetch(`${env.url}/metrics`);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
  return res.text();
}

/** The value of one sample line, or undefined. */
function sample(text: string, line: string): number | undefined {
  const found = text.split('\n').find((l) => l.startsWith(`${line} `));
  return found === undefined ? undefined : Number(found.slice(line.length + 1));
}

async function stream(
  body: Record<string, unknown>,
  headers: Record<string, string> = {},
): Promise<Response> {
  const res = await postChat(env.url, body, headers);
  await res.text();
  return res;
}

describe('GET /metrics', () => {
  beforeAll(async () => {
    await stream(chatBody('fast', { stream: true }));
    await stream(chatBody('fast'));
    await stream(chatBody('retried', { stream: true }));
    await stream(chatBody('failing-over', { stream: true }));
    await stream(chatBody('no-such-model', { stream: true }));
    await stream(chatBody('sim-fault-reset-after-2', { stream: true }));
  });

  it('should count requests by serving provider, model and outcome', async () => {
    const text = await metrics();
    expect(
      sample(text, 'rxllm_requests_total{provider="openai",model="gpt-4o-mini",outcome="success"}'),
    ).toBe(2);
    expect(
      sample(
        text,
        'rxllm_requests_total{provider="anthropic",model="claude-backup",outcome="success"}',
      ),
    ).toBe(1);
    expect(
      sample(text, 'rxllm_requests_total{provider="openai",model="flaky-once",outcome="success"}'),
    ).toBe(1);
    expect(sample(text, 'rxllm_requests_total{provider="none",model="none",outcome="error"}')).toBe(
      1,
    );
    expect(
      sample(
        text,
        'rxllm_requests_total{provider="openai",model="sim-fault-reset-after-2",outcome="in_band_error"}',
      ),
    ).toBe(1);
    expect(
      sample(text, 'rxllm_http_responses_total{endpoint="/v1/chat/completions",status="404"}'),
    ).toBe(1);
    expect(
      sample(text, 'rxllm_http_responses_total{endpoint="/v1/chat/completions",status="200"}'),
    ).toBe(5);
  });

  it('should record time to first token, duration, tokens and cost', async () => {
    const text = await metrics();
    expect(
      sample(
        text,
        'rxllm_time_to_first_token_seconds_count{provider="openai",model="gpt-4o-mini"}',
      ),
    ).toBe(2);
    expect(
      sample(
        text,
        'rxllm_time_to_first_token_seconds_bucket{le="+Inf",provider="openai",model="gpt-4o-mini"}',
      ),
    ).toBe(2);
    expect(
      sample(text, 'rxllm_time_to_first_token_seconds_sum{provider="openai",model="gpt-4o-mini"}'),
    ).toBeGreaterThan(0);
    expect(
      sample(
        text,
        'rxllm_request_duration_seconds_count{provider="openai",model="gpt-4o-mini",outcome="success"}',
      ),
    ).toBe(2);
    expect(
      sample(text, 'rxllm_tokens_total{provider="openai",model="gpt-4o-mini",type="completion"}'),
    ).toBe(48);
    expect(
      sample(text, 'rxllm_tokens_total{provider="openai",model="gpt-4o-mini",type="prompt"}'),
    ).toBe(2);
    expect(
      sample(text, 'rxllm_cost_usd_total{provider="openai",model="gpt-4o-mini"}'),
    ).toBeGreaterThan(0);
  });

  it('should count attempts, retries and failovers from the router events', async () => {
    const text = await metrics();
    expect(sample(text, 'rxllm_retries_total{candidate="openai/flaky-once"}')).toBe(1);
    expect(
      sample(text, 'rxllm_attempts_total{candidate="openai/flaky-once",outcome="failure"}'),
    ).toBe(1);
    expect(
      sample(text, 'rxllm_attempts_total{candidate="openai/flaky-once",outcome="success"}'),
    ).toBe(1);
    expect(
      sample(text, 'rxllm_attempts_total{candidate="openai/always-down",outcome="failure"}'),
    ).toBe(2);
    expect(
      sample(
        text,
        'rxllm_failovers_total{from="openai/always-down",to="anthropic/claude-backup",mode="restart"}',
      ),
    ).toBe(1);
  });

  it('should show breaker states and the streams open now', async () => {
    const res = await postChat(env.url, chatBody('sim-fault-stall-after-2-5000', { stream: true }));
    const reader = res.body!.getReader();
    await reader.read();
    const during = await metrics();
    expect(sample(during, 'rxllm_active_streams')).toBe(1);
    expect(
      sample(
        during,
        'rxllm_upstream_active_streams{candidate="openai/sim-fault-stall-after-2-5000"}',
      ),
    ).toBe(1);
    expect(sample(during, 'rxllm_breaker_state{candidate="openai/gpt-4o-mini"}')).toBe(0);
    await reader.cancel();
    await env.sim.waitForAttempt((a) => a.outcome === 'client-closed', { timeoutMs: 2000 });
    let after = await metrics();
    for (let i = 0; i < 20 && sample(after, 'rxllm_active_streams') !== 0; i++)
      after = await metrics();
    expect(sample(after, 'rxllm_active_streams')).toBe(0);
  });

  it('should never register in the global registry', async () => {
    expect(await globalRegistry.metrics()).not.toContain('rxllm_');
  });
});

describe('the request log', () => {
  it('should write one JSON line per request with ids, model, serving provider, ttft, tokens, cost, retries, failovers and outcome', async () => {
    const res = await stream(chatBody('failing-over', { stream: true }), {
      'x-request-id': 'log-test-1',
    });
    const line = await env.logFor((l) => l.requestId === 'log-test-1');
    expect(env.logs().filter((l) => l.requestId === 'log-test-1')).toHaveLength(1);
    expect(line).toMatchObject({
      level: 'info',
      message: 'request',
      requestId: 'log-test-1',
      sessionId: res.headers.get('x-session-id'),
      method: 'POST',
      path: '/v1/chat/completions',
      status: 200,
      stream: true,
      model: 'failing-over',
      provider: 'anthropic',
      servedModel: 'claude-backup',
      promptTokens: expect.any(Number),
      completionTokens: 24,
      retries: 1,
      failovers: 1,
      attempts: 3,
      outcome: 'success',
    });
    expect(line.ttftMs).toEqual(expect.any(Number));
    expect(line.durationMs).toEqual(expect.any(Number));
    expect(line).toHaveProperty('costUsd');
    expect(typeof line.timestamp).toBe('string');
  });

  it('should log failures with their code, and the health check only at debug level', async () => {
    await stream(chatBody('sim-fault-reset-after-2', { stream: true }), {
      'x-request-id': 'log-test-2',
    });
    expect(await env.logFor((l) => l.requestId === 'log-test-2')).toMatchObject({
      status: 200,
      outcome: 'in_band_error',
      errorCode: 'RXLLM_INCOMPLETE_STREAM',
    });
    await (await fetch(`${env.url}/health`, { headers: { 'x-request-id': 'log-test-3' } })).text();
    await stream(chatBody('fast'), { 'x-request-id': 'log-test-4' });
    await env.logFor((l) => l.requestId === 'log-test-4');
    expect(env.logs().some((l) => l.requestId === 'log-test-3')).toBe(false);
  });

  it('should never log API keys or Authorization headers', async () => {
    await stream(chatBody('fast', { stream: true }), {
      authorization: 'Bearer sk-client-secret-abcdef123456',
      'x-api-key': 'client-api-key-zyxwvu',
      'x-request-id': 'log-test-5',
    });
    // A key pasted where the model goes is echoed by the 404, and must not reach the log.
    await stream(chatBody('sk-pasted-by-mistake-0987654321', { stream: true }), {
      'x-request-id': 'log-test-6',
    });
    await env.logFor((l) => l.requestId === 'log-test-6');
    const text = env.logText();
    for (const secret of [
      'sk-client-secret-abcdef123456',
      'client-api-key-zyxwvu',
      'sk-pasted-by-mistake-0987654321',
      PROVIDER_KEYS.openai,
      PROVIDER_KEYS.anthropic,
      PROVIDER_KEYS.google,
      'SECRETSECRET',
    ]) {
      expect(text).not.toContain(secret);
    }
    expect(text.toLowerCase()).not.toContain('authorization');
  });
});
