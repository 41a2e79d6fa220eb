import type { ValidationIssue } from '../errors/validation-error';
import { formatPath } from '../request/validate-chat-request';

/** The environment variables a config reads: `process.env` or a plain record in tests. */
export type ConfigEnv = Readonly<Record<string, string | undefined>>;

const REFERENCE = /\$\$\{|\$\{([^}]*)\}/g;
const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Replaces `${NAME}` references in one string with the value of the environment variable NAME.
 *
 * 1. `${NAME}` needs NAME set and non-empty; otherwise an issue names the path and the variable.
 * 2. `${NAME:-fallback}` uses `fallback` when NAME is unset or empty (`${NAME:-}`: empty allowed).
 * 3. `$${` is a literal `${`. A lone `$` (as in `$model`) is left alone.
 * 4. A reference that is not a valid variable name (`${ 1X }`) is an issue too.
 */
export function interpolateString(
  text: string,
  env: ConfigEnv,
  path: string,
  issues: ValidationIssue[],
): string {
  if (!text.includes('${')) return text;
  return text.replace(REFERENCE, (whole, inner: string | undefined) => {
    if (inner === undefined) return '${'; // `$${`
    const separator = inner.indexOf(':-');
    const name = separator === -1 ? inner : inner.slice(0, separator);
    const fallback = separator === -1 ? undefined : inner.slice(separator + 2);
    if (!NAME.test(name)) {
      issues.push({
        path,
        message: `${whole} is not a valid environment variable reference (expected \${NAME} or \${NAME:-default})`,
      });
      return whole;
    }
    const value = env[name];
    if (value !== undefined && value !== '') return value;
    if (fallback !== undefined) return fallback;
    issues.push({
      path,
      message: `environment variable ${name} is ${value === undefined ? 'not set' : 'empty'}`,
    });
    return '';
  });
}

/**
 * Interpolates `${NAME}` references (see {@link interpolateString}) in every string value of a
 * parsed document, keys excepted. Returns a copy; problems are appended to `issues` with the
 * path of the string they are in (`providers.openai.apiKey`). Object key order is kept.
 */
export function interpolateEnv(
  value: unknown,
  env: ConfigEnv,
  issues: ValidationIssue[],
  path: readonly PropertyKey[] = [],
): unknown {
  if (typeof value === 'string') return interpolateString(value, env, formatPath(path), issues);
  if (Array.isArray(value)) {
    return value.map((item: unknown, i) => interpolateEnv(item, env, issues, [...path, i]));
  }
  if (typeof value === 'object' && value !== null) {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) {
      // defineProperty: a `__proto__` key stays a plain key, never the object's prototype.
      Object.defineProperty(out, key, {
        value: interpolateEnv(item, env, issues, [...path, key]),
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
    return out;
  }
  return value;
}
