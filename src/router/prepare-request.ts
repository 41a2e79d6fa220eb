import type { ChatRequest } from '../request/chat-request';
import { validateChatRequest } from '../request/validate-chat-request';
import { ValidationError } from '../errors/validation-error';

let sequence = 0;

/** A unique session id: `sess_` + random hex (or a counter where `crypto` is missing). */
export function newSessionId(): string {
  const c = (globalThis as { crypto?: { randomUUID?: () => string } }).crypto;
  const random =
    c?.randomUUID?.().replaceAll('-', '') ??
    `${Date.now().toString(16)}${(++sequence).toString(16)}`;
  return `sess_${random}`;
}

/** Validates the request and takes the per-request fallbacks out of it. */
export function prepareRequest(input: unknown): {
  request: ChatRequest;
  fallbackModels: { model: string; path: string }[];
} {
  const validated = validateChatRequest(input) as ChatRequest & {
    models?: unknown;
    fallbacks?: unknown;
  };
  const { models, fallbacks, ...request } = validated;
  const fallbackModels: { model: string; path: string }[] = [];
  if (models !== undefined) {
    if (!Array.isArray(models)) {
      throw new ValidationError([{ path: 'models', message: 'expected an array of model names' }]);
    }
    models.forEach((m: unknown, i) => {
      if (typeof m !== 'string' || m === '') {
        throw new ValidationError([
          { path: `models[${i}]`, message: 'expected a non-empty model name' },
        ]);
      }
      if (m !== request.model) fallbackModels.push({ model: m, path: `models[${i}]` });
    });
  }
  if (fallbacks !== undefined) {
    if (!Array.isArray(fallbacks)) {
      throw new ValidationError([
        { path: 'fallbacks', message: 'expected an array of model names (or {model} objects)' },
      ]);
    }
    fallbacks.forEach((f: unknown, i) => {
      const model = typeof f === 'string' ? f : (f as { model?: unknown } | null)?.model;
      if (typeof model !== 'string' || model === '') {
        throw new ValidationError([
          {
            path: `fallbacks[${i}]`,
            message: 'expected a model name or an object with a non-empty "model"',
          },
        ]);
      }
      fallbackModels.push({ model, path: `fallbacks[${i}]` });
    });
  }
  return { request, fallbackModels };
}
