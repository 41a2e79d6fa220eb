import { map, type Observable } from 'rxjs';
import type { CandidateHealth, Router } from './rx-llm-router';

/** The router's health as text rows, one per candidate, refreshed every `health.intervalMs`. */
export function healthPanel(router: Router): Observable<string[]> {
  return router.health$.pipe(
    map((snapshot) => snapshot.candidates.map((c) => healthRow(c, snapshot.at))),
  );
}

/** e.g. `openai/gpt-4o-mini [closed] · 12 ok, 1 failed, 0 timed out, 0 skipped · ttft 180/420 ms` */
export function healthRow(c: CandidateHealth, now: number): string {
  const { success, failure, timeout, rejection } = c.counts;
  const parts = [
    `${c.candidate} [${c.breaker}]`,
    `${success} ok, ${failure} failed, ${timeout} timed out, ${rejection} skipped`,
  ];
  if (c.ttftP50Ms !== null) parts.push(`ttft ${c.ttftP50Ms}/${String(c.ttftP95Ms)} ms`);
  if (c.tokensPerSecond !== null) parts.push(`${c.tokensPerSecond.toFixed(0)} tokens/s`);
  if (c.activeStreams > 0) parts.push(`${c.activeStreams} streaming`);
  if (c.cooldownUntil !== null) parts.push(`cooling down ${c.cooldownUntil - now} ms`);
  return parts.join(' · ');
}
