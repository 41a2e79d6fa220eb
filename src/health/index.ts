// Health statistics: explicit named exports only. Browser-safe, no timers: every time is passed in.

export type { CandidateHealth, HealthCounts, HealthSnapshot } from './health-snapshot';
export { LatencyWindow } from './latency-window';
export type { LatencyWindowConfig } from './latency-window';
export { RollingCounts } from './rolling-counts';
export type { HealthCountKind, RollingCountsConfig } from './rolling-counts';
export { ThroughputWindow } from './throughput-window';
export type { ThroughputWindowConfig } from './throughput-window';
