import type { StreamFormat } from '../chunk/streaming-chunk';

/** What to ask the simulator, in provider-neutral terms. */
export interface SimulatorRequestOptions {
  /** The user message. Default `'Hello'`. */
  prompt?: string;
  /** Default: `gpt-4o-mini`, `claude-sonnet-4-5` or `gemini-2.5-flash`. */
  model?: string;
  /** Default true. */
  stream?: boolean;
  system?: string;
  /** A trailing assistant (Gemini: `model`) message that the answer continues. */
  prefill?: string;
  maxTokens?: number;
  /** Tools offered, by name, with an optional JSON Schema for the arguments. */
  tools?: readonly { name: string; parameters?: Record<string, unknown> }[];
  toolChoice?: 'auto' | 'none' | 'required' | { name: string };
  /** Ask for reasoning (`reasoning_effort`, `thinking`, `includeThoughts`). */
  reasoning?: boolean;
  /** OpenAI `stream_options.include_usage`. Default true. */
  includeUsage?: boolean;
  /** The `x-simulator-fault` header. */
  fault?: string;
  /** The `x-simulator-tokens` header. */
  tokens?: number;
  /** The `x-simulator-key` header (the key of `flap` / `succeed-on` state). */
  faultKey?: string;
  /** Sent the way the provider expects it (`Authorization: Bearer`, `x-api-key`, `x-goog-api-key`). */
  apiKey?: string;
}

/** A request ready to send: `fetch(sim.url + r.path, { method, headers, body: JSON.stringify(r.body) })`. */
export interface SimulatorRequest {
  format: StreamFormat;
  method: 'POST';
  /** The path (and query), to append to the simulator's URL. */
  path: string;
  headers: Record<string, string>;
  body: Record<string, unknown>;
}

const defaultModels: Record<StreamFormat, string> = {
  openai: 'gpt-4o-mini',
  anthropic: 'claude-sonnet-4-5',
  google: 'gemini-2.5-flash',
};

/**
 * Builds a request in one provider's wire format: the path, headers and body that the real
 * provider expects. Handy for tests of any layer that talks to the simulator.
 *
 * ```ts
 * const r = simulatorRequest('anthropic', { prompt: 'Hi', fault: 'reset-after-3' });
 * const res = await fetch(sim.url + r.path, { method: r.method, headers: r.headers, body: JSON.stringify(r.body) });
 * ```
 */
export function simulatorRequest(
  format: StreamFormat,
  options: SimulatorRequestOptions = {},
): SimulatorRequest {
  const {
    prompt = 'Hello',
    model = defaultModels[format],
    stream = true,
    system,
    prefill,
    maxTokens,
    tools,
    toolChoice,
    reasoning = false,
    includeUsage = true,
    fault,
    tokens,
    faultKey,
    apiKey,
  } = options;
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (fault !== undefined) headers['x-simulator-fault'] = fault;
  if (tokens !== undefined) headers['x-simulator-tokens'] = String(tokens);
  if (faultKey !== undefined) headers['x-simulator-key'] = faultKey;
  const schema = (parameters: Record<string, unknown> | undefined): Record<string, unknown> =>
    parameters ?? { type: 'object', properties: {} };

  switch (format) {
    case 'openai': {
      if (apiKey !== undefined) headers.authorization = `Bearer ${apiKey}`;
      const messages: Record<string, unknown>[] = [];
      if (system !== undefined) messages.push({ role: 'system', content: system });
      messages.push({ role: 'user', content: prompt });
      if (prefill !== undefined) messages.push({ role: 'assistant', content: prefill });
      const body: Record<string, unknown> = { model, messages, stream };
      if (stream && includeUsage) body.stream_options = { include_usage: true };
      if (maxTokens !== undefined) body.max_completion_tokens = maxTokens;
      if (reasoning) body.reasoning_effort = 'medium';
      if (tools !== undefined) {
        body.tools = tools.map((tool) => ({
          type: 'function',
          function: { name: tool.name, parameters: schema(tool.parameters) },
        }));
      }
      if (toolChoice !== undefined) {
        body.tool_choice =
          typeof toolChoice === 'string'
            ? toolChoice
            : { type: 'function', function: { name: toolChoice.name } };
      }
      return { format, method: 'POST', path: '/v1/chat/completions', headers, body };
    }
    case 'anthropic': {
      headers['anthropic-version'] = '2023-06-01';
      if (apiKey !== undefined) headers['x-api-key'] = apiKey;
      const messages: Record<string, unknown>[] = [{ role: 'user', content: prompt }];
      if (prefill !== undefined) messages.push({ role: 'assistant', content: prefill });
      const body: Record<string, unknown> = {
        model,
        max_tokens: maxTokens ?? 1024,
        messages,
        stream,
      };
      if (system !== undefined) body.system = system;
      if (reasoning) body.thinking = { type: 'enabled', budget_tokens: 1024 };
      if (tools !== undefined) {
        body.tools = tools.map((tool) => ({
          name: tool.name,
          input_schema: schema(tool.parameters),
        }));
      }
      if (toolChoice !== undefined) {
        body.tool_choice =
          toolChoice === 'required'
            ? { type: 'any' }
            : typeof toolChoice === 'string'
              ? { type: toolChoice }
              : { type: 'tool', name: toolChoice.name };
      }
      return { format, method: 'POST', path: '/v1/messages', headers, body };
    }
    case 'google': {
      if (apiKey !== undefined) headers['x-goog-api-key'] = apiKey;
      const contents: Record<string, unknown>[] = [{ role: 'user', parts: [{ text: prompt }] }];
      if (prefill !== undefined) contents.push({ role: 'model', parts: [{ text: prefill }] });
      const body: Record<string, unknown> = { contents };
      if (system !== undefined) body.systemInstruction = { parts: [{ text: system }] };
      const generationConfig: Record<string, unknown> = {};
      if (maxTokens !== undefined) generationConfig.maxOutputTokens = maxTokens;
      if (reasoning) generationConfig.thinkingConfig = { includeThoughts: true };
      if (Object.keys(generationConfig).length > 0) body.generationConfig = generationConfig;
      if (tools !== undefined) {
        body.tools = [
          {
            functionDeclarations: tools.map((tool) => ({
              name: tool.name,
              parameters: schema(tool.parameters),
            })),
          },
        ];
      }
      if (toolChoice !== undefined) {
        body.toolConfig = {
          functionCallingConfig:
            toolChoice === 'required'
              ? { mode: 'ANY' }
              : typeof toolChoice === 'string'
                ? { mode: toolChoice.toUpperCase() }
                : { mode: 'ANY', allowedFunctionNames: [toolChoice.name] },
        };
      }
      const method = stream ? 'streamGenerateContent?alt=sse' : 'generateContent';
      return {
        format,
        method: 'POST',
        path: `/v1beta/models/${encodeURIComponent(model)}:${method}`,
        headers,
        body,
      };
    }
  }
}
