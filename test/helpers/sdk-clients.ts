import Anthropic from '@anthropic-ai/sdk';
import { GoogleGenAI } from '@google/genai';
import OpenAI from 'openai';

/** The three official clients, pointed at one simulator. */
export interface SdkClients {
  openai: OpenAI;
  anthropic: Anthropic;
  google: GoogleGenAI;
}

/**
 * The official OpenAI, Anthropic and Google GenAI clients, pointed at a simulator and never
 * retrying, so every request is exactly one attempt and an error status reaches the test.
 *
 * 1. OpenAI: `baseURL` is `<url>/v1` (the SDK appends `/chat/completions`); `maxRetries: 0`.
 * 2. Anthropic: `baseURL` is `<url>` (the SDK appends `/v1/messages`); `maxRetries: 0`.
 * 3. Google: `httpOptions.baseUrl` is `<url>` (the SDK appends `/v1beta/models/...`). It retries
 *    only when `httpOptions.retryOptions` is set, so it is left unset. (Setting it, even to
 *    `{ attempts: 1 }`, routes the call through `p-retry`, which turns a 429 into a plain
 *    `Error('Retryable HTTP Error: ...')` instead of the SDK's `ApiError`.)
 *
 * All three use Node's global `fetch`; its keep-alive sockets close when the simulator closes
 * its connections (see {@link settleSockets}).
 *
 * @param url The simulator's `url` (`http://127.0.0.1:<port>`).
 * @return The three clients.
 */
export function sdkClients(url: string): SdkClients {
  return {
    openai: new OpenAI({ apiKey: 'sk-simulator', baseURL: `${url}/v1`, maxRetries: 0 }),
    anthropic: new Anthropic({ apiKey: 'sk-ant-simulator', baseURL: url, maxRetries: 0 }),
    google: new GoogleGenAI({ apiKey: 'simulator-key', httpOptions: { baseUrl: url } }),
  };
}

/**
 * Waits, a few turns of the event loop at most (no timers), until no TCP socket is open, and
 * returns the active resources left. The clients' keep-alive sockets close once they see the
 * end of the connections the simulator destroyed on `close()`.
 *
 * @return `process.getActiveResourcesInfo()` once no `TCPSocketWrap` is left, or after 100 turns.
 */
export async function settleSockets(): Promise<string[]> {
  for (let i = 0; i < 100 && process.getActiveResourcesInfo().includes('TCPSocketWrap'); i++) {
    await new Promise((resolve) => setImmediate(resolve));
  }
  return process.getActiveResourcesInfo();
}
