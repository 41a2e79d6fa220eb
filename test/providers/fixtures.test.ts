import { lastValueFrom, from } from 'rxjs';
import { collectCompletion } from '../../src/chunk/collect-completion';
import type { StreamFormat } from '../../src/chunk/streaming-chunk';
import { decodeAll, freezeNow, listFixtures, loadFixture, readExpected } from '../helpers/fixtures';

// Every fixture under test/fixtures/<provider>/<case>.sse is decoded whole, byte by byte and in
// odd-sized pieces; each must give exactly the chunks (or error) in <case>.expected.json, and the
// completion folded from those chunks.
const providers: StreamFormat[] = ['openai', 'anthropic', 'google'];

beforeEach(() => {
  freezeNow();
});
afterEach(() => jest.restoreAllMocks());

describe.each(providers)('%s fixtures', (provider) => {
  const cases = listFixtures(provider);

  it('should have fixtures', () => {
    expect(cases.length).toBeGreaterThan(0);
  });

  it.each(cases)('should decode %s as expected', async (name) => {
    const bytes = loadFixture(provider, name);
    const whole = await decodeAll(provider, bytes, [], {
      model: 'fixture-model',
      requestId: 'req_fixture',
    });
    const completion =
      whole.error === undefined
        ? await lastValueFrom(from(whole.chunks).pipe(collectCompletion()))
        : undefined;
    const actual = { ...whole, ...(completion === undefined ? {} : { completion }) };
    expect(actual).toEqual(readExpected(provider, name, actual));

    for (const sizes of [[1], [7, 3, 64], [16 * 1024]]) {
      const split = await decodeAll(provider, bytes, sizes, {
        model: 'fixture-model',
        requestId: 'req_fixture',
      });
      expect(split).toEqual(whole);
    }
  });
});
