import { Subscription } from 'rxjs';
import { costTicker } from './cost-ticker';
import { healthPanel } from './health-panel';
import { mirrorAnswer, renderAnswer, type AnswerView } from './render-answer';
import type { ChatRequest, Router } from './rx-llm-router';

/** What the app shows: the answer in two views, its cost, and the router's health. */
export interface ChatUi {
  answer: AnswerView;
  mirror: AnswerView;
  cost: (line: string) => void;
  health: (rows: string[]) => void;
}

/** Asks one question and wires every panel to it. Unsubscribe to tear everything down. */
export function startChat(
  router: Router,
  request: ChatRequest,
  ui: ChatUi,
  sessionId: string,
): Subscription {
  const app = new Subscription();
  app.add(healthPanel(router).subscribe(ui.health));
  app.add(renderAnswer(router, request, sessionId, ui.answer)); // starts the session
  app.add(mirrorAnswer(router, sessionId, ui.mirror));
  app.add(costTicker(router, sessionId).subscribe(ui.cost));
  return app;
}
