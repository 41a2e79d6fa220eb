import type { z } from 'zod';
import { ValidationError, type ValidationIssue } from '../errors/validation-error';
import { chatRequestSchema, type ChatRequest } from './chat-request';

/** Formats a zod path as `messages[0].content`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else out += out === '' ? String(key) : `.${String(key)}`;
  }
  return out;
}

/** Turns zod issues into {@link ValidationIssue}s naming the field and what was expected. */
export function toValidationIssues(error: z.ZodError): ValidationIssue[] {
  return error.issues.map((issue) => ({ path: formatPath(issue.path), message: issue.message }));
}

/**
 * Validates an OpenAI-shaped chat request. Returns the request (unknown extra fields kept) or
 * throws a {@link ValidationError} whose message names each offending field, e.g.
 * `Invalid request: messages[0].role: Invalid input: expected "system" | "user" | ...`.
 */
export function validateChatRequest(input: unknown): ChatRequest {
  const result = chatRequestSchema.safeParse(input);
  if (!result.success) throw new ValidationError(toValidationIssues(result.error));
  return result.data;
}
