import { parseDocument } from 'yaml';
import { ValidationError, type ValidationIssue } from '../errors/validation-error';
import { isGlob } from '../router/route-table';
import { formatPath } from '../request/validate-chat-request';
import { didYouMean } from './did-you-mean';
import { configParseParams, formatConfigIssues, type IssueContext } from './format-config-issues';
import {
  gatewayFileConfigSchema,
  type GatewayFileConfig,
  type ProviderFileConfig,
} from './gateway-file-config';
import { interpolateEnv, type ConfigEnv } from './interpolate-env';

/** The syntaxes a config file can be written in. */
export type ConfigFormat = 'yaml' | 'json';

/** Options of {@link parseConfig}. */
export interface ParseConfigOptions {
  /** How `text` is written. */
  format: ConfigFormat;
  /** Where `${ENV_VAR}` references are looked up. Default `process.env`. */
  env?: ConfigEnv | undefined;
  /** Names the config in error messages (`config file <source>`). Default `'<inline>'`. */
  source?: string | undefined;
}

/** Keys of each provider type beyond the common ones, and the types that need an API key. */
const TYPE_ONLY_KEYS: Readonly<Record<string, ProviderFileConfig['type']>> = {
  organization: 'openai',
  project: 'openai',
  version: 'anthropic',
  defaultMaxTokens: 'anthropic',
};

function syntaxIssues(
  text: string,
  format: ConfigFormat,
): { value: unknown; issues: ValidationIssue[] } {
  if (format === 'json') {
    try {
      return { value: JSON.parse(text) as unknown, issues: [] };
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      return { value: undefined, issues: [{ path: '', message: `invalid JSON: ${message}` }] };
    }
  }
  const doc = parseDocument(text, { uniqueKeys: true, stringKeys: true, prettyErrors: true });
  if (doc.errors.length > 0) {
    // The first error explains; the ones after it are mostly its consequences.
    const [first] = doc.errors;
    const at = first?.linePos?.[0];
    const where = at === undefined ? '' : ` at line ${at.line}, column ${at.col}`;
    const what = (first?.message.split('\n')[0] ?? 'syntax error').replace(
      / at line \d+, column \d+:?$/,
      '',
    );
    return { value: undefined, issues: [{ path: '', message: `invalid YAML${where}: ${what}` }] };
  }
  try {
    return { value: doc.toJS({ maxAliasCount: 100 }) as unknown, issues: [] };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return { value: undefined, issues: [{ path: '', message: `invalid YAML: ${message}` }] };
  }
}

function checkProviders(config: GatewayFileConfig, issues: ValidationIssue[]): void {
  const names = Object.keys(config.providers);
  if (names.length === 0)
    issues.push({ path: 'providers', message: 'at least one provider is required' });
  for (const [name, provider] of Object.entries(config.providers)) {
    const at = (key: string): string => formatPath(['providers', name, key]);
    if (provider.type !== 'openai-compatible' && provider.apiKey === undefined) {
      issues.push({
        path: at('apiKey'),
        message: `required for type "${provider.type}" (e.g. apiKey: \${${envName(name)}})`,
      });
    }
    if (provider.type === 'openai-compatible' && provider.baseUrl === undefined) {
      issues.push({
        path: at('baseUrl'),
        message: 'required for type "openai-compatible" (e.g. http://localhost:11434/v1)',
      });
    }
    if (provider.baseUrl !== undefined) {
      const problem = urlProblem(provider.baseUrl);
      if (problem !== undefined) issues.push({ path: at('baseUrl'), message: problem });
    }
    for (const [key, type] of Object.entries(TYPE_ONLY_KEYS)) {
      if (provider[key as keyof ProviderFileConfig] !== undefined && provider.type !== type) {
        issues.push({ path: at(key), message: `only for type "${type}", not "${provider.type}"` });
      }
    }
  }
}

function envName(provider: string): string {
  return `${provider.toUpperCase().replace(/[^A-Z0-9]+/g, '_')}_API_KEY`;
}

function urlProblem(value: string): string | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return `expected an absolute http(s) URL, got ${JSON.stringify(value)}`;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return `expected http: or https:, got ${url.protocol}`;
  }
  if (url.username !== '' || url.password !== '') {
    return 'credentials in the URL are not allowed (use apiKey or headers)';
  }
  return undefined;
}

function checkRoutes(config: GatewayFileConfig, issues: ValidationIssue[]): void {
  const known = Object.keys(config.providers);
  if (Object.keys(config.routes).length === 0) {
    issues.push({ path: 'routes', message: 'at least one route is required' });
  }
  for (const [key, route] of Object.entries(config.routes)) {
    const list = Array.isArray(route) ? route : route.candidates;
    const base = Array.isArray(route) ? ['routes', key] : ['routes', key, 'candidates'];
    list.forEach((candidate, i) => {
      if (Object.hasOwn(config.providers, candidate.provider)) return;
      const hint = didYouMean(candidate.provider, known);
      issues.push({
        path: formatPath([...base, i, 'provider']),
        message: `unknown provider ${JSON.stringify(candidate.provider)}${
          hint !== '' ? hint : ` (known: ${known.join(', ') || 'none'})`
        }`,
      });
    });
    if (!isGlob(key) && key.trim() !== key) {
      issues.push({
        path: formatPath(['routes', key]),
        message: 'a route key cannot start or end with spaces',
      });
    }
  }
}

/**
 * Parses and validates the text of a config file: YAML or JSON, then `${ENV_VAR}` substitution
 * in every string value, then the schema (unknown keys are errors), then cross-checks (each
 * candidate's provider exists, each provider type has what it needs).
 *
 * Every problem is reported at once in one {@link ValidationError} whose subject is
 * `config file <source>` and whose issues name the path, e.g.
 * `routes.fast[1].provider: unknown provider "anthropc" (did you mean "anthropic"?)` or
 * `providers.openai.apiKey: environment variable OPENAI_API_KEY is not set`.
 *
 * Key order is kept as written: glob routes are tried in file order.
 *
 * ```ts
 * const config = parseConfig(await readFile('rx-llm-router.yaml', 'utf8'), {
 *   format: 'yaml',
 *   source: 'rx-llm-router.yaml',
 * });
 * ```
 *
 * @param text The file's content.
 * @param options The format, the environment, and the source name for messages.
 * @return The validated config, environment variables substituted.
 */
export function parseConfig(text: string, options: ParseConfigOptions): GatewayFileConfig {
  const { format, env = process.env, source = '<inline>' } = options;
  const fail = (issues: ValidationIssue[]): never => invalid(source, issues);
  const parsed = syntaxIssues(text.replace(/^\uFEFF/, ''), format);
  if (parsed.issues.length > 0) return fail(parsed.issues);
  const { value } = parsed;
  if (value === undefined || value === null) {
    return fail([
      { path: '', message: 'the file is empty; expected at least providers and routes' },
    ]);
  }
  if (typeof value !== 'object' || Array.isArray(value)) {
    return fail([
      { path: '', message: 'expected a mapping with providers, routes, ... at the top level' },
    ]);
  }
  const issues: ValidationIssue[] = [];
  const interpolated = interpolateEnv(value, env, issues);
  const context: IssueContext = { knownKeys: new WeakMap() };
  const result = gatewayFileConfigSchema.safeParse(interpolated, configParseParams(context));
  if (!result.success) {
    // A variable already reported leaves an empty string behind: do not report it twice.
    const reported = new Set(issues.map((i) => i.path));
    const schemaIssues = formatConfigIssues(result.error, context).filter(
      (i) => !reported.has(i.path),
    );
    return fail([...issues, ...schemaIssues]);
  }
  const config = result.data;
  checkProviders(config, issues);
  checkRoutes(config, issues);
  if (issues.length > 0) return fail(issues);
  return config;
}

function invalid(source: string, issues: ValidationIssue[]): never {
  throw new ValidationError(issues, { subject: `config file ${source}` });
}
