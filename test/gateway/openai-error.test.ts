import { AllProvidersFailedError } from '../../src/errors/all-providers-failed-error';
import { BudgetExceededError } from '../../src/errors/budget-exceeded-error';
import { CancelledError } from '../../src/errors/cancelled-error';
import { CircuitOpenError } from '../../src/errors/circuit-open-error';
import { IncompleteStreamError } from '../../src/errors/incomplete-stream-error';
import { NetworkError } from '../../src/errors/network-error';
import { ParseError } from '../../src/errors/parse-error';
import { ProviderError } from '../../src/errors/provider-error';
import { RateLimitError } from '../../src/errors/rate-limit-error';
import { TimeoutError } from '../../src/errors/timeout-error';
import { UnknownModelError } from '../../src/errors/unknown-model-error';
import { ValidationError } from '../../src/errors/validation-error';
import { toOpenAIError, typeForStatus } from '../../src/gateway/openai-error';
import { retryAfterSeconds } from '../../src/gateway/send-json';
import { refusalAsProviderError } from '../../src/errors/provider-refusal';

describe('toOpenAIError', () => {
  it.each([
    [
      new ValidationError([{ path: 'messages[0].role', message: 'bad' }]),
      400,
      'invalid_request_error',
      'invalid_value',
      'messages[0].role',
    ],
    [
      new ProviderError('invalid_request', 'no'),
      400,
      'invalid_request_error',
      'invalid_request',
      null,
    ],
    [
      new ProviderError('context_length_exceeded', 'too long'),
      400,
      'invalid_request_error',
      'context_length_exceeded',
      'messages',
    ],
    [
      new ProviderError('content_filtered', 'filtered'),
      400,
      'invalid_request_error',
      'content_filter',
      null,
    ],
    [
      new ProviderError('authentication', 'bad key'),
      401,
      'authentication_error',
      'invalid_api_key',
      null,
    ],
    [new ProviderError('not_found', 'no model'), 404, 'not_found_error', 'not_found', null],
    [
      new UnknownModelError('gpt-9', ['fast', 'claude-*']),
      404,
      'invalid_request_error',
      'model_not_found',
      'model',
    ],
    [new RateLimitError('slow down'), 429, 'rate_limit_error', 'rate_limit_exceeded', null],
    [
      new RateLimitError('pay up', { quotaExceeded: true }),
      429,
      'insufficient_quota',
      'insufficient_quota',
      null,
    ],
    [new BudgetExceededError(0.01, 0.02), 402, 'insufficient_quota', 'budget_exceeded', null],
    [new TimeoutError('first-token', 300), 504, 'timeout_error', 'timeout', null],
    [new CircuitOpenError('open'), 503, 'server_error', 'circuit_open', null],
    [
      new ProviderError('overloaded', 'busy', { status: 529 }),
      503,
      'server_error',
      'overloaded',
      null,
    ],
    [
      new ProviderError('server_error', 'boom', { status: 500 }),
      502,
      'server_error',
      'upstream_error',
      null,
    ],
    [
      new ProviderError('other', 'conflict', { status: 409 }),
      409,
      'invalid_request_error',
      'upstream_rejected',
      null,
    ],
    [
      new ProviderError('other', 'weird', { status: 418 }),
      418,
      'invalid_request_error',
      'upstream_rejected',
      null,
    ],
    [new ProviderError('other', 'odd'), 502, 'server_error', 'upstream_error', null],
    [new NetworkError('refused'), 502, 'server_error', 'upstream_unreachable', null],
    [new ParseError('garbled'), 502, 'server_error', 'upstream_malformed', null],
    [new IncompleteStreamError('cut'), 502, 'server_error', 'incomplete_stream', null],
    [new CancelledError('stopped'), 499, 'cancelled', 'cancelled', null],
    [
      new CancelledError('closing', { code: 'RXLLM_ROUTER_CLOSED' }),
      503,
      'server_error',
      'shutting_down',
      null,
    ],
  ])('should map %p to its status, type, code and param', (error, status, type, code, param) => {
    const mapped = toOpenAIError(error);
    expect(mapped.status).toBe(status);
    expect(mapped.error).toMatchObject({ message: error.message, type, code, param });
  });

  it('should keep the provider and the Retry-After of the error', () => {
    const mapped = toOpenAIError(
      new RateLimitError('slow down', { provider: 'openai', retryAfterMs: 1500 }),
    );
    expect(mapped.error.provider).toBe('openai');
    expect(mapped.retryAfterMs).toBe(1500);
  });

  it('should answer an AllProvidersFailedError with its own status and the soonest retry', () => {
    const error = new AllProvidersFailedError(
      'fast',
      [
        {
          candidate: 'openai/a',
          provider: 'openai',
          model: 'a',
          outcome: 'called',
          error: new ProviderError('server_error', 'boom', { status: 500 }),
        },
        {
          candidate: 'anthropic/b',
          provider: 'anthropic',
          model: 'b',
          outcome: 'cooldown',
          error: new RateLimitError('cooling', { retryAfterMs: 800 }),
        },
      ],
      800,
    );
    const mapped = toOpenAIError(error);
    expect(mapped.status).toBe(503);
    expect(mapped.retryAfterMs).toBe(800);
    expect(mapped.error).toMatchObject({
      type: 'server_error',
      code: 'all_providers_failed',
      param: null,
    });
    expect(mapped.error.message).toContain('openai/a: boom');
    expect(mapped.error.attempts).toEqual([
      expect.objectContaining({ candidate: 'openai/a', outcome: 'called', status: 500 }),
      expect.objectContaining({ candidate: 'anthropic/b', outcome: 'cooldown' }),
    ]);
  });

  /** A called candidate (`provider/model`) that failed with `error`. */
  const calledAttempt = (
    candidate: string,
    error: unknown,
  ): ConstructorParameters<typeof AllProvidersFailedError>[1][number] => ({
    candidate,
    provider: candidate.split('/')[0]!,
    model: candidate.split('/')[1]!,
    outcome: 'called',
    error,
  });

  it('should give an AllProvidersFailedError the type and code of a cause every candidate shared', () => {
    const tooLong = (candidate: string): ReturnType<typeof calledAttempt> =>
      calledAttempt(
        candidate,
        new ProviderError('context_length_exceeded', 'too long', { status: 400 }),
      );
    const mapped = toOpenAIError(
      new AllProvidersFailedError('fast', [tooLong('openai/a'), tooLong('anthropic/b')]),
    );
    expect(mapped.status).toBe(400);
    expect(mapped.error).toMatchObject({
      type: 'invalid_request_error',
      code: 'context_length_exceeded',
      param: 'messages',
    });
  });

  it('should name the field every candidate refused in an AllProvidersFailedError, and only then', () => {
    const refused = (candidate: string): ReturnType<typeof calledAttempt> =>
      calledAttempt(
        candidate,
        refusalAsProviderError(
          new ValidationError([{ path: 'n', message: 'one choice only' }], { provider: 'x' }),
          candidate.split('/')[0]!,
        ),
      );
    const mapped = toOpenAIError(
      new AllProvidersFailedError('claude-*', [refused('anthropic/a'), refused('bedrock/a')]),
    );
    expect(mapped.status).toBe(400);
    expect(mapped.error).toMatchObject({
      type: 'invalid_request_error',
      code: 'invalid_request',
      param: 'n',
    });
    // A candidate that failed otherwise: no field is to blame.
    const mixed = toOpenAIError(
      new AllProvidersFailedError('fast', [
        calledAttempt('openai/a', new ProviderError('server_error', 'down', { status: 500 })),
        refused('bedrock/a'),
      ]),
    );
    expect(mixed.status).toBe(503);
    expect(mixed.error.param).toBeNull();
  });

  it('should hide the message of an error that is not a RouterError', () => {
    const mapped = toOpenAIError(new Error('secret internals at /srv/app.js:12'));
    expect(mapped.status).toBe(500);
    expect(mapped.error.message).not.toContain('/srv/app.js');
    expect(mapped.error).toMatchObject({ type: 'server_error', code: 'internal_error' });
  });
});

describe('typeForStatus', () => {
  it.each([
    [400, 'invalid_request_error'],
    [401, 'authentication_error'],
    [402, 'insufficient_quota'],
    [403, 'permission_error'],
    [404, 'not_found_error'],
    [413, 'invalid_request_error'],
    [429, 'rate_limit_error'],
    [500, 'server_error'],
    [503, 'server_error'],
  ])('should give status %d the type %s', (status, type) => {
    expect(typeForStatus(status)).toBe(type);
  });
});

describe('retryAfterSeconds', () => {
  it.each([
    [0, '0'],
    [1, '1'],
    [150, '1'],
    [1000, '1'],
    [1001, '2'],
    [29_500, '30'],
  ])('should round %d ms up to %s s', (ms, seconds) => {
    expect(retryAfterSeconds(ms)).toBe(seconds);
  });
});
