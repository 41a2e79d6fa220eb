// The recipes of docs/recipes.md (examples/recipes/*.ts), run against a router of fake providers
// under virtual time: one frame is 1 ms, and nothing sleeps.
import { TestScheduler } from 'rxjs/testing';
import { costTicker } from '../../examples/recipes/cost-ticker';
import { startChat } from '../../examples/recipes/chat-app';
import { healthPanel } from '../../examples/recipes/health-panel';
import { mirrorAnswer, renderAnswer, type AnswerView } from '../../examples/recipes/render-answer';
import { createPricing } from '../../src/cost/pricing';
import { createRouter } from '../../src/router/create-router';
import type { Router } from '../../src/router/router';
import {
  chunkScript,
  chunksFromText,
  fakeProvider,
  type FakeAttempt,
  type FakeProvider,
} from '../../src/testing/index';

const request = { model: 'chat', messages: [{ role: 'user' as const, content: 'Say hello' }] };

/** A view that records what it was shown, with the frame, and how it ended. */
interface RecordedView extends AnswerView {
  readonly shown: [number, string][];
  ended: string | undefined;
  text(): string;
}

function recordingView(scheduler: TestScheduler): RecordedView {
  const view: RecordedView = {
    shown: [],
    ended: undefined,
    next: (text) => {
      view.shown.push([scheduler.now(), text]);
    },
    error: (error: unknown) => {
      view.ended = (error as Error).name;
    },
    complete: () => {
      view.ended = 'complete';
    },
    text: () => view.shown.map(([, t]) => t).join(''),
  };
  return view;
}

interface Setup {
  router: Router;
  primary: FakeProvider;
  backup: FakeProvider;
}

/**
 * `chat`: `primary/p-1` answers 503 at frame 2 (no retries); `backup/b-1` then streams "Hello
 * reactive world", a chunk every 11 frames: the words at frames 12, 23 and 34, the finish at 45,
 * the usage (4 prompt, 3 completion tokens) at 56; it completes at 57. b-1 costs $1,000 (input)
 * and $2,000 (output) per million tokens: $0.001 and $0.002 a token.
 */
function setup(backupAttempt?: FakeAttempt): Setup {
  const primary = fakeProvider({ name: 'primary', attempts: { marble: '--#', error: 503 } });
  const chunks = chunksFromText('Hello reactive world', {
    provider: 'backup',
    model: 'b-1',
    usage: { prompt: 4 },
  });
  const backup = fakeProvider({
    name: 'backup',
    attempts: backupAttempt ?? chunkScript(chunks, { gap: 10 }),
  });
  const router = createRouter({
    providers: { primary, backup },
    routes: {
      chat: [
        { provider: 'primary', model: 'p-1' },
        { provider: 'backup', model: 'b-1' },
      ],
    },
    defaults: { retry: false },
    pricing: createPricing({ catalog: null, models: { 'b-1': { input: 1000, output: 2000 } } }),
  });
  return { router, primary, backup };
}

describe('recipes (docs/recipes.md)', () => {
  let scheduler: TestScheduler;
  beforeEach(() => {
    scheduler = new TestScheduler((actual, expected) => {
      expect(actual).toEqual(expected);
    });
  });

  it('should render one stream in two views with a single upstream call', async () => {
    const { router, primary, backup } = setup();
    const main = recordingView(scheduler);
    const mirror = recordingView(scheduler);
    scheduler.run(({ cold }) => {
      renderAnswer(router, request, 'chat-1', main);
      // A second view opens at frame 25, after two words.
      cold('25ms |').subscribe({ complete: () => mirrorAnswer(router, 'chat-1', mirror) });
    });
    expect(main.shown).toEqual([
      [12, 'Hello'],
      [23, ' reactive'],
      [34, ' world'],
    ]);
    expect(mirror.shown).toEqual([
      [25, 'Hello'], // the replay, at once
      [25, ' reactive'],
      [34, ' world'], // then live
    ]);
    expect([main.ended, mirror.ended]).toEqual(['complete', 'complete']);
    expect([primary.attempts.length, backup.attempts.length]).toEqual([1, 1]);
    await router.close();
  });

  it('should keep the second view streaming when the first one leaves', async () => {
    const { router, backup } = setup();
    const main = recordingView(scheduler);
    const mirror = recordingView(scheduler);
    scheduler.run(({ cold }) => {
      const first = renderAnswer(router, request, 'chat-1', main);
      mirrorAnswer(router, 'chat-1', mirror);
      cold('15ms |').subscribe({
        complete: () => {
          first.unsubscribe();
        },
      });
    });
    expect(main.text()).toBe('Hello');
    expect(mirror.text()).toBe('Hello reactive world');
    expect(backup.attempts[0]?.outcome).toBe('completed');
    await router.close();
  });

  it('should end both views with the same error when no candidate can answer', async () => {
    const { router } = setup({ marble: '---#', error: 503 });
    const main = recordingView(scheduler);
    const mirror = recordingView(scheduler);
    scheduler.run(() => {
      renderAnswer(router, request, 'chat-1', main);
      mirrorAnswer(router, 'chat-1', mirror);
    });
    expect([main.ended, mirror.ended]).toEqual([
      'AllProvidersFailedError',
      'AllProvidersFailedError',
    ]);
    await router.close();
  });

  it('should fail a mirror of a session that never started', async () => {
    const { router } = setup();
    const main = recordingView(scheduler);
    const mirror = recordingView(scheduler);
    scheduler.run(() => {
      renderAnswer(router, { ...request, model: 'nope' }, 'chat-1', main);
      mirrorAnswer(router, 'chat-1', mirror); // the route was unknown: no session
    });
    expect([main.ended, mirror.ended]).toEqual(['UnknownModelError', 'RouterError']);
    await router.close();
  });

  it('should tick the cost as the answer streams, ending with the billed total', async () => {
    const { router } = setup();
    const lines: [number, string][] = [];
    scheduler.run(() => {
      renderAnswer(router, request, 'chat-1', recordingView(scheduler));
      costTicker(router, 'chat-1').subscribe((line) => lines.push([scheduler.now(), line]));
    });
    // Estimates first: the prompt (estimatePromptTokens: 9 tokens at $0.001) plus the text at 4
    // characters a token, rounded up ($0.002 each); then the usage: 4 × $0.001 + 3 × $0.002.
    expect(lines).toEqual([
      [0, '$ – · 0 tokens · pending · primary/p-1'],
      [2, '$ – · 0 tokens · pending · backup/b-1'], // failed over
      [12, '~$0.013000 · 2 tokens · streaming · backup/b-1'], // 'Hello'
      [23, '~$0.017000 · 4 tokens · streaming · backup/b-1'], // 'Hello reactive'
      [34, '~$0.019000 · 5 tokens · streaming · backup/b-1'], // 'Hello reactive world'
      [56, '$0.010000 · 3 tokens · streaming · backup/b-1'], // the usage: exact
      [57, '$0.010000 · 3 tokens · completed · backup/b-1'],
    ]);
    await router.close();
  });

  it('should refresh the health panel every second until the router closes', () => {
    const { router } = setup();
    const panels: [number, string[]][] = [];
    let completedAt: number | undefined;
    scheduler.run(({ cold }) => {
      renderAnswer(router, request, 'chat-1', recordingView(scheduler));
      healthPanel(router).subscribe({
        next: (rows) => panels.push([scheduler.now(), rows]),
        complete: () => (completedAt = scheduler.now()),
      });
      cold('2500ms |').subscribe({ complete: () => void router.close() });
    });
    expect(panels).toEqual([
      [0, ['primary/p-1 [closed] · 0 ok, 0 failed, 0 timed out, 0 skipped · 1 streaming']],
      [1000, rowsAfterTheAnswer],
      [2000, rowsAfterTheAnswer],
    ]);
    expect(completedAt).toBe(2500);
  });

  it('should wire every panel to one question with startChat', async () => {
    const { router, backup } = setup();
    const answer = recordingView(scheduler);
    const mirror = recordingView(scheduler);
    const costs: string[] = [];
    const health: string[][] = [];
    scheduler.run(({ cold }) => {
      const app = startChat(
        router,
        request,
        {
          answer,
          mirror,
          cost: (line) => {
            costs.push(line);
          },
          health: (rows) => {
            health.push(rows);
          },
        },
        'chat-1',
      );
      cold('1500ms |').subscribe({
        complete: () => {
          app.unsubscribe();
        },
      });
    });
    expect(answer.text()).toBe('Hello reactive world');
    expect(mirror.text()).toBe('Hello reactive world');
    expect(costs.at(-1)).toBe('$0.010000 · 3 tokens · completed · backup/b-1');
    expect(health).toHaveLength(2); // frames 0 and 1000, then the app was torn down
    expect(health[1]).toEqual(rowsAfterTheAnswer);
    expect(backup.attempts).toHaveLength(1);
    await router.close();
  });
});

/** The health rows once the answer is done: p-1 failed once; b-1 streamed 3 tokens in 45 ms. */
const rowsAfterTheAnswer = [
  'primary/p-1 [closed] · 0 ok, 1 failed, 0 timed out, 0 skipped',
  'backup/b-1 [closed] · 1 ok, 0 failed, 0 timed out, 0 skipped · ttft 10/10 ms · 67 tokens/s',
];
