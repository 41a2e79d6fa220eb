import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { Subscription } from 'rxjs';
import type { Router } from '../router/router';
import type { RouterEvent } from '../router/router-events';
import type { RequestRecord } from './request-record';

/** The gateway's Prometheus metrics, fed by its requests and by the router's events. */
export interface GatewayMetrics {
  /** Counts a finished HTTP request and, for a chat completion, its answer. */
  record(record: RequestRecord, endpoint: string): void;
  /** A chat completion or session stream opened (+1) or closed (-1). */
  streams(delta: 1 | -1): void;
  /** Stops listening to the router. */
  close(): void;
}

/** Time-to-first-token and duration buckets, seconds. */
const TTFT_BUCKETS = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30];
const DURATION_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120, 300];

const BREAKER_VALUE = { closed: 0, 'half-open': 1, open: 2 } as const;

/**
 * A cache of label children: `labels()` hashes its arguments on every call, this looks the child
 * up once per distinct label set.
 */
function cached<C>(make: (...values: string[]) => C): (...values: string[]) => C {
  const children = new Map<string, C>();
  return (...values) => {
    const key = values.join('\u0000');
    let child = children.get(key);
    if (child === undefined) {
      child = make(...values);
      children.set(key, child);
    }
    return child;
  };
}

/**
 * Registers the gateway's metrics in `registry` (never the global one) and subscribes to the
 * router's events. Names and labels are listed in docs/gateway.md ("Metrics").
 *
 * 1. Per request (not per chunk): requests by provider, model and outcome; time to first token;
 *    duration; tokens; cost; HTTP responses by endpoint and status.
 * 2. From `router.events$`: attempts by candidate and outcome, retries, failovers, skips,
 *    cooldowns.
 * 3. At scrape time, from `router.health()`: breaker state and active upstream streams per
 *    candidate; and the gateway's open streams.
 */
export function createGatewayMetrics(registry: Registry, router: Router): GatewayMetrics {
  const registers = [registry];
  const requests = new Counter({
    name: 'rxllm_requests_total',
    help: 'Chat completion requests, by serving provider and model ("none" before any) and outcome.',
    labelNames: ['provider', 'model', 'outcome'] as const,
    registers,
  });
  const httpResponses = new Counter({
    name: 'rxllm_http_responses_total',
    help: 'HTTP responses, by endpoint and status.',
    labelNames: ['endpoint', 'status'] as const,
    registers,
  });
  const ttft = new Histogram({
    name: 'rxllm_time_to_first_token_seconds',
    help: "Time from the request's arrival to the first chunk sent to the client.",
    labelNames: ['provider', 'model'] as const,
    buckets: TTFT_BUCKETS,
    registers,
  });
  const duration = new Histogram({
    name: 'rxllm_request_duration_seconds',
    help: 'Time from the arrival of a chat completion request to the end of its response.',
    labelNames: ['provider', 'model', 'outcome'] as const,
    buckets: DURATION_BUCKETS,
    registers,
  });
  const tokens = new Counter({
    name: 'rxllm_tokens_total',
    help: 'Tokens billed, by provider, model and type (prompt or completion).',
    labelNames: ['provider', 'model', 'type'] as const,
    registers,
  });
  const cost = new Counter({
    name: 'rxllm_cost_usd_total',
    help: 'Cost of the answers in USD, by provider and model (unpriced models count 0).',
    labelNames: ['provider', 'model'] as const,
    registers,
  });
  const attempts = new Counter({
    name: 'rxllm_attempts_total',
    help: 'Upstream calls, by candidate (provider/model) and outcome (success, failure, cancelled).',
    labelNames: ['candidate', 'outcome'] as const,
    registers,
  });
  const retries = new Counter({
    name: 'rxllm_retries_total',
    help: 'Retries of the same candidate, by candidate.',
    labelNames: ['candidate'] as const,
    registers,
  });
  const failovers = new Counter({
    name: 'rxllm_failovers_total',
    help: 'Moves to another candidate, by from, to and mode (restart, resume, regenerate).',
    labelNames: ['from', 'to', 'mode'] as const,
    registers,
  });
  const skips = new Counter({
    name: 'rxllm_skips_total',
    help: 'Candidates not called, by candidate and reason (breaker-open, cooldown, context-window).',
    labelNames: ['candidate', 'reason'] as const,
    registers,
  });
  const cooldowns = new Counter({
    name: 'rxllm_cooldowns_total',
    help: 'Rate-limit cooldowns started, by provider.',
    labelNames: ['provider'] as const,
    registers,
  });
  let openStreams = 0;
  new Gauge({
    name: 'rxllm_active_streams',
    help: 'Streams the gateway is sending now (chat completions and session viewers).',
    registers,
    collect() {
      this.set(openStreams);
    },
  });
  const breaker = new Gauge({
    name: 'rxllm_breaker_state',
    help: 'Circuit breaker state per candidate: 0 closed, 1 half-open, 2 open.',
    labelNames: ['candidate'] as const,
    registers,
    collect() {
      breaker.reset();
      upstream.reset();
      for (const c of router.health().candidates) {
        breaker.labels(c.candidate).set(BREAKER_VALUE[c.breaker]);
        upstream.labels(c.candidate).set(c.activeStreams);
      }
    },
  });
  const upstream = new Gauge({
    name: 'rxllm_upstream_active_streams',
    help: 'Upstream streams running now, per candidate.',
    labelNames: ['candidate'] as const,
    registers,
  });

  const requestsOf = cached((p, m, o) => requests.labels(p, m, o));
  const httpOf = cached((e, s) => httpResponses.labels(e, s));
  const ttftOf = cached((p, m) => ttft.labels(p, m));
  const durationOf = cached((p, m, o) => duration.labels(p, m, o));
  const tokensOf = cached((p, m, t) => tokens.labels(p, m, t));
  const costOf = cached((p, m) => cost.labels(p, m));
  const attemptsOf = cached((c, o) => attempts.labels(c, o));
  const retriesOf = cached((c) => retries.labels(c));

  const onEvent = (event: RouterEvent): void => {
    switch (event.type) {
      case 'attempt-end':
        attemptsOf(event.candidate, event.outcome).inc();
        break;
      case 'retry':
        retriesOf(event.candidate).inc();
        break;
      case 'failover':
        failovers.labels(event.from, event.to, event.mode).inc();
        break;
      case 'skip':
        skips.labels(event.candidate, event.reason).inc();
        break;
      case 'cooldown':
        cooldowns.labels(event.provider).inc();
        break;
      default:
        break;
    }
  };
  const subscription: Subscription = router.events$.subscribe({
    next: onEvent,
    error: () => undefined,
  });

  return {
    record(record, endpoint) {
      httpOf(endpoint, String(record.status)).inc();
      // Session viewers are not requests of their own: only chat completions count below.
      if (record.outcome === undefined || endpoint !== '/v1/chat/completions') return;
      const provider = record.provider ?? 'none';
      const model = record.servedModel ?? 'none';
      requestsOf(provider, model, record.outcome).inc();
      durationOf(provider, model, record.outcome).observe(record.durationMs / 1000);
      if (record.ttftMs !== undefined) ttftOf(provider, model).observe(record.ttftMs / 1000);
      if (record.promptTokens !== undefined && record.promptTokens > 0) {
        tokensOf(provider, model, 'prompt').inc(record.promptTokens);
      }
      if (record.completionTokens !== undefined && record.completionTokens > 0) {
        tokensOf(provider, model, 'completion').inc(record.completionTokens);
      }
      if (typeof record.costUsd === 'number' && record.costUsd > 0) {
        costOf(provider, model).inc(record.costUsd);
      }
    },
    streams(delta) {
      openStreams += delta;
    },
    close() {
      subscription.unsubscribe();
    },
  };
}
