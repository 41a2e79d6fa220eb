import {
  Observable,
  Subscription,
  defer,
  from,
  ignoreElements,
  throwError,
  timeout,
  timer,
} from 'rxjs';
import type { SchedulerLike } from 'rxjs';
import { isRouterError } from '../errors/router-error';
import { TimeoutError } from '../errors/timeout-error';
import type { CandidateRegistry } from './candidate-registry';
import type { ProbeOptions } from './router-config';
import type { RouterEvent } from './router-events';
import type { RouteTable } from './route-table';

/** A probe's request: one token. */
const PROBE_PROMPT = 'ping';

/** What {@link startHealthProbes} needs. */
export interface HealthProbesContext {
  options: ProbeOptions;
  table: RouteTable;
  registry: CandidateRegistry;
  scheduler: SchedulerLike;
  emit: (event: RouterEvent) => void;
}

/**
 * Probes every candidate with a fixed model each `intervalMs`: the provider's `healthCheck()`
 * (`kind: 'healthCheck'`, when it has one) or a one-token request. One probe per candidate at a
 * time; each ends within `timeoutMs`. A success closes an open or half-open breaker (unless
 * `closeBreakerOnSuccess: false`), so traffic returns before the breaker's reset timeout. Every
 * result is a `probe` event and the candidate's `lastProbe`. Unsubscribing the returned
 * subscription stops the timer and aborts the probes in flight.
 */
export function startHealthProbes(context: HealthProbesContext): Subscription {
  const { options, table, registry, scheduler, emit } = context;
  const {
    intervalMs,
    timeoutMs = 10_000,
    kind = 'request',
    closeBreakerOnSuccess = true,
  } = options;
  const probes = new Subscription();
  const now = (): number => scheduler.now();
  probes.add(
    timer(intervalMs, intervalMs, scheduler).subscribe(() => {
      for (const [key, c] of table.staticCandidates()) {
        const state = registry.get(key, c.providerKey, c.provider, c.model, true);
        if (state.probing) continue;
        state.probing = true;
        const started = now();
        const { provider } = c;
        const check$: Observable<unknown> =
          kind === 'healthCheck' && provider.healthCheck !== undefined
            ? defer(() => from(provider.healthCheck?.() ?? Promise.resolve()))
            : c.provider
                .stream({
                  model: c.model,
                  messages: [{ role: 'user', content: PROBE_PROMPT }],
                  max_tokens: 1,
                })
                .pipe(ignoreElements());
        const done = (ok: boolean, error?: unknown): void => {
          state.probing = false;
          const latencyMs = now() - started;
          const code = isRouterError(error) ? error.code : undefined;
          const result = { at: now(), ok, latencyMs, ...(code === undefined ? {} : { code }) };
          state.lastProbe = result;
          emit({ type: 'probe', candidate: key, ...result });
          if (ok && closeBreakerOnSuccess && !state.breaker.closed) state.breaker.close();
        };
        probes.add(
          check$
            .pipe(
              timeout({
                first: timeoutMs,
                scheduler,
                with: () =>
                  throwError(
                    () => new TimeoutError('total', timeoutMs, { provider: c.providerKey }),
                  ),
              }),
            )
            .subscribe({
              error: (error: unknown) => {
                done(false, error);
              },
              complete: () => {
                done(true);
              },
            }),
        );
      }
    }),
  );
  return probes;
}
