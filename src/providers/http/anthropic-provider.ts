import { toAnthropicRequest } from '../anthropic/convert-to-anthropic-request';
import {
  createHttpProvider,
  type HttpProvider,
  parseBaseURL,
  requireString,
  type HttpProviderOptions,
} from './create-http-provider';

/** Options of {@link anthropic}. */
export interface AnthropicProviderOptions extends HttpProviderOptions {
  apiKey: string;
  /** The origin, as in the official SDK. Default `https://api.anthropic.com`. */
  baseURL?: string;
  /** Sent as `anthropic-version`. Default `2023-06-01`. */
  version?: string;
  /** `max_tokens` when the request sets none (Anthropic requires one). Default 4096. */
  defaultMaxTokens?: number;
  /** The provider name stamped on chunks and errors. Default `anthropic`. */
  name?: string;
}

/**
 * The Anthropic Messages provider. Requests are translated from the OpenAI shape (system
 * messages to `system`, tools to `input_schema`, tool calls and results to blocks, same-role
 * messages merged, `max_tokens` always set).
 */
export function anthropic(options: AnthropicProviderOptions): HttpProvider {
  const apiKey = requireString('anthropic', 'apiKey', options.apiKey);
  const baseURL = parseBaseURL('anthropic', options.baseURL ?? 'https://api.anthropic.com').href;
  return createHttpProvider({
    name: options.name ?? 'anthropic',
    format: 'anthropic',
    baseURL,
    headers: { 'x-api-key': apiKey, 'anthropic-version': options.version ?? '2023-06-01' },
    secrets: [apiKey],
    healthPath: '/v1/models',
    buildCall: (request) => ({
      path: '/v1/messages',
      body: toAnthropicRequest(
        request,
        options.defaultMaxTokens === undefined
          ? {}
          : { defaultMaxTokens: options.defaultMaxTokens },
      ),
      model: request.model,
    }),
    options,
  });
}
