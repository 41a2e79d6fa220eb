import {
  parseBaseURL,
  requireString,
  type HttpProvider,
  type HttpProviderOptions,
} from './create-http-provider';
import { openaiStyleProvider } from './openai-provider';

/** Options of {@link openaiCompatible}. */
export interface OpenAICompatibleProviderOptions extends HttpProviderOptions {
  /** The provider name stamped on chunks and errors (`vllm`, `ollama`, `openrouter`, ...). */
  name: string;
  /** The server's OpenAI-style base URL, including `/v1` (e.g. `http://localhost:11434/v1`). */
  baseURL: string;
  /** Sent as a Bearer token when given. */
  apiKey?: string;
}

/**
 * A provider for any OpenAI-compatible server: vLLM, Ollama, llama.cpp server, LM Studio,
 * OpenRouter, DeepSeek, Together, Groq and the like. Reasoning deltas (`reasoning_content`,
 * `reasoning`) and OpenRouter's in-band errors and keep-alive comments are understood.
 */
export function openaiCompatible(options: OpenAICompatibleProviderOptions): HttpProvider {
  const name = requireString('openaiCompatible', 'name', options.name);
  const baseURL = parseBaseURL(
    'openaiCompatible',
    requireString('openaiCompatible', 'baseURL', options.baseURL),
  ).href;
  const headers: Record<string, string> = {};
  const secrets: string[] = [];
  if (options.apiKey !== undefined && options.apiKey !== '') {
    headers.authorization = `Bearer ${options.apiKey}`;
    secrets.push(options.apiKey);
  }
  return openaiStyleProvider(name, baseURL, headers, secrets, options);
}
