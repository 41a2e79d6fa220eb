// The chat app of docs/recipes.md, on the router of docs/router.md's full example, against the
// simulator: real HTTP providers, real time, and no handle left at the end.
import { startChat, type ChatUi } from '../../examples/recipes/chat-app';
import { costLine } from '../../examples/recipes/cost-ticker';
import { createAppRouter } from '../../examples/recipes/create-app-router';
import type { AnswerView } from '../../examples/recipes/render-answer';
import type { Router } from '../../src/router/router';
import { expectedText } from '../../src/simulator/index';
import {
  createTestProvider,
  keysPerProvider,
  useProviderSimulator,
} from '../helpers/provider-fixtures';

const keys = keysPerProvider('recipes');
const env = useProviderSimulator({ keys });

const question = { model: 'fast', messages: [{ role: 'user' as const, content: 'Why RxJS?' }] };
const answerText = expectedText('openai', { model: 'gpt-4o-mini', messages: question.messages });

function appRouter(): Router {
  const origin = env.sim.url;
  // The router closes its providers (closeProviders: true).
  return createAppRouter({
    openai: createTestProvider('openai', { origin, keys }),
    anthropic: createTestProvider('anthropic', { origin, keys }),
    google: createTestProvider('google', { origin, keys }),
  });
}

/** A view that resolves `done` with the error (or undefined) when its answer ends. */
function view(): AnswerView & { text: string; done: Promise<unknown> } {
  let resolve: (error: unknown) => void = () => undefined;
  const v = {
    text: '',
    done: new Promise<unknown>((r) => (resolve = r)),
    next: (text: string) => {
      v.text += text;
    },
    error: (error: unknown) => {
      resolve(error);
    },
    complete: () => {
      resolve(undefined);
    },
  };
  return v;
}

/** The app's UI, recording everything; `healthy` resolves when `row` appears in the panel. */
function recordingUi(row: RegExp): ChatUi & {
  answer: ReturnType<typeof view>;
  mirror: ReturnType<typeof view>;
  costs: string[];
  panels: string[][];
  healthy: Promise<void>;
} {
  let resolve: () => void = () => undefined;
  const ui = {
    answer: view(),
    mirror: view(),
    costs: [] as string[],
    panels: [] as string[][],
    healthy: new Promise<void>((r) => (resolve = r)),
    cost: (line: string) => ui.costs.push(line),
    health: (rows: string[]) => {
      ui.panels.push(rows);
      if (rows.some((r) => row.test(r))) resolve();
    },
  };
  return ui;
}

afterEach(() => {
  env.sim.reset();
  env.sim.setScenarios([]);
});

it('should show an answer served by the fallback in both views, with its cost and health', async () => {
  env.sim.setScenarios([
    { match: { format: 'openai' }, faults: ['status-503'], then: 'repeat-last' },
  ]);
  const router = appRouter();
  const ui = recordingUi(/^anthropic\/claude-3-5-haiku-latest \[closed\] · 1 ok/);
  const app = startChat(router, question, ui, 'chat-1');

  const [answerError, mirrorError] = await Promise.all([ui.answer.done, ui.mirror.done]);
  await ui.healthy; // the next snapshot, within health.intervalMs
  app.unsubscribe();
  const session = router.sessions.get('chat-1');
  await router.close();

  expect([answerError, mirrorError]).toEqual([undefined, undefined]);
  expect(ui.answer.text).toBe(answerText);
  expect(ui.mirror.text).toBe(answerText);
  // gpt-4o-mini: 503 and one retry; claude-3-5-haiku-latest: one call for both views.
  expect(env.sim.attempts.map((a) => [a.format, a.status])).toEqual([
    ['openai', 503],
    ['openai', 503],
    ['anthropic', 200],
  ]);
  expect(session).toMatchObject({ state: 'completed', retries: 1, failovers: 1, attempts: 3 });
  expect(ui.costs[0]).toBe('$ – · 0 tokens · pending · openai/gpt-4o-mini');
  expect(ui.costs.at(-1)).toBe(costLine(session!));
  expect(ui.costs.at(-1)).toMatch(
    /^\$0\.\d{6} · 24 tokens · completed · anthropic\/claude-3-5-haiku-latest$/,
  );
  expect(ui.panels.at(-1)).toEqual([
    'openai/gpt-4o-mini [closed] · 0 ok, 2 failed, 0 timed out, 0 skipped',
    expect.stringMatching(
      /^anthropic\/claude-3-5-haiku-latest \[closed\] · 1 ok, 0 failed, 0 timed out, 0 skipped · ttft \d+\/\d+ ms · \d+ tokens\/s$/,
    ),
  ]);
});

it('should resume an answer cut mid-stream on the next candidate, seen whole in both views', async () => {
  env.sim.setScenarios([{ match: { format: 'openai' }, faults: ['reset-after-5'] }]);
  const router = appRouter();
  const ui = recordingUi(/^anthropic\/claude-3-5-haiku-latest \[closed\] · 1 ok/);
  const app = startChat(router, question, ui, 'chat-2');

  await Promise.all([ui.answer.done, ui.mirror.done]);
  await ui.healthy;
  app.unsubscribe();
  const session = router.sessions.get('chat-2');
  await router.close();

  expect(ui.answer.text).toBe(answerText);
  expect(ui.mirror.text).toBe(answerText);
  expect(env.sim.attempts.map((a) => [a.format, a.outcome, a.tokensSent])).toEqual([
    ['openai', 'reset', 5],
    ['anthropic', 'completed', 19], // continued from a prefill of the 5 tokens
  ]);
  expect(session).toMatchObject({ state: 'completed', failovers: 1, retries: 0 });
  // The usage covers both legs: the 19 tokens reported, plus an estimate of the 5 cut ones.
  expect(session?.usage?.completion_tokens).toBeGreaterThan(19);
  expect(ui.costs.at(-1)).toBe(costLine(session!));
  expect(ui.panels.at(-1)?.[0]).toMatch(
    /^openai\/gpt-4o-mini \[closed\] · 0 ok, 1 failed, 0 timed out, 0 skipped · ttft \d+\/\d+ ms$/,
  );
});
