import type { Observer, Subscription } from 'rxjs';
import { textDeltas, type ChatRequest, type Router } from './rx-llm-router';

/** Where an answer is shown: its text as it streams (`next`), then how it ended. */
export type AnswerView = Observer<string>;

/** Streams one routed answer into `view`, as session `sessionId`. Unsubscribe to abort it. */
export function renderAnswer(
  router: Router,
  request: ChatRequest,
  sessionId: string,
  view: AnswerView,
): Subscription {
  return router.stream(request, { sessionId }).pipe(textDeltas()).subscribe(view);
}

/**
 * Shows a session in a second view: the text that arrived so far at once, then the live text.
 * No second request is made, and the first view keeps streaming if this one leaves.
 */
export function mirrorAnswer(router: Router, sessionId: string, view: AnswerView): Subscription {
  return router.sessions.attach(sessionId).pipe(textDeltas()).subscribe(view);
}
