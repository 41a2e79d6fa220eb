import { googleStreamPath, toGoogleRequest } from '../google/convert-to-google-request';
import {
  createHttpProvider,
  type HttpProvider,
  parseBaseURL,
  requireString,
  type HttpProviderOptions,
} from './create-http-provider';

/** Options of {@link google}. */
export interface GoogleProviderOptions extends HttpProviderOptions {
  apiKey: string;
  /** The origin, as in the official SDK. Default `https://generativelanguage.googleapis.com`. */
  baseURL?: string;
  /** The provider name stamped on chunks and errors. Default `google`. */
  name?: string;
}

/**
 * The Google Gemini provider (`streamGenerateContent?alt=sse`). The key travels in the
 * `x-goog-api-key` header, never in the URL, so it cannot leak into access logs.
 */
export function google(options: GoogleProviderOptions): HttpProvider {
  const apiKey = requireString('google', 'apiKey', options.apiKey);
  const baseURL = parseBaseURL(
    'google',
    options.baseURL ?? 'https://generativelanguage.googleapis.com',
  ).href;
  return createHttpProvider({
    name: options.name ?? 'google',
    format: 'google',
    baseURL,
    headers: { 'x-goog-api-key': apiKey },
    secrets: [apiKey],
    healthPath: '/v1beta/models',
    buildCall: (request) => ({
      path: googleStreamPath(request.model),
      body: toGoogleRequest(request),
      model: request.model,
    }),
    options,
  });
}
