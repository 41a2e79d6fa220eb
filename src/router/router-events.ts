import type { FailoverMode } from '../operators/failover';

/** Fields every {@link RouterEvent} has. */
interface EventBase {
  /** `scheduler.now()` when it happened (epoch ms in real time). */
  at: number;
}

/** A call to a candidate is about to be made (a retry is a new attempt). */
export interface AttemptEvent extends EventBase {
  type: 'attempt';
  sessionId: string;
  candidate: string;
  provider: string;
  model: string;
  /** The attempt's number on this candidate, from 1. */
  attempt: number;
}

/** An attempt ended; `outcome` says how. */
export interface AttemptEndEvent extends EventBase {
  type: 'attempt-end';
  sessionId: string;
  candidate: string;
  outcome: 'success' | 'failure' | 'cancelled';
  /** The error's code on failure. */
  code?: string;
  /** ms from the attempt's start to its first content chunk, if one arrived. */
  ttftMs?: number;
}

/** A candidate was not called: its breaker is open, its provider cools down, or the prompt cannot fit. */
export interface SkipEvent extends EventBase {
  type: 'skip';
  sessionId: string;
  candidate: string;
  reason: 'breaker-open' | 'cooldown' | 'context-window';
}

/** A failed attempt will be retried on the same candidate after `delayMs`. */
export interface RetryEvent extends EventBase {
  type: 'retry';
  sessionId: string;
  candidate: string;
  /** The attempt about to be made, from 2. */
  attempt: number;
  delayMs: number;
  code: string | undefined;
  message: string;
}

/** The answer moves to another candidate. */
export interface FailoverEvent extends EventBase {
  type: 'failover';
  sessionId: string;
  from: string;
  to: string;
  /** `restart` before any content; `resume` or `regenerate` continue an answer under way. */
  mode: FailoverMode;
  code: string | undefined;
  reason: string;
}

/** A candidate's breaker changed state. */
export interface BreakerEvent extends EventBase {
  type: 'breaker';
  candidate: string;
  state: 'open' | 'half-open' | 'closed';
}

/** A provider answered 429: candidates of this provider are skipped until `until`. */
export interface CooldownEvent extends EventBase {
  type: 'cooldown';
  provider: string;
  until: number;
  /** The provider's Retry-After, when it sent one. */
  retryAfterMs: number | undefined;
}

/** A request was stopped by its budget. */
export interface BudgetEvent extends EventBase {
  type: 'budget';
  sessionId: string;
  maxUsd: number;
  spentUsd: number;
}

/** An active health probe finished. */
export interface ProbeEvent extends EventBase {
  type: 'probe';
  candidate: string;
  ok: boolean;
  latencyMs: number;
  code?: string;
}

/** Everything `router.events$` emits. */
export type RouterEvent =
  | AttemptEvent
  | AttemptEndEvent
  | SkipEvent
  | RetryEvent
  | FailoverEvent
  | BreakerEvent
  | CooldownEvent
  | BudgetEvent
  | ProbeEvent;

/** The `type`s of {@link RouterEvent}. */
export type RouterEventType = RouterEvent['type'];
