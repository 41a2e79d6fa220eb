import { distinctUntilChanged, map, type Observable } from 'rxjs';
import type { Router, SessionInfo } from './rx-llm-router';

/**
 * One session's cost, live: a line per change (`~$0.000042 · 12 tokens · streaming ·
 * openai/gpt-4o-mini`), ending with the billed total when the session ends.
 */
export function costTicker(router: Router, sessionId: string): Observable<string> {
  return router.sessions.watch(sessionId).pipe(map(costLine), distinctUntilChanged());
}

/** `~` marks an estimate: the provider's usage has not arrived yet. */
export function costLine(session: SessionInfo): string {
  const { costUsd, estimated, completionTokens, state, candidate } = session;
  const cost = costUsd === null ? '$ –' : `${estimated ? '~' : ''}$${costUsd.toFixed(6)}`;
  return [cost, `${completionTokens} tokens`, state, candidate ?? 'no candidate yet'].join(' · ');
}
