import { createParser, type EventSourceMessage, type EventSourceParser } from 'eventsource-parser';
import { ParseError, excerpt } from '../errors/parse-error';

/** One server-sent event: its `event:` type (if any), its joined `data:` lines and its `id:`. */
export type SseEvent = EventSourceMessage;

/** What the byte-level decoder reports. */
export interface SseDecoderHandlers {
  /** One complete SSE event. */
  onEvent(event: SseEvent): void;
  /**
   * A JSON value that arrived *outside* SSE framing (no `data:` prefix). Gemini sends its
   * mid-stream errors this way, pretty-printed over several lines; a spec-compliant SSE parser
   * would drop it silently.
   */
  onBareJson(value: unknown, raw: string): void;
  /** An SSE comment line (`: OPENROUTER PROCESSING`): a keep-alive. Optional. */
  onComment?(comment: string): void;
}

export interface SseDecoderOptions {
  /**
   * The largest event accepted, in characters of its joined `data:` lines, however the body is
   * split into pieces. Default 16 MiB. (As a memory guard, the parser also gives up when it holds
   * more than about twice this: one event plus the line after it.)
   */
  maxEventSize?: number;
  /** The largest non-SSE text block accepted while looking for bare JSON. Default 64 KiB. */
  maxBareTextSize?: number;
}

/** A push decoder: raw bytes in, SSE events and bare JSON values out. */
export interface SseDecoder {
  /** Decodes one piece of the body. Pieces may split lines and UTF-8 characters anywhere. */
  feed(bytes: Uint8Array): void;
  /** Flushes the end of the body: a last event with no blank line after it is still delivered. */
  end(): void;
}

/**
 * Creates a decoder from bytes to SSE events, built on eventsource-parser. It handles LF, CR and
 * CRLF line endings, comments (keep-alives), `event:` lines, multi-line data, a leading BOM,
 * UTF-8 characters split across pieces, and a final event without a trailing blank line.
 * Unknown fields (`name: value`) are ignored; other text outside SSE framing is parsed as JSON and
 * handed to `onBareJson`. Invalid UTF-8, oversize events and non-SSE text that is not JSON raise
 * {@link ParseError}.
 */
export function createSseDecoder(
  handlers: SseDecoderHandlers,
  options: SseDecoderOptions = {},
): SseDecoder {
  const { maxEventSize = 16 * 1024 * 1024, maxBareTextSize = 64 * 1024 } = options;
  const text = new TextDecoder('utf-8', { fatal: true });
  let bare = '';
  let failure: ParseError | undefined;

  const flushBare = (final: boolean): void => {
    const trimmed = bare.trim();
    if (trimmed === '') {
      bare = '';
      return;
    }
    let value: unknown;
    try {
      value = JSON.parse(trimmed);
    } catch {
      if (final) {
        bare = '';
        throw new ParseError(
          `The stream contained text that is neither SSE nor JSON: ${excerpt(trimmed)}.`,
          { excerpt: trimmed },
        );
      }
      return; // not complete yet: wait for more lines
    }
    bare = '';
    handlers.onBareJson(value, trimmed);
  };

  const tooLarge = (cause?: unknown): ParseError =>
    new ParseError(
      `An event exceeded the ${maxEventSize}-character limit. Raise maxEventSize if the provider really sends events this large.`,
      cause === undefined ? {} : { cause },
    );

  const parser: EventSourceParser = createParser({
    onComment(comment) {
      if (failure === undefined) handlers.onComment?.(comment);
    },
    // The exact limit is checked in onEvent: eventsource-parser checks only at the end of each
    // piece (so an oversize event fed whole would pass), and it counts its pending line with the
    // field name, and with CR framing the next line while the previous event's data is still
    // held (so a split event under the limit would fail). Its own limit is only a memory guard,
    // set so that no event within maxEventSize can trip it.
    maxBufferSize: 2 * maxEventSize + 'data: '.length + 1,
    onEvent(event) {
      // After a failure, nothing more is delivered from the rest of the piece being parsed, so
      // what comes out before the error does not depend on how the body was split.
      if (failure !== undefined) return;
      if (event.data.length > maxEventSize) {
        failure = tooLarge();
        return;
      }
      if (bare !== '') flushBare(true);
      handlers.onEvent(event);
    },
    onError(error) {
      if (failure !== undefined) return;
      if (error.type === 'max-buffer-size-exceeded') {
        failure = tooLarge(error);
        return;
      }
      if (error.type !== 'unknown-field' || error.line === undefined) return;
      // A well-formed unknown field (`name: value`) is ignored, as the SSE spec says. Any other
      // text is not SSE: a bare JSON value (how Gemini sends mid-stream errors) is parsed, and
      // anything else (a proxy's HTML error page) is an error, never silently dropped.
      if (bare === '' && /^[A-Za-z][\w-]*:/.test(error.line)) return;
      bare += `${error.line}\n`;
      if (bare.length > maxBareTextSize) {
        failure = new ParseError(
          `The stream contained more than ${maxBareTextSize} characters of non-SSE text: ${excerpt(bare)}.`,
          { excerpt: bare },
        );
        bare = '';
        return;
      }
      flushBare(false);
    },
  });

  const check = (): void => {
    if (failure !== undefined) throw failure;
  };

  return {
    feed(bytes) {
      check();
      let chunk: string;
      try {
        chunk = text.decode(bytes, { stream: true });
      } catch (cause) {
        throw new ParseError('The stream is not valid UTF-8.', { cause });
      }
      parser.feed(chunk);
      check();
    },
    end() {
      check();
      let rest: string;
      try {
        rest = text.decode();
      } catch (cause) {
        throw new ParseError('The stream ended inside an invalid or unfinished UTF-8 sequence.', {
          cause,
        });
      }
      // Terminate a last line and event that lack their newline / blank line.
      parser.feed(`${rest}\n\n`);
      check();
      flushBare(true);
    },
  };
}
