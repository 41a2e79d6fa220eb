import {
  BudgetExceededError,
  CircuitOpenError,
  IncompleteStreamError,
  NetworkError,
  ParseError,
  ProviderError,
  RateLimitError,
  RouterError,
  TimeoutError,
  ValidationError,
  hasErrorCode,
  isRouterError,
  type ProviderErrorKind,
  type RouterErrorCode,
} from '../../src/errors/index';

type ErrorsModule = typeof import('../../src/errors/index');

/** Loads a second, separate copy of the errors module, as a second copy of the package would. */
function loadSeparateCopy(): ErrorsModule {
  let copy: ErrorsModule | undefined;
  jest.isolateModules(() => {
    copy = jest.requireActual<ErrorsModule>('../../src/errors/index');
  });
  if (copy === undefined) throw new Error('isolateModules did not load the module');
  return copy;
}

describe('RouterError subclasses', () => {
  const cause = new Error('socket hang up');

  interface Case {
    error: RouterError;
    type: new (...args: never[]) => RouterError;
    name: string;
    code: RouterErrorCode;
    isRetryable: boolean;
  }

  const cases: [string, Case][] = [
    [
      'NetworkError',
      {
        error: new NetworkError('connect ECONNREFUSED', { provider: 'openai', cause }),
        type: NetworkError,
        name: 'NetworkError',
        code: 'RXLLM_NETWORK',
        isRetryable: true,
      },
    ],
    [
      'ParseError',
      {
        error: new ParseError('malformed JSON', { provider: 'anthropic', excerpt: '{"a":' }),
        type: ParseError,
        name: 'ParseError',
        code: 'RXLLM_PARSE',
        isRetryable: true,
      },
    ],
    [
      'ProviderError',
      {
        error: new ProviderError('overloaded', 'Overloaded', {
          provider: 'anthropic',
          status: 529,
        }),
        type: ProviderError,
        name: 'ProviderError',
        code: 'RXLLM_PROVIDER_OVERLOADED',
        isRetryable: true,
      },
    ],
    [
      'RateLimitError',
      {
        error: new RateLimitError('slow down', { provider: 'openai', status: 429 }),
        type: RateLimitError,
        name: 'RateLimitError',
        code: 'RXLLM_RATE_LIMITED',
        isRetryable: true,
      },
    ],
    [
      'TimeoutError',
      {
        error: new TimeoutError('idle', 30_000, { provider: 'google' }),
        type: TimeoutError,
        name: 'TimeoutError',
        code: 'RXLLM_TIMEOUT',
        isRetryable: true,
      },
    ],
    [
      'CircuitOpenError',
      {
        error: new CircuitOpenError('breaker open', { provider: 'openai', retryAfterMs: 5000 }),
        type: CircuitOpenError,
        name: 'CircuitOpenError',
        code: 'RXLLM_CIRCUIT_OPEN',
        isRetryable: true,
      },
    ],
    [
      'IncompleteStreamError',
      {
        error: new IncompleteStreamError('cut', { provider: 'openai', partialText: 'Hel' }),
        type: IncompleteStreamError,
        name: 'IncompleteStreamError',
        code: 'RXLLM_INCOMPLETE_STREAM',
        isRetryable: true,
      },
    ],
    [
      'ValidationError',
      {
        error: new ValidationError([{ path: 'temperature', message: 'expected <= 2' }]),
        type: ValidationError,
        name: 'ValidationError',
        code: 'RXLLM_VALIDATION',
        isRetryable: false,
      },
    ],
    [
      'BudgetExceededError',
      {
        error: new BudgetExceededError(0.01, 0.0125, { provider: 'openai' }),
        type: BudgetExceededError,
        name: 'BudgetExceededError',
        code: 'RXLLM_BUDGET_EXCEEDED',
        isRetryable: false,
      },
    ],
  ];

  it.each(cases)('should give %s its code, name and retryability', (_label, c) => {
    expect(c.error).toBeInstanceOf(c.type);
    expect(c.error).toBeInstanceOf(RouterError);
    expect(c.error).toBeInstanceOf(Error);
    expect(c.error.name).toBe(c.name);
    expect(c.error.code).toBe(c.code);
    expect(c.error.isRetryable).toBe(c.isRetryable);
    expect(String(c.error)).toMatch(new RegExp(`^${c.name}: `));
    expect(c.error.stack?.split('\n')[0]).toMatch(new RegExp(`^${c.name}: `));
    expect(isRouterError(c.error)).toBe(true);
  });

  it('should keep provider, status, retryAfterMs and cause', () => {
    const error = new NetworkError('connect ECONNREFUSED 127.0.0.1:443', {
      provider: 'openai',
      status: 502,
      retryAfterMs: 250,
      cause,
    });
    expect(error.provider).toBe('openai');
    expect(error.status).toBe(502);
    expect(error.retryAfterMs).toBe(250);
    expect(error.cause).toBe(cause);
    expect(error.message).toBe('connect ECONNREFUSED 127.0.0.1:443');
  });

  it('should leave the optional fields undefined, and set no cause, when none are given', () => {
    const error = new NetworkError('offline');
    expect(error.provider).toBeUndefined();
    expect(error.status).toBeUndefined();
    expect(error.retryAfterMs).toBeUndefined();
    expect('cause' in error).toBe(false);
  });

  it('should cut a ParseError excerpt to 200 characters', () => {
    const long = 'x'.repeat(500);
    expect(new ParseError('bad', { excerpt: long }).excerpt).toBe('x'.repeat(200));
    expect(new ParseError('bad', { excerpt: '{"a":' }).excerpt).toBe('{"a":');
    expect(new ParseError('bad').excerpt).toBeUndefined();
  });

  it.each<[ProviderErrorKind, RouterErrorCode, boolean]>([
    ['overloaded', 'RXLLM_PROVIDER_OVERLOADED', true],
    ['server_error', 'RXLLM_PROVIDER_SERVER_ERROR', true],
    ['invalid_request', 'RXLLM_INVALID_REQUEST', false],
    ['context_length_exceeded', 'RXLLM_CONTEXT_LENGTH_EXCEEDED', false],
    ['content_filtered', 'RXLLM_CONTENT_FILTERED', false],
    ['authentication', 'RXLLM_AUTHENTICATION', false],
    ['not_found', 'RXLLM_NOT_FOUND', false],
    ['other', 'RXLLM_PROVIDER_ERROR', false],
  ])('should map ProviderError kind %s to %s (retryable: %s)', (kind, code, isRetryable) => {
    const error = new ProviderError(kind, 'message', { providerCode: 'some_code' });
    expect(error.kind).toBe(kind);
    expect(error.code).toBe(code);
    expect(error.isRetryable).toBe(isRetryable);
    expect(error.providerCode).toBe('some_code');
  });

  it('should let a ProviderError override the retryability of its kind', () => {
    expect(new ProviderError('other', 'timeout', { isRetryable: true }).isRetryable).toBe(true);
    expect(new ProviderError('server_error', 'x', { isRetryable: false }).isRetryable).toBe(false);
  });

  it('should mark a quota RateLimitError as not retryable', () => {
    const rate = new RateLimitError('slow down', { retryAfterMs: 1200 });
    expect(rate.quotaExceeded).toBe(false);
    expect(rate.isRetryable).toBe(true);
    expect(rate.retryAfterMs).toBe(1200);

    const quota = new RateLimitError('quota', { quotaExceeded: true });
    expect(quota.quotaExceeded).toBe(true);
    expect(quota.isRetryable).toBe(false);
  });

  it('should keep what a TimeoutError timed out on', () => {
    const error = new TimeoutError('first-token', 5000, { provider: 'openai' });
    expect(error.kind).toBe('first-token');
    expect(error.timeoutMs).toBe(5000);
  });

  it('should keep the partial text of an IncompleteStreamError, or an empty string', () => {
    expect(new IncompleteStreamError('cut', { partialText: 'Hel' }).partialText).toBe('Hel');
    expect(new IncompleteStreamError('cut').partialText).toBe('');
  });

  it('should keep the limit and the amount spent of a BudgetExceededError', () => {
    const error = new BudgetExceededError(0.01, 0.0125);
    expect(error.limitUsd).toBe(0.01);
    expect(error.spentUsd).toBe(0.0125);
  });
});

describe('ValidationError', () => {
  it('should name every offending field in its message', () => {
    const error = new ValidationError([
      { path: 'messages[1].role', message: 'expected "user" | "assistant"' },
      { path: 'temperature', message: 'expected a number <= 2' },
    ]);
    expect(error.message).toBe(
      'Invalid request: messages[1].role: expected "user" | "assistant"; temperature: expected a number <= 2',
    );
    expect(error.issues).toHaveLength(2);
  });

  it('should give the first offending path as param', () => {
    const error = new ValidationError([
      { path: 'tools[0].function.name', message: 'expected a string' },
      { path: 'temperature', message: 'expected a number' },
    ]);
    expect(error.param).toBe('tools[0].function.name');
  });

  it('should leave param undefined when there are no issues', () => {
    expect(new ValidationError([]).param).toBeUndefined();
  });

  it('should omit an empty path and use the subject in the message', () => {
    const error = new ValidationError([{ path: '', message: 'expected an object' }], {
      subject: 'router config',
    });
    expect(error.message).toBe('Invalid router config: expected an object');
    expect(error.param).toBe('');
  });
});

describe('error messages', () => {
  it('should tell what to do after a timeout', () => {
    const error = new TimeoutError('first-token', 5000, { provider: 'openai' });
    expect(error.message).toBe(
      'First-token timeout: nothing within 5000 ms from openai. Raise the limit or fail over to another provider.',
    );
    expect(new TimeoutError('idle', 100).message).toMatch(/^Idle timeout: nothing within 100 ms\./);
    expect(new TimeoutError('total', 100).message).toMatch(/^Total timeout/);
  });

  it('should tell what to do when the budget is exceeded', () => {
    const error = new BudgetExceededError(0.01, 0.0125);
    expect(error.message).toBe(
      'Budget exceeded: spent $0.012500 of a $0.010000 limit. Raise the budget or shorten the request.',
    );
  });
});

describe('isRouterError', () => {
  it('should recognize errors of this package', () => {
    expect(isRouterError(new NetworkError('x'))).toBe(true);
    expect(isRouterError(new RouterError('RXLLM_NETWORK', 'x', true))).toBe(true);
  });

  it('should recognize an error created by a separate copy of the module', () => {
    const copy = loadSeparateCopy();
    expect(copy.NetworkError).not.toBe(NetworkError);

    const foreign = new copy.RateLimitError('slow down', { status: 429 });
    expect(foreign).not.toBeInstanceOf(RouterError);
    expect(isRouterError(foreign)).toBe(true);
    expect(copy.isRouterError(new RateLimitError('slow down'))).toBe(true);
  });

  it.each<[string, unknown]>([
    ['a plain Error', new Error('x')],
    ['an Error with a router code', Object.assign(new Error('x'), { code: 'RXLLM_NETWORK' })],
    ['a look-alike object', { name: 'NetworkError', code: 'RXLLM_NETWORK', isRetryable: true }],
    ['a string', 'RXLLM_NETWORK'],
    ['null', null],
    ['undefined', undefined],
  ])('should reject %s', (_label, value) => {
    expect(isRouterError(value)).toBe(false);
  });
});

describe('hasErrorCode', () => {
  it('should be true only for a RouterError with that code', () => {
    const error = new RateLimitError('slow down');
    expect(hasErrorCode(error, 'RXLLM_RATE_LIMITED')).toBe(true);
    expect(hasErrorCode(error, 'RXLLM_NETWORK')).toBe(false);
  });

  it('should be false for a plain Error carrying the code', () => {
    const error = Object.assign(new Error('x'), { code: 'RXLLM_RATE_LIMITED' });
    expect(hasErrorCode(error, 'RXLLM_RATE_LIMITED')).toBe(false);
    expect(hasErrorCode(undefined, 'RXLLM_RATE_LIMITED')).toBe(false);
  });

  it('should work on an error from a separate copy of the module', () => {
    const copy = loadSeparateCopy();
    const foreign = new copy.TimeoutError('idle', 1000);
    expect(hasErrorCode(foreign, 'RXLLM_TIMEOUT')).toBe(true);
    expect(hasErrorCode(foreign, 'RXLLM_NETWORK')).toBe(false);
  });
});

describe('toJSON', () => {
  it('should give the public fields and no cause or stack', () => {
    const error = new NetworkError('offline', {
      provider: 'openai',
      status: 503,
      retryAfterMs: 100,
      cause: new Error('secret internal detail'),
    });
    const json = error.toJSON();
    expect(json).toEqual({
      name: 'NetworkError',
      code: 'RXLLM_NETWORK',
      message: 'offline',
      isRetryable: true,
      provider: 'openai',
      status: 503,
      retryAfterMs: 100,
    });
    expect(json).not.toHaveProperty('cause');
    expect(json).not.toHaveProperty('stack');
    const text = JSON.stringify(error);
    expect(text).not.toContain('secret internal detail');
    expect(text).not.toContain('"stack"');
  });

  it('should add kind and providerCode for a ProviderError', () => {
    const error = new ProviderError('overloaded', 'Overloaded', {
      provider: 'anthropic',
      status: 529,
      providerCode: 'overloaded_error',
      cause: { type: 'error' },
    });
    expect(error.toJSON()).toEqual({
      name: 'ProviderError',
      code: 'RXLLM_PROVIDER_OVERLOADED',
      message: 'Overloaded',
      isRetryable: true,
      provider: 'anthropic',
      status: 529,
      retryAfterMs: undefined,
      kind: 'overloaded',
      providerCode: 'overloaded_error',
    });
  });
});
