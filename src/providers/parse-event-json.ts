import { ParseError, excerpt } from '../errors/parse-error';

/** Parses an event's JSON data, or throws a {@link ParseError} that quotes the event. */
export function parseEventJson(data: string, provider: string, eventType?: string): unknown {
  try {
    return JSON.parse(data) as unknown;
  } catch (cause) {
    throw new ParseError(
      `${provider} sent a malformed JSON event${
        eventType === undefined ? '' : ` (${eventType})`
      }: ${excerpt(data)}. The stream is corrupt; retry the request.`,
      { provider, cause, excerpt: data },
    );
  }
}
