import { toOpenAIRequest } from '../openai/convert-to-openai-request';
import {
  createHttpProvider,
  type HttpProvider,
  parseBaseURL,
  requireString,
  type HttpProviderOptions,
} from './create-http-provider';

/** Options of {@link openai}. */
export interface OpenAIProviderOptions extends HttpProviderOptions {
  apiKey: string;
  /** Includes `/v1`, as in the official SDK. Default `https://api.openai.com/v1`. */
  baseURL?: string;
  /** Sent as `OpenAI-Organization`. */
  organization?: string;
  /** Sent as `OpenAI-Project`. */
  project?: string;
  /** The provider name stamped on chunks and errors. Default `openai`. */
  name?: string;
}

/**
 * The OpenAI Chat Completions provider. Always asks for usage (`stream_options.include_usage`).
 *
 * ```ts
 * const gpt = openai({ apiKey: process.env.OPENAI_API_KEY! });
 * gpt.stream({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Hi' }] }).subscribe(console.log);
 * ```
 */
export function openai(options: OpenAIProviderOptions): HttpProvider {
  const apiKey = requireString('openai', 'apiKey', options.apiKey);
  const baseURL = parseBaseURL('openai', options.baseURL ?? 'https://api.openai.com/v1').href;
  const headers: Record<string, string> = { authorization: `Bearer ${apiKey}` };
  if (options.organization !== undefined) headers['openai-organization'] = options.organization;
  if (options.project !== undefined) headers['openai-project'] = options.project;
  return openaiStyleProvider(options.name ?? 'openai', baseURL, headers, [apiKey], options);
}

/**
 * A provider for the OpenAI Chat Completions wire format, shared by {@link openai} and
 * `openaiCompatible`: `POST /chat/completions` with usage always requested, `GET /models` for
 * health.
 */
export function openaiStyleProvider(
  name: string,
  baseURL: string,
  headers: Record<string, string>,
  secrets: readonly string[],
  options: HttpProviderOptions,
): HttpProvider {
  return createHttpProvider({
    name,
    format: 'openai',
    baseURL,
    headers,
    secrets,
    healthPath: '/models',
    buildCall: (request) => ({
      path: '/chat/completions',
      body: toOpenAIRequest(request),
      model: request.model,
    }),
    options,
  });
}
