import { Writable } from 'node:stream';
import { createLogger, redact, REDACTED } from '../../src/logging/index';

function capture(): { stream: Writable; lines: () => string[] } {
  const parts: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      parts.push(chunk.toString('utf8'));
      callback();
    },
  });
  return {
    stream,
    lines: () =>
      parts
        .join('')
        .split('\n')
        .filter((l) => l !== ''),
  };
}

describe('createLogger', () => {
  it('should write one JSON object per line with level, message, timestamp and metadata', () => {
    const out = capture();
    const logger = createLogger({ stream: out.stream });
    logger.info('request', { requestId: 'req_1', status: 200 });
    logger.warn('slow', { ms: 12 });
    const lines = out.lines().map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatchObject({
      level: 'info',
      message: 'request',
      requestId: 'req_1',
      status: 200,
    });
    expect(typeof lines[0]!.timestamp).toBe('string');
    expect(lines[1]).toMatchObject({ level: 'warn', message: 'slow', ms: 12 });
  });

  it('should redact secret keys at any depth and key-looking values anywhere', () => {
    const out = capture();
    const logger = createLogger({ stream: out.stream });
    logger.info('upstream call with sk-proj-abcdef123456 in the message', {
      apiKey: 'sk-live-000000000',
      headers: {
        Authorization: 'Bearer whatever-token-1234',
        'x-api-key': 'sk-ant-api03-xyzxyzxyz',
        'X-Goog-Api-Key': 'AIzaSyD-abcdefghijk',
        accept: 'text/event-stream',
      },
      nested: [{ config: { api_key: 'plain-secret' } }],
      note: 'the key was sk-abcdefghijkl, the user said Bearer abcdefghijk',
      completionTokens: 12,
      max_tokens: 100,
    });
    const text = out.lines().join('\n');
    for (const secret of [
      'sk-proj-abcdef123456',
      'sk-live-000000000',
      'whatever-token-1234',
      'sk-ant-api03-xyzxyzxyz',
      'AIzaSyD-abcdefghijk',
      'plain-secret',
      'sk-abcdefghijkl',
      'abcdefghijk',
    ]) {
      expect(text).not.toContain(secret);
    }
    const line = JSON.parse(out.lines()[0]!) as Record<string, unknown>;
    expect(line.apiKey).toBe(REDACTED);
    expect(line.headers).toEqual({
      Authorization: REDACTED,
      'x-api-key': REDACTED,
      'X-Goog-Api-Key': REDACTED,
      accept: 'text/event-stream',
    });
    expect(line.nested).toEqual([{ config: { api_key: REDACTED } }]);
    expect(line.completionTokens).toBe(12);
    expect(line.max_tokens).toBe(100);
    expect(line.message).toBe(`upstream call with ${REDACTED} in the message`);
  });

  it('should not modify the objects it is given', () => {
    const out = capture();
    const meta = { headers: { authorization: 'Bearer sk-abcdefghij' } };
    createLogger({ stream: out.stream }).info('x', meta);
    expect(meta.headers.authorization).toBe('Bearer sk-abcdefghij');
  });

  it('should honour the level and silence', () => {
    const out = capture();
    const logger = createLogger({ stream: out.stream, level: 'warn' });
    logger.info('hidden');
    logger.debug('hidden too');
    logger.error('shown');
    expect(out.lines().map((l) => (JSON.parse(l) as { message: string }).message)).toEqual([
      'shown',
    ]);
    const quiet = capture();
    createLogger({ stream: quiet.stream, silent: true }).error('nothing');
    expect(quiet.lines()).toEqual([]);
  });

  it('should write a readable line in the pretty format, redacted too', () => {
    const out = capture();
    createLogger({ stream: out.stream, format: 'pretty' }).info('hello', {
      authorization: 'Bearer sk-abcdefghij',
      n: 1,
    });
    const [line] = out.lines();
    expect(line).toMatch(/^\d\d:\d\d:\d\d\.\d{3} .*info.* hello \{.*\}$/);
    expect(line).toContain('"n":1');
    expect(line).not.toContain('sk-abcdefghij');
  });

  it('should log an error as its name and message', () => {
    const out = capture();
    createLogger({ stream: out.stream }).error('failed', {
      error: new TypeError('nope sk-abcdefghij'),
    });
    const line = JSON.parse(out.lines()[0]!) as { error: unknown };
    expect(line.error).toEqual({ name: 'TypeError', message: `nope ${REDACTED}` });
  });
});

describe('redact', () => {
  it('should cut cycles and keep clean primitives as they are', () => {
    const a: Record<string, unknown> = { n: 1, s: 'hello' };
    a.self = a;
    expect(redact(a)).toEqual({ n: 1, s: 'hello', self: '[Circular]' });
    expect(redact(42)).toBe(42);
    expect(redact(null)).toBeNull();
  });
});
