import type { RoutingStrategy } from './router-config';
import type { ResolvedCandidate } from './route-table';

/** What the strategies need to know, supplied by the router. */
export interface StrategyContext {
  /** The next round-robin turn of a route: 0, 1, 2, ... */
  nextTurn(routeKey: string): number;
  /** A random number in [0, 1). */
  random: () => number;
  /** The EWMA of a candidate's time to first token, ms; undefined before any sample. */
  latency(candidateKey: string): number | undefined;
  /** A candidate's estimated cost of this request, USD; undefined when unpriced. */
  cost(candidate: ResolvedCandidate): number | undefined;
}

/**
 * Orders a route's candidates for one request; the first is tried first, the rest are the
 * failover order.
 *
 * - `priority`: as configured.
 * - `round-robin`: as configured, rotated by one per request of the route.
 * - `weighted`: a weighted random order without replacement (weight 2 is picked first twice as
 *   often as weight 1).
 * - `least-latency`: by the EWMA of time to first token, fastest first; a candidate with no
 *   sample yet comes first (so it gets measured), ties in configured order.
 * - `cheapest`: by the estimated cost of this request, cheapest first; unpriced ones last, ties
 *   in configured order.
 */
export function orderCandidates(
  strategy: RoutingStrategy,
  routeKey: string,
  candidates: readonly ResolvedCandidate[],
  context: StrategyContext,
): ResolvedCandidate[] {
  const list = [...candidates];
  if (list.length < 2) return list;
  switch (strategy) {
    case 'priority':
      return list;
    case 'round-robin': {
      const turn = context.nextTurn(routeKey) % list.length;
      return [...list.slice(turn), ...list.slice(0, turn)];
    }
    case 'weighted':
      return weightedOrder(list, () => context.random());
    case 'least-latency':
      return stableSortBy(list, (c) => context.latency(c.key) ?? -1);
    case 'cheapest':
      return stableSortBy(list, (c) => context.cost(c) ?? Number.POSITIVE_INFINITY);
  }
}

function stableSortBy<T>(list: readonly T[], key: (item: T) => number): T[] {
  return list
    .map((item, index) => ({ item, index, k: key(item) }))
    .sort((a, b) => (a.k === b.k ? a.index - b.index : a.k < b.k ? -1 : 1))
    .map(({ item }) => item);
}

function weightedOrder(list: ResolvedCandidate[], random: () => number): ResolvedCandidate[] {
  const pool = [...list];
  const out: ResolvedCandidate[] = [];
  while (pool.length > 0) {
    const total = pool.reduce((sum, c) => sum + c.weight, 0);
    let r = random() * total;
    let index = pool.length - 1;
    for (let i = 0; i < pool.length; i++) {
      r -= (pool[i] as ResolvedCandidate).weight;
      if (r < 0) {
        index = i;
        break;
      }
    }
    out.push(...pool.splice(index, 1));
  }
  return out;
}
