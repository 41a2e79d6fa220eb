import type { Provider } from '../providers/provider';
import {
  PASS_THROUGH_MODEL,
  type CandidateConfig,
  type RouteConfig,
  type RouteOptions,
  type RouterConfig,
} from './router-config';

/** A candidate of a resolved route: a provider instance and a concrete model. */
export interface ResolvedCandidate {
  /** `providerKey/model`. */
  readonly key: string;
  readonly providerKey: string;
  readonly provider: Provider;
  readonly model: string;
  readonly weight: number;
  readonly contextWindow: number | undefined;
}

/** A route matched by a requested model. */
export interface ResolvedRoute {
  /** The route's key as configured (`fast`, `claude-*`). */
  readonly key: string;
  readonly glob: boolean;
  readonly options: RouteOptions;
  readonly candidates: readonly ResolvedCandidate[];
}

interface CompiledRoute {
  key: string;
  glob: boolean;
  pattern: RegExp | undefined;
  options: RouteOptions;
  candidates: readonly CandidateConfig[];
}

/** Whether a route key is a glob: it has `*` or `?`. */
export function isGlob(key: string): boolean {
  return key.includes('*') || key.includes('?');
}

/** A glob (`*` any run of characters, `?` one character) as an anchored RegExp. */
export function globToRegExp(glob: string): RegExp {
  let source = '';
  for (const ch of glob) {
    if (ch === '*') source += '.*';
    else if (ch === '?') source += '.';
    else source += ch.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${source}$`, 's');
}

/**
 * The routes of a router: an exact alias wins; otherwise the first glob that matches, in the
 * order the routes were given. `$model` candidates take the requested name.
 */
export class RouteTable {
  readonly #exact = new Map<string, CompiledRoute>();
  readonly #globs: CompiledRoute[] = [];
  readonly #providers: Readonly<Record<string, Provider>>;
  readonly #routes: CompiledRoute[] = [];

  constructor(config: Pick<RouterConfig, 'providers' | 'routes'>) {
    this.#providers = config.providers;
    for (const [key, value] of Object.entries(config.routes)) {
      const route: RouteConfig = Array.isArray(value) ? { candidates: value } : value;
      const { candidates, ...options } = route;
      const glob = isGlob(key);
      const compiled: CompiledRoute = {
        key,
        glob,
        pattern: glob ? globToRegExp(key) : undefined,
        options,
        candidates,
      };
      this.#routes.push(compiled);
      if (glob) this.#globs.push(compiled);
      else this.#exact.set(key, compiled);
    }
  }

  /** The route for `model`, or undefined when none matches. */
  resolve(model: string): ResolvedRoute | undefined {
    const route = this.#exact.get(model) ?? this.#globs.find((r) => r.pattern?.test(model));
    if (route === undefined) return undefined;
    return {
      key: route.key,
      glob: route.glob,
      options: route.options,
      candidates: route.candidates.map((c) => {
        const concrete = c.model === PASS_THROUGH_MODEL ? model : c.model;
        return {
          key: `${c.provider}/${concrete}`,
          providerKey: c.provider,
          provider: this.#providers[c.provider] as Provider,
          model: concrete,
          weight: c.weight ?? 1,
          contextWindow: c.contextWindow,
        };
      }),
    };
  }

  /** Every route key, in configuration order. */
  keys(): string[] {
    return this.#routes.map((r) => r.key);
  }

  /** Every route with its candidates as configured (`provider/model`, `$model` kept). */
  listing(): { id: string; glob: boolean; candidates: string[] }[] {
    return this.#routes.map((r) => ({
      id: r.key,
      glob: r.glob,
      candidates: r.candidates.map((c) => `${c.provider}/${c.model}`),
    }));
  }

  /** Candidates with a fixed model (no `$model`), for probes: `provider/model` → candidate. */
  staticCandidates(): Map<string, { providerKey: string; provider: Provider; model: string }> {
    const out = new Map<string, { providerKey: string; provider: Provider; model: string }>();
    for (const r of this.#routes) {
      for (const c of r.candidates) {
        if (c.model === PASS_THROUGH_MODEL) continue;
        out.set(`${c.provider}/${c.model}`, {
          providerKey: c.provider,
          provider: this.#providers[c.provider] as Provider,
          model: c.model,
        });
      }
    }
    return out;
  }
}
