import { runDecodeDemo } from '../../src/cli/decode-demo';

it('should print each sample stream as it decodes, then its chunks, finish reason and usage', async () => {
  const pieces: string[] = [];
  await runDecodeDemo({ write: (text) => pieces.push(text) });
  const output = pieces.join('');
  const sentence =
    'Reactive streams turn every LLM response into a cold Observable: nothing is sent until you subscribe, unsubscribing aborts the request, and each fault ends in a complete answer or a typed error.';
  expect(output.split(sentence)).toHaveLength(4); // the sentence, once per provider
  expect(output).toContain(
    '[openai · gpt-4o-mini-2024-07-18] 32 content chunks · finish stop · usage: prompt 42 (cached 0), completion 32, total 74',
  );
  expect(output).toContain(
    '[anthropic · claude-sonnet-4-5-20250929] 32 content chunks · finish stop (end_turn) · usage: prompt 42 (cached 12), completion 32, total 74',
  );
  expect(output).toContain(
    '[google · gemini-2.5-flash] 32 content chunks · finish stop (STOP) · usage: prompt 42, completion 32, total 74',
  );
  // Text arrives in many writes (streamed), not as one block.
  expect(pieces.length).toBeGreaterThan(90);
});
