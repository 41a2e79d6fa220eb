/** Counts over the health window. */
export interface HealthCounts {
  success: number;
  failure: number;
  timeout: number;
  /** Calls refused before being made: open breaker or cooldown. */
  rejection: number;
  cancel: number;
}

/** One candidate's health. */
export interface CandidateHealth {
  /** `provider/model`. */
  candidate: string;
  provider: string;
  model: string;
  breaker: 'closed' | 'open' | 'half-open';
  /** Counts over the last `windowMs`. */
  counts: HealthCounts;
  /** Time to first token over recent attempts, ms; `null` before any sample. */
  ttftP50Ms: number | null;
  ttftP95Ms: number | null;
  /** Completion tokens per second of streaming, over recent finished streams; `null` before any. */
  tokensPerSecond: number | null;
  /** Streams running now. */
  activeStreams: number;
  /** When the provider's 429 cooldown ends; `null` when not cooling. */
  cooldownUntil: number | null;
  /** The last active probe, if probes run. */
  lastProbe: { at: number; ok: boolean; latencyMs: number; code?: string } | null;
}

/** What `router.health$` emits. */
export interface HealthSnapshot {
  at: number;
  candidates: CandidateHealth[];
}
