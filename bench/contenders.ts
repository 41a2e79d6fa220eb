import { createParser } from 'eventsource-parser';
import { Stream } from 'openai/core/streaming';
import type { ChatCompletionChunk } from 'openai/resources/chat/completions';
import type { StreamFormat } from '../src/chunk/streaming-chunk';
import type { ByteBody } from '../src/sse/read-body';
import type { DecodeProviderStream } from './bundled-decoder';

/**
 * The decoders under comparison. Each takes a body (bytes in pieces) and resolves with the
 * number of content tokens it decoded, so every run is checked for completeness.
 */
export type Decode = (format: StreamFormat, body: ByteBody) => Promise<number>;

type TokenTest = (json: unknown) => boolean;

// The least a consumer must read to find a token: one property path per format.
const hasToken: Record<StreamFormat, TokenTest> = {
  openai: (json) => {
    const content = (json as { choices?: { delta?: { content?: unknown } }[] }).choices?.[0]?.delta
      ?.content;
    return typeof content === 'string' && content !== '';
  },
  anthropic: (json) => {
    const { type, delta } = json as { type?: unknown; delta?: { text?: unknown } };
    return type === 'content_block_delta' && typeof delta?.text === 'string' && delta.text !== '';
  },
  google: (json) => {
    const text = (json as { candidates?: { content?: { parts?: { text?: unknown }[] } }[] })
      .candidates?.[0]?.content?.parts?.[0]?.text;
    return typeof text === 'string' && text !== '';
  },
};

/** Reads a body the way `decodeProviderStream` does: a reader for streams, `next()` otherwise. */
function pull(body: ByteBody): () => Promise<IteratorResult<Uint8Array, unknown>> {
  if (typeof (body as ReadableStream<Uint8Array>).getReader === 'function') {
    const reader = (body as ReadableStream<Uint8Array>).getReader();
    return () => reader.read();
  }
  const iterator = (body as AsyncIterable<Uint8Array>)[Symbol.asyncIterator]();
  return () => iterator.next();
}

/**
 * The floor: streaming TextDecoder + eventsource-parser + `JSON.parse` per event, counting
 * tokens. No validation, no normalization, no Observable: the least any SSE consumer does.
 */
export const floorDecode: Decode = async (format, body) => {
  const test = hasToken[format];
  let tokens = 0;
  const parser = createParser({
    onEvent(event) {
      if (event.data === '[DONE]') return;
      if (test(JSON.parse(event.data))) tokens++;
    },
  });
  const text = new TextDecoder();
  const read = pull(body);
  for (;;) {
    const result = await read();
    if (result.done === true) break;
    parser.feed(text.decode(result.value, { stream: true }));
  }
  parser.feed(`${text.decode()}\n\n`);
  return tokens;
};

/**
 * Ours: `decodeProviderStream` subscribed, counting the chunks that carry content. `decode` is
 * the src function (run through tsx) or the same function bundled as it ships.
 */
export function oursDecodeWith(decode: DecodeProviderStream): Decode {
  return (format, body) =>
    new Promise((resolve, reject) => {
      let tokens = 0;
      decode(format, body).subscribe({
        next(chunk) {
          const content = chunk.choices[0]?.delta.content;
          if (typeof content === 'string' && content !== '') tokens++;
        },
        error: reject,
        complete: () => {
          resolve(tokens);
        },
      });
    });
}

/**
 * The official openai SDK's own stream parser (openai@6 `Stream.fromSSEResponse`), as the SDK
 * runs it on `fetch`'s response: it needs a `Response`, so the body must be a ReadableStream.
 */
export const openAISdkDecode: Decode = async (format, body) => {
  if (format !== 'openai') throw new TypeError('The openai SDK parses only the openai format.');
  if (typeof (body as ReadableStream<Uint8Array>).getReader !== 'function') {
    throw new TypeError('The openai SDK reads a Response, whose body must be a ReadableStream.');
  }
  const response = new Response(body as ReadableStream<Uint8Array>);
  const stream = Stream.fromSSEResponse<ChatCompletionChunk>(response, new AbortController());
  let tokens = 0;
  for await (const chunk of stream) {
    const content = chunk.choices[0]?.delta.content;
    if (typeof content === 'string' && content !== '') tokens++;
  }
  return tokens;
};
