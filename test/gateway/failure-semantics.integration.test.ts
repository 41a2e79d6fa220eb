import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import OpenAI from 'openai';
import { openaiCompatible } from '../../src/providers/http/openai-compatible-provider';
import type { CandidateConfig } from '../../src/router/router-config';
import { simulatedText, type AttemptRecord } from '../../src/simulator/index';
import {
  attemptsFor,
  chatBody,
  gaps,
  parseSse,
  postChat,
  simProvider,
  sseText,
  useGateway,
} from './gateway-fixtures';

/**
 * Every row of the failure-semantics table (docs/gateway.md), end to end: the OpenAI SDK or
 * `fetch` → gateway → router → HTTP providers → simulator faults. Each test checks what the
 * client sees and the attempts the simulator saw (how many, and the gaps between them).
 */
const PROMPT = 'Explain failover';
const TEXT = simulatedText(PROMPT, 24);
const messages = [{ role: 'user' as const, content: PROMPT }];

/** A route: the faulty primary, then a healthy backup on another provider. */
function pair(primary: string, backup: string, provider = 'openai'): CandidateConfig[] {
  return [
    { provider, model: primary },
    { provider: 'anthropic', model: backup },
  ];
}

/**
 * A tiny OpenAI-compatible upstream for the refusals the simulator does not make: context length
 * and content filter, with OpenAI's own error bodies. It records each request's model and time.
 */
interface Stub {
  server: Server;
  url: string;
  seen: { model: string; time: number }[];
}
const STUB_ERRORS: Record<string, { status: number; error: Record<string, unknown> }> = {
  'ctx-too-long': {
    status: 400,
    error: {
      message:
        "This model's maximum context length is 8192 tokens. However, your messages resulted in 9000 tokens.",
      type: 'invalid_request_error',
      param: 'messages',
      code: 'context_length_exceeded',
    },
  },
  filtered: {
    status: 400,
    error: {
      message: 'Your request was rejected as a result of our safety system.',
      type: 'invalid_request_error',
      param: null,
      code: 'content_policy_violation',
    },
  },
};
let stub: Stub;

// Registered before the gateway's hooks, so the stub listens when the providers are made.
beforeAll(async () => {
  const seen: Stub['seen'] = [];
  const server = createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (part: Buffer) => parts.push(part));
    req.on('end', () => {
      const { model } = JSON.parse(Buffer.concat(parts).toString('utf8')) as { model: string };
      seen.push({ model, time: performance.now() });
      const answer = STUB_ERRORS[model] ?? { status: 404, error: { message: 'unknown model' } };
      res.writeHead(answer.status, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: answer.error }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  stub = { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen };
});

const env = useGateway({
  simulator: {
    scenarios: [
      { match: { model: 'm-429-short' }, faults: ['status-429-retry-ms-300', null] },
      { match: { model: 'm-429-long' }, faults: ['status-429-retry-30'], then: 'repeat-last' },
      { match: { model: 'm-429-none' }, faults: ['status-429'], then: 'repeat-last' },
      { match: { model: 'm-503' }, faults: ['status-503'], then: 'repeat-last' },
      { match: { model: 'm-529' }, faults: ['status-529'], then: 'repeat-last' },
      { match: { model: 'm-reset' }, faults: ['reset-before-headers'], then: 'repeat-last' },
      { match: { model: 'm-503-once' }, faults: ['status-503', null] },
      { match: { model: 'm-silent' }, faults: ['stall-first-token-5000'], then: 'repeat-last' },
      { match: { model: 'm-no-response' }, faults: ['stall-headers-5000'], then: 'repeat-last' },
      { match: { model: 'm-cut' }, faults: ['reset-after-5'], then: 'repeat-last' },
      { match: { model: 'm-cut-resume' }, faults: ['reset-after-5'], then: 'repeat-last' },
      { match: { model: 'm-stall-resume' }, faults: ['stall-after-3-5000'], then: 'repeat-last' },
      { match: { model: 'm-malformed' }, faults: ['malformed-at-3'], then: 'repeat-last' },
      { match: { model: 'm-inband' }, faults: ['inband-error-after-4'], then: 'repeat-last' },
    ],
  },
  providers: (sim) => ({
    // One provider per rate-limit row: a 429 cools its whole provider down.
    'rl-short': simProvider(sim, 'openai'),
    'rl-long': simProvider(sim, 'openai'),
    'rl-none': simProvider(sim, 'openai'),
    stub: openaiCompatible({ name: 'stub', baseURL: `${stub.url}/v1` }),
  }),
  routes: {
    'row-429-short': pair('m-429-short', 'b-429-short', 'rl-short'),
    'row-429-long': pair('m-429-long', 'b-429-long', 'rl-long'),
    'row-429-none': pair('m-429-none', 'b-429-none', 'rl-none'),
    'row-503': pair('m-503', 'b-503'),
    'row-529': pair('m-529', 'b-529'),
    'row-reset': pair('m-reset', 'b-reset'),
    'row-503-once': pair('m-503-once', 'b-503-once'),
    'row-silent': {
      candidates: pair('m-silent', 'b-silent'),
      timeouts: { firstTokenMs: 300 },
    },
    'row-no-response': {
      candidates: pair('m-no-response', 'b-no-response'),
      timeouts: { firstTokenMs: 300 },
    },
    'row-silent-alone': {
      candidates: [{ provider: 'openai', model: 'm-silent' }],
      timeouts: { firstTokenMs: 300 },
    },
    'row-context': pair('ctx-too-long', 'b-context', 'stub'),
    'row-context-alone': [{ provider: 'stub', model: 'ctx-too-long' }],
    'row-context-window': [
      { provider: 'openai', model: 'm-small-window', contextWindow: 16 },
      { provider: 'anthropic', model: 'b-small-window' },
    ],
    'row-filter': pair('filtered', 'b-filter', 'stub'),
    'row-cut-error': { candidates: pair('m-cut', 'b-cut'), failover: 'error' },
    'row-cut-resume': {
      candidates: pair('m-cut-resume', 'b-cut-resume'),
      failover: 'resume',
    },
    'row-stall-resume': {
      candidates: pair('m-stall-resume', 'b-stall-resume'),
      failover: 'resume',
      timeouts: { idleMs: 300 },
    },
    'row-malformed': { candidates: pair('m-malformed', 'b-malformed'), failover: 'error' },
    'row-inband': { candidates: pair('m-inband', 'b-inband'), failover: 'error' },
  },
});

env.onTeardown(async () => {
  stub.server.closeAllConnections();
  await new Promise((resolve) => stub.server.close(resolve));
});

beforeEach(() => {
  env.sim.reset();
  stub.seen.length = 0;
});

/** Streams with the SDK and returns the text, the last chunk's provider and the error, if any. */
async function sdkStream(
  model: string,
): Promise<{ text: string; provider: string | undefined; error: unknown }> {
  let text = '';
  let provider: string | undefined;
  try {
    const stream = await env.client.chat.completions.create({ model, messages, stream: true });
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? '';
      provider = (chunk as unknown as { provider: string }).provider;
    }
    return { text, provider, error: undefined };
  } catch (error) {
    return { text, provider, error };
  }
}

function ended(attempts: readonly AttemptRecord[]): string[] {
  return attempts.map((a) => a.outcome);
}

describe('429 with a short Retry-After', () => {
  it('should wait for it, then retry the same candidate', async () => {
    const { text, provider, error } = await sdkStream('row-429-short');
    expect(error).toBeUndefined();
    expect(text).toBe(TEXT);
    expect(provider).toBe('openai');
    const primary = attemptsFor(env.sim, 'm-429-short');
    expect(primary.map((a) => a.status)).toEqual([429, 200]);
    expect(gaps(primary)[0]).toBeGreaterThanOrEqual(295);
    expect(gaps(primary)[0]).toBeLessThan(1300);
    expect(attemptsFor(env.sim, 'b-429-short')).toEqual([]);
  });
});

describe('429 with a long or missing Retry-After', () => {
  it('should fail over at once on a long Retry-After, then skip the cooling provider', async () => {
    const first = await sdkStream('row-429-long');
    expect(first).toMatchObject({ text: TEXT, provider: 'anthropic', error: undefined });
    const primary = attemptsFor(env.sim, 'm-429-long');
    const backup = attemptsFor(env.sim, 'b-429-long');
    expect(primary.map((a) => a.status)).toEqual([429]);
    expect(backup).toHaveLength(1);
    // No 30-second wait: the backup was called right away.
    expect(backup[0]!.time - primary[0]!.time).toBeLessThan(1000);

    // Never hammering: the next request does not call the cooling provider at all.
    const second = await sdkStream('row-429-long');
    expect(second).toMatchObject({ text: TEXT, provider: 'anthropic', error: undefined });
    expect(attemptsFor(env.sim, 'm-429-long')).toHaveLength(1);
    expect(attemptsFor(env.sim, 'b-429-long')).toHaveLength(2);
  });

  it('should retry once after the cooldown when there is no Retry-After, then fail over', async () => {
    const { text, provider, error } = await sdkStream('row-429-none');
    expect(error).toBeUndefined();
    expect(text).toBe(TEXT);
    expect(provider).toBe('anthropic');
    const primary = attemptsFor(env.sim, 'm-429-none');
    const backup = attemptsFor(env.sim, 'b-429-none');
    // Never hammering: one retry, once the provider's cooldown (cooldownMs, 1 s) is over.
    expect(primary.map((a) => a.status)).toEqual([429, 429]);
    expect(gaps(primary)[0]).toBeGreaterThanOrEqual(990);
    expect(gaps(primary)[0]).toBeLessThan(1000 + 600);
    // Then the backup, at once.
    expect(backup).toHaveLength(1);
    expect(backup[0]!.time - primary[1]!.time).toBeLessThan(600);
  });
});

describe('5xx, overloaded, or a connection reset before headers', () => {
  it.each([
    ['a 503', 'row-503', 'm-503', 'b-503', 503],
    ['an overloaded 529', 'row-529', 'm-529', 'b-529', 529],
    ['a reset before the headers', 'row-reset', 'm-reset', 'b-reset', undefined],
  ])(
    'should retry %s once, then fail over',
    async (_label, route, primaryModel, backupModel, status) => {
      const { text, provider, error } = await sdkStream(route);
      expect(error).toBeUndefined();
      expect(text).toBe(TEXT);
      expect(provider).toBe('anthropic');
      const primary = attemptsFor(env.sim, primaryModel);
      expect(primary.map((a) => a.status)).toEqual([status, status]);
      expect(gaps(primary)[0]).toBeLessThan(250 + 600);
      const backup = attemptsFor(env.sim, backupModel);
      expect(backup.map((a) => a.status)).toEqual([200]);
    },
  );

  it('should keep the answer on the primary when its retry succeeds', async () => {
    const { text, provider } = await sdkStream('row-503-once');
    expect(text).toBe(TEXT);
    expect(provider).toBe('openai');
    expect(attemptsFor(env.sim, 'm-503-once').map((a) => a.status)).toEqual([503, 200]);
    expect(attemptsFor(env.sim, 'b-503-once')).toEqual([]);
  });
});

describe('no response or no first token within the timeout', () => {
  it.each([
    ['no first token', 'row-silent', 'm-silent', 'b-silent'],
    ['no response headers', 'row-no-response', 'm-no-response', 'b-no-response'],
  ])(
    'should fail over on %s without retrying the silent candidate',
    async (_label, route, primaryModel, backupModel) => {
      const { text, provider, error } = await sdkStream(route);
      expect(error).toBeUndefined();
      expect(text).toBe(TEXT);
      expect(provider).toBe('anthropic');
      const primary = attemptsFor(env.sim, primaryModel);
      expect(ended(primary)).toEqual(['client-closed']);
      const backup = attemptsFor(env.sim, backupModel);
      expect(backup).toHaveLength(1);
      // The backup was called when the 300 ms first-token limit ran out.
      expect(backup[0]!.time - primary[0]!.time).toBeGreaterThanOrEqual(290);
      expect(backup[0]!.time - primary[0]!.time).toBeLessThan(300 + 700);
      expect(primary[0]!.clientClosedAt! - primary[0]!.time).toBeLessThan(300 + 700);
    },
  );
});

describe('no candidate left', () => {
  it('should answer 503 timeout when the only candidate stays silent', async () => {
    const { error } = await sdkStream('row-silent-alone');
    expect(error).toBeInstanceOf(OpenAI.APIError);
    const e = error as InstanceType<typeof OpenAI.APIError>;
    expect(e.status).toBe(503);
    expect(e.code).toBe('timeout');
    // The silent request was aborted, and not retried.
    await env.sim.waitForAttempt((a) => a.model === 'm-silent' && a.outcome === 'client-closed', {
      timeoutMs: 1000,
    });
    expect(attemptsFor(env.sim, 'm-silent')).toHaveLength(1);
  });

  it('should answer 400 context_length_exceeded when the only candidate refuses the prompt', async () => {
    const { error } = await sdkStream('row-context-alone');
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    const e = error as InstanceType<typeof OpenAI.BadRequestError>;
    expect(e.code).toBe('context_length_exceeded');
    expect(e.param).toBe('messages');
    expect(e.message).toContain('maximum context length');
    expect(stub.seen).toHaveLength(1);
  });
});

describe('context length', () => {
  it('should fail over to the next candidate after a context-length refusal, without retrying', async () => {
    const { text, provider, error } = await sdkStream('row-context');
    expect(error).toBeUndefined();
    expect(text).toBe(TEXT);
    expect(provider).toBe('anthropic');
    expect(stub.seen.map((s) => s.model)).toEqual(['ctx-too-long']);
    expect(attemptsFor(env.sim, 'b-context')).toHaveLength(1);
  });

  it('should not even call a candidate whose context window the prompt cannot fit', async () => {
    const res = await postChat(
      env.url,
      chatBody('row-context-window', { max_tokens: 100 }, PROMPT),
    );
    const completion = (await res.json()) as {
      provider: string;
      choices: { message: { content: string } }[];
    };
    expect(res.status).toBe(200);
    expect(completion.provider).toBe('anthropic');
    expect(completion.choices[0]?.message.content).toBe(TEXT);
    expect(attemptsFor(env.sim, 'm-small-window')).toEqual([]);
    expect(attemptsFor(env.sim, 'b-small-window')).toHaveLength(1);
  });
});

describe('content filter or validation error', () => {
  it("should pass a content filter's reason on with no retry and no failover", async () => {
    const { error } = await sdkStream('row-filter');
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    const e = error as InstanceType<typeof OpenAI.BadRequestError>;
    expect(e.code).toBe('content_filter');
    expect(e.message).toContain('safety system');
    expect(stub.seen).toHaveLength(1);
    expect(attemptsFor(env.sim, 'b-filter')).toEqual([]);
  });

  it('should answer an invalid request with a 400 naming the field, calling nobody', async () => {
    const res = await postChat(env.url, chatBody('row-503', { stream: true, temperature: 9 }));
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { param: string } }).error.param).toBe('temperature');
    expect(env.sim.attempts.filter((a) => a.endpoint === 'chat')).toEqual([]);
  });
});

describe('a cut, stalled or malformed stream after content', () => {
  it('should send a clean in-band error under the error policy, never [DONE]', async () => {
    const res = await postChat(env.url, chatBody('row-cut-error', { stream: true }, PROMPT));
    expect(res.status).toBe(200);
    const raw = await res.text();
    expect(raw).not.toContain('[DONE]');
    const events = parseSse(raw);
    expect(sseText(events.slice(0, -1))).toBe(simulatedText(PROMPT, 5));
    expect(events.at(-1)?.data).toMatchObject({ error: { code: 'incomplete_stream' } });
    expect(ended(attemptsFor(env.sim, 'm-cut'))).toEqual(['reset']);
    expect(attemptsFor(env.sim, 'b-cut')).toEqual([]);
    // The SDK raises on it.
    const viaSdk = await sdkStream('row-cut-error');
    expect(viaSdk.error).toBeInstanceOf(OpenAI.APIError);
    expect(viaSdk.text).toBe(simulatedText(PROMPT, 5));
  });

  it.each([
    ['a malformed event', 'row-malformed', 'm-malformed', 3],
    ['a provider error event', 'row-inband', 'm-inband', 4],
  ])(
    'should end %s with an in-band error under the error policy',
    async (_label, route, model, tokens) => {
      const { text, error } = await sdkStream(route);
      expect(error).toBeInstanceOf(OpenAI.APIError);
      expect(text).toBe(simulatedText(PROMPT, tokens));
      expect(attemptsFor(env.sim, model)).toHaveLength(1);
    },
  );

  it('should resume a cut answer on the next candidate, exactly, under the resume policy', async () => {
    const res = await postChat(
      env.url,
      chatBody('row-cut-resume', { stream: true, stream_options: { include_usage: true } }, PROMPT),
    );
    const raw = await res.text();
    expect(raw.endsWith('data: [DONE]\n\n')).toBe(true);
    const events = parseSse(raw);
    expect(sseText(events)).toBe(TEXT);
    const providers = new Set(
      events.slice(0, -1).map((e) => (e.data as { provider: string }).provider),
    );
    expect([...providers].sort()).toEqual(['anthropic', 'openai']);
    const usage = events.at(-2)?.data as { usage: { completion_tokens: number } };
    expect(usage.usage.completion_tokens).toBeGreaterThanOrEqual(24);
    const primary = attemptsFor(env.sim, 'm-cut-resume');
    const backup = attemptsFor(env.sim, 'b-cut-resume');
    expect(ended(primary)).toEqual(['reset']);
    expect(primary[0]!.tokensSent).toBe(5);
    expect(backup).toHaveLength(1);
    // The backup continued from the prefill: it streamed only the rest.
    expect(backup[0]!.tokensSent).toBe(19);
  });

  it('should resume a stalled answer after the idle limit', async () => {
    const { text, provider, error } = await sdkStream('row-stall-resume');
    expect(error).toBeUndefined();
    expect(text).toBe(TEXT);
    expect(provider).toBe('anthropic');
    const primary = attemptsFor(env.sim, 'm-stall-resume');
    expect(ended(primary)).toEqual(['client-closed']);
    expect(primary[0]!.tokensSent).toBe(3);
    const backup = attemptsFor(env.sim, 'b-stall-resume');
    expect(backup).toHaveLength(1);
    const stall = primary[0]!.stalls[0]!;
    expect(backup[0]!.time - stall.startedAt).toBeGreaterThanOrEqual(290);
    expect(backup[0]!.time - stall.startedAt).toBeLessThan(300 + 700);
  });
});
