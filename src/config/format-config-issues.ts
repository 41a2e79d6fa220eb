import type { z } from 'zod';
import type { ValidationIssue } from '../errors/validation-error';
import { formatPath } from '../request/validate-chat-request';
import { didYouMean } from './did-you-mean';

/** A zod issue as the formatter reads it: the fields of every issue kind, all optional. */
interface LooseIssue {
  code: string;
  path: PropertyKey[];
  message: string;
  input?: unknown;
  keys?: string[];
  values?: unknown[];
  expected?: string;
  errors?: LooseIssue[][];
}

/** What {@link configParseParams} learns while parsing, for the messages afterwards. */
export interface IssueContext {
  /** The keys a strict object accepts, by the object that had unknown keys. */
  readonly knownKeys: WeakMap<object, string[]>;
}

/**
 * Parse parameters that keep what the messages need: the input of each issue, and the keys an
 * object with unknown keys accepts (read from the schema at the time of the issue).
 */
export function configParseParams(context: IssueContext): z.core.ParseContext<z.core.$ZodIssue> {
  return {
    reportInput: true,
    error: (issue) => {
      if (issue.code === 'unrecognized_keys') {
        const def = (issue.inst as { _zod?: { def?: { shape?: object } } } | undefined)?._zod?.def;
        if (def?.shape !== undefined && issue.input !== undefined) {
          context.knownKeys.set(issue.input, Object.keys(def.shape));
        }
      }
      return undefined;
    },
  };
}

const describe = (value: unknown): string =>
  typeof value === 'string' ? JSON.stringify(value) : String(value);

function plain(message: string): string {
  return message.replace(/^Invalid input: /, '');
}

/** The issues of the union branch that got furthest: not rejected at the union's own level. */
function bestBranch(errors: LooseIssue[][]): LooseIssue[] | undefined {
  const deep = errors.filter((branch) =>
    branch.some((i) => i.path.length > 0 || i.code === 'unrecognized_keys'),
  );
  if (deep.length === 0) return undefined;
  return deep.reduce((a, b) => (b.length < a.length ? b : a));
}

function format(
  issue: LooseIssue,
  prefix: readonly PropertyKey[],
  context: IssueContext,
  out: ValidationIssue[],
): void {
  const path = [...prefix, ...issue.path];
  switch (issue.code) {
    case 'unrecognized_keys': {
      const known =
        typeof issue.input === 'object' && issue.input !== null
          ? context.knownKeys.get(issue.input)
          : undefined;
      for (const key of issue.keys ?? []) {
        const hint = known === undefined ? '' : didYouMean(key, known);
        out.push({
          path: formatPath([...path, key]),
          message:
            hint !== ''
              ? `unknown key${hint}`
              : `unknown key${known === undefined ? '' : ` (expected one of: ${known.join(', ')})`}`,
        });
      }
      return;
    }
    case 'invalid_value': {
      const values = issue.values ?? [];
      const got = issue.input;
      const hint =
        typeof got === 'string'
          ? didYouMean(
              got,
              values.filter((v): v is string => typeof v === 'string'),
            )
          : '';
      const expected =
        values.length === 1 ? describe(values[0]) : `one of ${values.map(describe).join(', ')}`;
      out.push({
        path: formatPath(path),
        message: `expected ${expected}, got ${got === undefined ? 'nothing' : JSON.stringify(got)}${hint}`,
      });
      return;
    }
    case 'invalid_type': {
      out.push({
        path: formatPath(path),
        message:
          issue.input === undefined
            ? `required (${issue.expected ?? 'a value'})`
            : plain(issue.message),
      });
      return;
    }
    case 'invalid_union': {
      const branch = bestBranch(issue.errors ?? []);
      if (branch !== undefined) {
        for (const inner of branch) format(inner, path, context, out);
        return;
      }
      const expected = (issue.errors ?? [])
        .flat()
        .map((i) =>
          i.code === 'invalid_value'
            ? (i.values ?? []).map(describe).join(' or ')
            : (i.expected ?? 'something else'),
        );
      out.push({
        path: formatPath(path),
        message: `expected ${[...new Set(expected)].join(' or ')}, got ${describeType(issue.input)}`,
      });
      return;
    }
    default:
      out.push({ path: formatPath(path), message: plain(issue.message) });
  }
}

function describeType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  return `${typeof value} ${JSON.stringify(value)}`;
}

/**
 * Turns zod issues into {@link ValidationIssue}s that name the path and the problem in words:
 * one issue per unknown key (with "did you mean" when a known key is close), enum mismatches
 * with the value received (and "did you mean"), missing fields as `required`, and unions
 * reduced to the branch that got furthest.
 */
export function formatConfigIssues(error: z.ZodError, context: IssueContext): ValidationIssue[] {
  const out: ValidationIssue[] = [];
  for (const issue of error.issues) format(issue, [], context, out);
  return out;
}
