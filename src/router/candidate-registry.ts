import type { SchedulerLike } from 'rxjs';
import type { CandidateHealth } from '../health/health-snapshot';
import { LatencyWindow } from '../health/latency-window';
import { RollingCounts, type HealthCountKind } from '../health/rolling-counts';
import { ThroughputWindow } from '../health/throughput-window';
import { createStreamBreaker, type StreamBreaker } from '../operators/create-stream-breaker';
import type { Provider } from '../providers/provider';
import type { RouterBreakerOptions } from './router-config';
import type { RouterEvent } from './router-events';

/** EWMA weight of the newest time-to-first-token sample, for `least-latency`. */
const EWMA_ALPHA = 0.3;

/** The state the router keeps per provider + model: breaker, statistics, streams in flight. */
export class CandidateState {
  readonly key: string;
  readonly providerKey: string;
  readonly provider: Provider;
  readonly model: string;
  readonly breaker: StreamBreaker;
  readonly counts: RollingCounts;
  readonly latency: LatencyWindow;
  readonly throughput = new ThroughputWindow();
  /** EWMA of time to first token, ms. */
  ewmaTtftMs: number | undefined;
  active = 0;
  lastUsed = 0;
  lastProbe: CandidateHealth['lastProbe'] = null;
  probing = false;

  constructor(
    key: string,
    providerKey: string,
    provider: Provider,
    model: string,
    breaker: StreamBreaker,
    windowMs: number,
    latencySamples: number,
  ) {
    this.key = key;
    this.providerKey = providerKey;
    this.provider = provider;
    this.model = model;
    this.breaker = breaker;
    this.counts = new RollingCounts({ windowMs, buckets: Math.min(12, windowMs) });
    this.latency = new LatencyWindow({ samples: latencySamples });
  }

  record(kind: HealthCountKind, now: number): void {
    this.counts.record(kind, now);
  }

  addTtft(ms: number): void {
    this.latency.add(ms);
    this.ewmaTtftMs =
      this.ewmaTtftMs === undefined ? ms : EWMA_ALPHA * ms + (1 - EWMA_ALPHA) * this.ewmaTtftMs;
  }

  breakerState(): CandidateHealth['breaker'] {
    if (this.breaker.halfOpen) return 'half-open';
    return this.breaker.opened ? 'open' : 'closed';
  }
}

/** Options of {@link CandidateRegistry}. */
export interface CandidateRegistryOptions {
  breaker: RouterBreakerOptions;
  windowMs: number;
  latencySamples: number;
  scheduler: SchedulerLike;
  emit: (event: RouterEvent) => void;
  /** Candidates made for `$model` routes beyond this many are evicted when idle. Default 256. */
  maxDynamic?: number;
}

/**
 * One {@link CandidateState} per provider + model, made on first use, and the per-provider 429
 * cooldowns. Breaker state changes are reported as `breaker` events.
 */
export class CandidateRegistry {
  readonly #states = new Map<string, CandidateState>();
  readonly #static = new Set<string>();
  readonly #cooldowns = new Map<string, number>();
  readonly #options: CandidateRegistryOptions;
  readonly #maxDynamic: number;
  #closed = false;

  constructor(options: CandidateRegistryOptions) {
    this.#options = options;
    this.#maxDynamic = options.maxDynamic ?? 256;
  }

  /** The state of `providerKey/model`, made if needed. `pinned` ones are never evicted. */
  get(
    key: string,
    providerKey: string,
    provider: Provider,
    model: string,
    pinned = false,
  ): CandidateState {
    let state = this.#states.get(key);
    if (state === undefined) {
      if (this.#closed) throw new Error('The router is closed.');
      state = this.#create(key, providerKey, provider, model);
      this.#states.set(key, state);
      if (pinned) this.#static.add(key);
      else this.#evict();
    }
    state.lastUsed = this.#options.scheduler.now();
    return state;
  }

  /** The state of a candidate if it has one, without making it. */
  peek(key: string): CandidateState | undefined {
    return this.#states.get(key);
  }

  all(): CandidateState[] {
    return [...this.#states.values()];
  }

  /** When `providerKey`'s cooldown ends, if it is cooling now. */
  cooldownUntil(providerKey: string): number | undefined {
    const until = this.#cooldowns.get(providerKey);
    if (until === undefined) return undefined;
    if (until <= this.#options.scheduler.now()) {
      this.#cooldowns.delete(providerKey);
      return undefined;
    }
    return until;
  }

  /** Cools `providerKey` until `until` (a later cooldown is never shortened). */
  coolDown(providerKey: string, until: number, retryAfterMs: number | undefined): void {
    const current = this.#cooldowns.get(providerKey);
    if (current !== undefined && current >= until) return;
    this.#cooldowns.set(providerKey, until);
    this.#options.emit({
      type: 'cooldown',
      at: this.#options.scheduler.now(),
      provider: providerKey,
      until,
      retryAfterMs,
    });
  }

  snapshot(): CandidateHealth[] {
    const now = this.#options.scheduler.now();
    return this.all().map((s) => ({
      candidate: s.key,
      provider: s.providerKey,
      model: s.model,
      breaker: s.breakerState(),
      counts: s.counts.counts(now),
      ttftP50Ms: s.latency.p50(),
      ttftP95Ms: s.latency.p95(),
      tokensPerSecond: s.throughput.tokensPerSecond(),
      activeStreams: s.active,
      cooldownUntil: this.cooldownUntil(s.providerKey) ?? null,
      lastProbe: s.lastProbe,
    }));
  }

  /** Shuts every breaker down (clears their timers). */
  shutdown(): void {
    this.#closed = true;
    for (const state of this.#states.values()) state.breaker.shutdown();
  }

  #create(key: string, providerKey: string, provider: Provider, model: string): CandidateState {
    const breaker = createStreamBreaker({
      ...this.#options.breaker,
      provider: providerKey,
      name: key,
    });
    const emit = (state: 'open' | 'half-open' | 'closed') => () => {
      this.#options.emit({
        type: 'breaker',
        at: this.#options.scheduler.now(),
        candidate: key,
        state,
      });
    };
    breaker.on('open', emit('open'));
    breaker.on('halfOpen', emit('half-open'));
    breaker.on('close', emit('closed'));
    return new CandidateState(
      key,
      providerKey,
      provider,
      model,
      breaker,
      this.#options.windowMs,
      this.#options.latencySamples,
    );
  }

  #evict(): void {
    const dynamic = [...this.#states.values()].filter((s) => !this.#static.has(s.key));
    if (dynamic.length <= this.#maxDynamic) return;
    const idle = dynamic
      .filter((s) => s.active === 0 && !s.breaker.opened && !s.probing)
      .sort((a, b) => a.lastUsed - b.lastUsed);
    for (const s of idle.slice(0, dynamic.length - this.#maxDynamic)) {
      s.breaker.shutdown();
      this.#states.delete(s.key);
    }
  }
}
