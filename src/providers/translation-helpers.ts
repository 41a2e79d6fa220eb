import { ValidationError } from '../errors/validation-error';

/** Shared by the request translators: what a provider cannot take is a ValidationError naming the field. */
export function translationError(
  provider: string,
  path: string,
  message: string,
  cause?: unknown,
): never {
  throw new ValidationError([{ path, message }], { provider, cause });
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A data: URL's parts, or `undefined` when `url` is not a data: URL. */
export function parseDataUrl(
  url: string,
): { mediaType: string; base64: boolean; data: string } | undefined {
  if (!/^data:/i.test(url)) return undefined;
  const comma = url.indexOf(',');
  if (comma < 0) return { mediaType: '', base64: false, data: '' };
  const [mediaType = '', ...params] = url.slice(5, comma).split(';');
  return {
    mediaType: mediaType.trim().toLowerCase(),
    base64: params.some((param) => param.trim().toLowerCase() === 'base64'),
    data: url.slice(comma + 1),
  };
}

/**
 * Parses a tool call's JSON arguments into an object (empty text reads as `{}`), or throws a
 * ValidationError naming `path`.
 */
export function parseToolArguments(
  provider: string,
  raw: string,
  path: string,
): Record<string, unknown> {
  if (raw.trim() === '') return {};
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    return translationError(
      provider,
      path,
      `expected a JSON object, got invalid JSON (${reason})`,
      error,
    );
  }
  if (!isRecord(value)) return translationError(provider, path, 'expected a JSON object');
  return value;
}
