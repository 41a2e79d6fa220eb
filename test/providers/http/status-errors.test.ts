import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { lastValueFrom } from 'rxjs';
import { ProviderError } from '../../../src/errors/provider-error';
import { RateLimitError } from '../../../src/errors/rate-limit-error';
import { isRouterError, type RouterError } from '../../../src/errors/router-error';
import { errorFromResponse } from '../../../src/providers/error-from-response';
import type { Provider } from '../../../src/providers/provider';
import type { AttemptRecord } from '../../../src/simulator/index';
import {
  chatRequest,
  oneKeyForAll,
  useProviderSimulator,
  type ProviderKind,
} from '../../helpers/provider-fixtures';

/** A key distinctive enough that any piece of it in a message is a leak. */
const API_KEY = 'sk-test-Q7v2XbN9mLp4RtY8wKc3HdF6jSg1';
const KEY_PIECE = 'Q7v2XbN9';

const formats = ['openai', 'anthropic', 'google'] as const;
type Format = (typeof formats)[number];

/** One canned answer of the stub server (for what the simulator cannot say). */
interface Canned {
  status: number;
  headers?: Record<string, string>;
  body: string;
}

/** An OpenAI error body, as the API sends it (`param` is null unless given). */
function openaiErrorBody(error: {
  message: string;
  type: string;
  param?: string;
  code: string;
}): string {
  const { message, type, param = null, code } = error;
  return JSON.stringify({ error: { message, type, param, code } });
}

const env = useProviderSimulator({ keys: oneKeyForAll(API_KEY) });
let stub: Server;
let stubURL: string;
let canned: Canned = { status: 500, body: '' };
const simProviders = new Map<Format, Provider>();
const stubProviders = new Map<ProviderKind, Provider>();

beforeAll(async () => {
  stub = createServer((req: IncomingMessage, res: ServerResponse) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(canned.status, { 'content-type': 'application/json', ...canned.headers });
      res.end(canned.body);
    });
  });
  await new Promise<void>((resolve) => stub.listen(0, '127.0.0.1', resolve));
  env.onTeardown(async () => {
    stub.closeAllConnections();
    await new Promise((resolve) => stub.close(resolve));
  });
  stubURL = `http://127.0.0.1:${(stub.address() as { port: number }).port}`;
  for (const format of formats) simProviders.set(format, env.provider(format));
  for (const kind of [...formats, 'openaiCompatible'] as const) {
    stubProviders.set(kind, env.provider(kind, { origin: stubURL }));
  }
});

/** Streams one request and returns the error it failed with (fails the test if it completed). */
async function failure(provider: Provider, model: string): Promise<RouterError> {
  let failed: unknown;
  try {
    await lastValueFrom(provider.stream(chatRequest(model)), { defaultValue: undefined });
  } catch (error) {
    failed = error;
  }
  if (!isRouterError(failed))
    throw new Error(`${model}: expected a RouterError, got ${String(failed)}`);
  return failed;
}

/** The attempt of the simulator for `model`, once answered. */
function answered(model: string): Promise<AttemptRecord> {
  return env.sim.waitForAttempt((a) => a.model === model && a.outcome !== 'in-progress', {
    timeoutMs: 2000,
  });
}

/** What an error status should become. */
interface Expectation {
  kind: ProviderError['kind'];
  code: string;
  retryable: boolean;
}

function expectation(kind: ProviderError['kind'], code: string, retryable: boolean): Expectation {
  return { kind, code, retryable };
}

const invalid = expectation('invalid_request', 'RXLLM_INVALID_REQUEST', false);
const auth = expectation('authentication', 'RXLLM_AUTHENTICATION', false);
const notFound = expectation('not_found', 'RXLLM_NOT_FOUND', false);
const transient = expectation('other', 'RXLLM_PROVIDER_ERROR', true);
const server = expectation('server_error', 'RXLLM_PROVIDER_SERVER_ERROR', true);
const overloaded = expectation('overloaded', 'RXLLM_PROVIDER_OVERLOADED', true);

/**
 * Status → error, per provider. OpenAI's and Gemini's 503 bodies say "overloaded", so they read as
 * overloaded; Anthropic's 503 is a plain `api_error`.
 */
const statusTable: [number, Record<Format, Expectation>][] = [
  [400, { openai: invalid, anthropic: invalid, google: invalid }],
  [401, { openai: auth, anthropic: auth, google: auth }],
  [403, { openai: auth, anthropic: auth, google: auth }],
  [404, { openai: notFound, anthropic: notFound, google: notFound }],
  [408, { openai: transient, anthropic: transient, google: transient }],
  [409, { openai: transient, anthropic: transient, google: transient }],
  [413, { openai: invalid, anthropic: invalid, google: invalid }],
  [422, { openai: invalid, anthropic: invalid, google: invalid }],
  [500, { openai: server, anthropic: server, google: server }],
  [502, { openai: server, anthropic: server, google: server }],
  [503, { openai: overloaded, anthropic: server, google: overloaded }],
  [504, { openai: server, anthropic: server, google: server }],
  [529, { openai: overloaded, anthropic: overloaded, google: overloaded }],
];

const statusCases = statusTable.flatMap(([status, byFormat]) =>
  formats.map((format) => [format, status, byFormat[format]] as const),
);

describe('HTTP error statuses from the simulator', () => {
  it.each(statusCases)(
    'should turn a %s %i into the right typed error',
    async (format, status, want) => {
      const model = `sim-fault-status-${status}`;
      env.sim.clearAttempts();
      const error = await failure(simProviders.get(format)!, model);
      const attempt = await answered(model);
      expect(attempt).toMatchObject({ status, outcome: 'error-status' });

      expect(error).toBeInstanceOf(ProviderError);
      expect(error).toMatchObject({
        kind: want.kind,
        code: want.code,
        isRetryable: want.retryable,
        status,
        provider: format,
        retryAfterMs: undefined,
      });
      // The provider's own message is in ours.
      expect(attempt.error).toEqual(expect.any(String));
      expect(error.message).toContain(attempt.error);
      expect(error.message).toContain(`HTTP ${status}`);
    },
  );

  it('should keep the provider code of an Anthropic 529 (overloaded_error)', async () => {
    const error = await failure(simProviders.get('anthropic')!, 'sim-fault-status-529');
    expect(error).toMatchObject({ kind: 'overloaded', providerCode: 'overloaded_error' });
  });
});

describe('429 from the simulator', () => {
  /** [format, spec, retryAfterMs, retryable, quotaExceeded] */
  const cases: [Format, string, number | undefined, boolean, boolean][] = [
    // Retry-After in seconds (OpenAI, Anthropic); RetryInfo.retryDelay "2s" (Gemini).
    ['openai', 'status-429-retry-2', 2000, true, false],
    ['anthropic', 'status-429-retry-2', 2000, true, false],
    ['google', 'status-429-retry-2', 2000, true, false],
    // retry-after-ms wins over Retry-After (OpenAI, Anthropic); RetryInfo "0.15s" (Gemini).
    ['openai', 'status-429-retry-ms-150', 150, true, false],
    ['anthropic', 'status-429-retry-ms-150', 150, true, false],
    ['google', 'status-429-retry-ms-150', 150, true, false],
    // No hint: a plain rate limit for OpenAI and Anthropic...
    ['openai', 'status-429', undefined, true, false],
    ['anthropic', 'status-429', undefined, true, false],
    // ...but Gemini's "exceeded your current quota, check your plan and billing" with no
    // RetryInfo is a quota: waiting will not help.
    ['google', 'status-429', undefined, false, true],
  ];

  it.each(cases)(
    'should turn a %s %s into a RateLimitError (retryAfterMs %s)',
    async (format, spec, retryAfterMs, retryable, quotaExceeded) => {
      const model = `sim-fault-${spec}`;
      env.sim.clearAttempts();
      const error = await failure(simProviders.get(format)!, model);
      const attempt = await answered(model);
      expect(error).toBeInstanceOf(RateLimitError);
      expect(error).toMatchObject({
        code: 'RXLLM_RATE_LIMITED',
        status: 429,
        provider: format,
        retryAfterMs,
        isRetryable: retryable,
        quotaExceeded,
      });
      expect(error.message).toContain(attempt.error);
    },
  );
});

describe('errors the simulator cannot send (stub server)', () => {
  const rateLimitBody: Record<Format, string> = {
    openai: openaiErrorBody({
      message: 'Rate limit reached for gpt-4o in organization org-x on tokens per min (TPM).',
      type: 'tokens',
      code: 'rate_limit_exceeded',
    }),
    anthropic: JSON.stringify({
      type: 'error',
      error: {
        type: 'rate_limit_error',
        message: 'Number of request tokens has exceeded your rate limit.',
      },
    }),
    google: JSON.stringify({
      error: { code: 429, message: 'Resource has been exhausted.', status: 'RESOURCE_EXHAUSTED' },
    }),
  };

  it.each(formats)('should read a Retry-After HTTP-date (%s)', async (format) => {
    const date = new Date(Date.now() + 30_000).toUTCString();
    canned = { status: 429, headers: { 'retry-after': date }, body: rateLimitBody[format] };
    const error = await failure(stubProviders.get(format)!, 'm');
    expect(error).toBeInstanceOf(RateLimitError);
    expect(error.isRetryable).toBe(true);
    // An HTTP-date has whole seconds: between 29 and 30 s from when it was made.
    expect(error.retryAfterMs).toBeGreaterThan(27_000);
    expect(error.retryAfterMs).toBeLessThanOrEqual(30_000);
  });

  it('should take an OpenAI insufficient_quota 429 as a non-retryable quota error', async () => {
    canned = {
      status: 429,
      body: openaiErrorBody({
        message:
          'You exceeded your current quota, please check your plan and billing details. For more information on this error, read the docs.',
        type: 'insufficient_quota',
        code: 'insufficient_quota',
      }),
    };
    const error = await failure(stubProviders.get('openai')!, 'm');
    expect(error).toBeInstanceOf(RateLimitError);
    expect(error).toMatchObject({ quotaExceeded: true, isRetryable: false, status: 429 });
    expect(error.message).toContain('You exceeded your current quota');
  });

  it('should map a context-length 400 to its own code', async () => {
    canned = {
      status: 400,
      body: openaiErrorBody({
        message: "This model's maximum context length is 128000 tokens.",
        type: 'invalid_request_error',
        param: 'messages',
        code: 'context_length_exceeded',
      }),
    };
    const error = await failure(stubProviders.get('openai')!, 'm');
    expect(error).toMatchObject({
      kind: 'context_length_exceeded',
      code: 'RXLLM_CONTEXT_LENGTH_EXCEEDED',
      isRetryable: false,
    });
  });

  it('should map a content-policy 400 to its own code', async () => {
    canned = {
      status: 400,
      body: openaiErrorBody({
        message: 'Your request was rejected as a result of our safety system.',
        type: 'invalid_request_error',
        code: 'content_policy_violation',
      }),
    };
    const error = await failure(stubProviders.get('openai')!, 'm');
    expect(error).toMatchObject({ kind: 'content_filtered', code: 'RXLLM_CONTENT_FILTERED' });
  });
});

describe('API keys never appear in error messages', () => {
  const echoed: Record<ProviderKind, Canned> = {
    openai: {
      status: 401,
      body: openaiErrorBody({
        message: `Incorrect API key provided: ${API_KEY}. You can find your API key at https://platform.openai.com/account/api-keys.`,
        type: 'invalid_request_error',
        code: 'invalid_api_key',
      }),
    },
    anthropic: {
      status: 401,
      body: JSON.stringify({
        type: 'error',
        error: { type: 'authentication_error', message: `invalid x-api-key ${API_KEY}` },
      }),
    },
    google: {
      status: 401,
      body: JSON.stringify({
        error: {
          code: 401,
          message: `API key ${API_KEY} is not valid.`,
          status: 'UNAUTHENTICATED',
        },
      }),
    },
    openaiCompatible: {
      status: 401,
      headers: { 'content-type': 'text/plain' },
      body: `Unauthorized: the token ${API_KEY} was rejected`,
    },
  };

  function expectScrubbed(error: RouterError): void {
    expect(error.message).toContain('[redacted]');
    expect(error.message).not.toContain(KEY_PIECE);
    expect(JSON.stringify(error)).not.toContain(KEY_PIECE);
    expect(String(error.stack)).not.toContain(KEY_PIECE);
  }

  it.each(Object.keys(echoed) as ProviderKind[])(
    'should redact the key a %s 401 echoes back',
    async (kind) => {
      canned = echoed[kind];
      const error = await failure(stubProviders.get(kind)!, 'm');
      expect(error).toMatchObject({ kind: 'authentication', status: 401 });
      expectScrubbed(error);
    },
  );

  it('should redact the key in a healthCheck error', async () => {
    canned = echoed.openai;
    const error = (await stubProviders.get('openai')!.healthCheck!().catch(
      (e: unknown) => e,
    )) as RouterError;
    expect(error).toMatchObject({ kind: 'authentication', status: 401 });
    expectScrubbed(error);
  });

  it('should redact a key that straddles the cut of a long non-JSON body', async () => {
    // The quoted text is cut at 300 characters; the key starts just before the cut.
    canned = {
      status: 401,
      headers: { 'content-type': 'text/html' },
      body: `<html>${'x'.repeat(280)} ${API_KEY} ${'y'.repeat(100)}</html>`,
    };
    const error = await failure(stubProviders.get('openaiCompatible')!, 'm');
    expect(error.message).not.toContain(KEY_PIECE);
    expect(error.message).not.toContain(API_KEY.slice(0, 12));
  });

  describe('errorFromResponse', () => {
    const secrets = [API_KEY, 'AIzaSyD-second-secret-key'];

    it.each<[string, string]>([
      ['an OpenAI body', echoed.openai.body],
      ['an Anthropic body', echoed.anthropic.body],
      ['a Gemini body', echoed.google.body],
      ['a plain-text body', `bad key ${API_KEY} and AIzaSyD-second-secret-key`],
      ['a Gemini array body', `[${echoed.google.body}]`],
      ['a body cut in the key', `${'z'.repeat(290)}${API_KEY}`],
    ])('should scrub every secret from %s', (_label, body) => {
      const error = errorFromResponse({ provider: 'p', status: 401, headers: {}, body, secrets });
      expect(error.message).not.toContain(KEY_PIECE);
      expect(error.message).not.toContain(API_KEY.slice(0, 10));
      expect(error.message).not.toContain('second-secret');
      expect(error.code).toBe('RXLLM_AUTHENTICATION');
    });
  });
});
