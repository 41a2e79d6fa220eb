import { Observable, catchError, defer, throwError, type MonoTypeOperatorFunction } from 'rxjs';
import type { ChunkChoice, ChunkDelta, StreamingChunk, Usage } from '../chunk/streaming-chunk';
import { IncompleteStreamError } from '../errors/incomplete-stream-error';
import { isProviderRefusal } from '../errors/provider-refusal';
import { hasErrorCode, isRouterError, type RouterErrorCode } from '../errors/router-error';
import { currentFlow, runWithFlow } from '../flow/flow-control';
import type { Provider } from '../providers/provider';
import type { ChatRequest } from '../request/chat-request';
import { isContentChunk } from './is-content-chunk';
import { addUsage, estimateTokensByLength, withPrefill, type PrefilledRequest } from './prefill';

/** What {@link failover} does when a leg breaks off after content was emitted. */
export type FailoverPolicy = 'error' | 'resume';

/**
 * One leg {@link failover} can switch to: anything that streams a {@link ChatRequest}. Build one
 * from a provider with {@link candidate}; the router builds them from its routes.
 */
export interface FailoverCandidate {
  /** Names the candidate in {@link FailoverInfo} (e.g. `anthropic/claude-sonnet-4-5`). */
  readonly name: string;
  /**
   * The model this candidate serves. After a non-retryable error, candidates with the failed
   * leg's model are skipped: the same model would fail the same way.
   */
  readonly model: string;
  /**
   * The provider (account) behind this candidate, if known. After an authentication error, an
   * exhausted quota or a request the provider's API cannot take, which belong to the provider and
   * not to the model, candidates of that provider are skipped instead, and the same model
   * elsewhere may still be tried.
   */
  readonly provider?: string | undefined;
  /** A cold stream of the answer to `request`; unsubscribing must abort the request. */
  stream(request: ChatRequest): Observable<StreamingChunk>;
}

/**
 * How the next leg starts:
 * - `restart`: nothing was emitted yet; the next candidate answers the original request.
 * - `resume`: the next candidate continues the partial answer from an assistant prefill.
 * - `regenerate`: the candidate answers the original request again, and only what follows the
 *   text already emitted is spliced in (a candidate that rejected the prefill, `from === to`).
 */
export type FailoverMode = 'restart' | 'resume' | 'regenerate';

/** What {@link FailoverConfig.onFailover} is told before each switch. */
export interface FailoverInfo {
  /** The leg that failed: the source's name (see {@link FailoverConfig.source}) or a candidate's. */
  from: string;
  /** The candidate about to be subscribed. */
  to: string;
  /** The error that ended the `from` leg. */
  error: unknown;
  /** True when `to` continues an answer already under way (`mode` is `resume` or `regenerate`). */
  resumed: boolean;
  mode: FailoverMode;
  /** Choice 0's text emitted so far (empty for a `restart`). */
  partialText: string;
}

/** Configuration of {@link failover}. */
export interface FailoverConfig {
  /** The request the source streams; candidates are sent it (or it plus a prefill). Required. */
  request: ChatRequest;
  /**
   * What to do when a leg breaks off after content was emitted. `'error'` raises an
   * `IncompleteStreamError` with the partial text; `'resume'` continues the answer on the next
   * candidate from an assistant prefill. Default `'error'`.
   */
  policy?: FailoverPolicy;
  /**
   * The source leg's name (for {@link FailoverInfo}), model and provider (see
   * {@link FailoverCandidate.provider}). Default: `request.model` for name and model.
   */
  source?: { name?: string; model?: string; provider?: string | undefined };
  /** Called before each switch, e.g. to log or count failovers. If it throws, the stream errors. */
  onFailover?: (info: FailoverInfo) => void;
  /**
   * Decides whether an error may move the answer to another candidate at all. Default
   * {@link isFailoverableError}: any `RouterError` except validation, content-filter and budget
   * errors. Whether the same model may be tried again depends on `isRetryable`, whatever this says.
   */
  isFailoverable?: (error: unknown) => boolean;
  /**
   * Estimates the tokens of a text no provider reported usage for (the part a cut leg streamed,
   * and the prefill). Default: one token per 4 characters, rounded up.
   */
  estimateTokens?: (text: string) => number;
}

const neverFailover: ReadonlySet<RouterErrorCode> = new Set<RouterErrorCode>([
  'RXLLM_VALIDATION',
  'RXLLM_CONTENT_FILTERED',
  'RXLLM_BUDGET_EXCEEDED',
  'RXLLM_CANCELLED',
  'RXLLM_ROUTER_CLOSED',
  'RXLLM_UNKNOWN_MODEL',
]);

/**
 * The default {@link FailoverConfig.isFailoverable}: a `RouterError` other than a
 * `ValidationError` (the input is wrong everywhere), a content-filter refusal (another model must
 * not be used to get round a filter), a budget error (a local limit) or a cancel. Errors that are not
 * `RouterError`s (a bug, an abort) are never failed over.
 */
export function isFailoverableError(error: unknown): boolean {
  return isRouterError(error) && !neverFailover.has(error.code);
}

/**
 * A {@link FailoverCandidate} that streams with `provider`, the request's model replaced by
 * `model`. Its name is `provider.name/model` unless given.
 *
 * ```ts
 * const backup = candidate(anthropic({ apiKey }), 'claude-sonnet-4-5');
 * ```
 */
export function candidate(provider: Provider, model: string, name?: string): FailoverCandidate {
  if (
    typeof provider !== 'object' ||
    typeof (provider as Partial<Provider>).stream !== 'function'
  ) {
    throw new TypeError('candidate: expected a Provider (an object with stream(request)).');
  }
  if (typeof model !== 'string' || model === '') {
    throw new TypeError(
      `candidate: model must be a non-empty string, got ${JSON.stringify(model)}.`,
    );
  }
  return {
    name: name ?? `${provider.name}/${model}`,
    model,
    provider: provider.name,
    stream: (request) => provider.stream({ ...request, model }),
  };
}

/**
 * Switches a chunk stream to the next candidate when it fails: invisibly before the first content
 * chunk, and after it either with a typed error carrying the partial text (`'error'`) or by
 * continuing the answer on the next candidate (`'resume'`).
 *
 * <span class="informal">`catchError` for LLM streams: the next provider takes over, and a cut
 * answer is never passed off as complete.</span>
 *
 * 1. The source is the first leg; `candidates` are the next ones, tried in order, each at most
 *    once. A leg's non-content chunks (role-only, empty: see `isContentChunk`) are held back until
 *    its first content chunk; a leg that fails before content drops them, so a failed leg emits
 *    nothing and a role chunk is never emitted twice. A leg that completes emits them before
 *    completing.
 * 2. Which errors switch: `isFailoverable(error)` (default {@link isFailoverableError}: validation,
 *    content-filter, budget and non-`RouterError` errors never switch; they are rethrown as they
 *    are, before or after content). A retryable error (`isRetryable`) may switch to any
 *    candidate. A non-retryable one goes only to a candidate with a different `model` (candidates
 *    with the model of a leg that failed that way are skipped), except a provider-wide error
 *    (authentication, a quota 429 that is not retryable, or the router's refusal of a request the
 *    provider's API cannot take) of a leg whose `provider` is known: then that provider's
 *    candidates are skipped, and the same model elsewhere may be tried.
 * 3. Before the first content chunk: the next eligible candidate is sent `request`. When none is
 *    left, the last leg's error is rethrown unchanged.
 * 4. After content, policy `'error'` (default) errors with an `IncompleteStreamError` whose
 *    `partialText` is choice 0's text emitted so far and whose `cause` is the leg's error.
 * 5. After content, policy `'resume'` sends the next eligible candidate `request` plus an
 *    assistant prefill of the partial text (merged into a trailing assistant message if the
 *    request has one; trailing whitespace trimmed, as Anthropic requires, and dropped again from
 *    the start of the continuation). Only the continuation is emitted. Resuming needs an answer
 *    that is only choice 0's text so far: with tool-call data, refusal or reasoning emitted, `n`
 *    above 1, or a finish reason already emitted, policy `'error'` applies.
 * 6. If that candidate rejects the prefill (an `RXLLM_INVALID_REQUEST` error before any content),
 *    it is sent `request` again without the prefill and the answer is spliced: the regenerated
 *    text must start with exactly the text already emitted; that prefix is skipped (with the
 *    reasoning streamed before it) and only the rest is emitted. A regenerated answer that
 *    diverges (or ends short) is unsubscribed and the stream errors with the
 *    `IncompleteStreamError` of the original cut, never with the prefill's 400.
 * 7. Whenever no continuation works (no candidate left, a non-failoverable error on the way) the
 *    error is the `IncompleteStreamError` of the original cut: its `cause` is the error that cut
 *    the answer, not the errors of the attempts to continue it.
 * 8. In legs that continue an answer, `delta.role` is removed (the answer's role was sent) and
 *    chunks left empty are dropped. Chunks are otherwise passed through as the candidates emit
 *    them, so each names the provider and model that served it (ids change between legs).
 * 9. Usage: when a later leg reports usage, the usage of the earlier legs that streamed content is
 *    added to it, so the final usage chunk is what all legs were billed. A cut leg reports none,
 *    so it is estimated: its completion as `estimateTokens` of what it streamed, its prompt as the
 *    reporting leg's `prompt_tokens` minus the estimated prefill that leg was sent. Legs that
 *    failed before any content count zero.
 * 10. `onFailover({ from, to, error, resumed, mode, partialText })` is called before each switch.
 * 11. Each candidate is subscribed with the flow control that was current at the first
 *     subscription (`runWithFlow`), so a `for await` consumer's backpressure reaches every leg.
 * 12. Cold; unsubscribing unsubscribes the current leg, which aborts its request.
 *
 * ```
 * r = role-only, a b c = text, f = finish, u = usage, # = a retryable error
 *
 * before content (invisible):
 * source:      -r-#
 * candidate 1:    --r-a---b-u|           subscribed at 3 with `request`
 * failover:    -------(ra)b-u|           source's r dropped; candidate's r held back until a
 *
 * after content, policy 'resume':
 * source:      -r-a-----b#
 * candidate 1:           -r-c-f-u|       subscribed at 10 with `request` + assistant 'ab'
 * failover:    ---(ra)--b---c-f-u|       its r dropped; u = its usage + the source's estimate
 *
 * after content, policy 'error':
 * source:      -r-a-----b#
 * failover:    ---(ra)--b#               IncompleteStreamError, partialText 'ab', cause #
 * ```
 *
 * ## Example
 *
 * ```ts
 * import { anthropic, candidate, failover, openai, toCompletion } from 'rx-llm-router';
 *
 * const request = { model: 'gpt-4o-mini', messages: [{ role: 'user' as const, content: 'Hi' }] };
 * const gpt = openai({ apiKey: process.env.OPENAI_API_KEY! });
 * const claude = anthropic({ apiKey: process.env.ANTHROPIC_API_KEY! });
 *
 * const answer$ = gpt.stream(request).pipe(
 *   failover([candidate(claude, 'claude-sonnet-4-5')], {
 *     request,
 *     policy: 'resume',
 *     onFailover: ({ from, to, mode }) => console.log(`${from} -> ${to} (${mode})`),
 *   }),
 * );
 * const completion = await toCompletion(answer$);
 * console.log(completion.choices[0]?.message.content, completion.usage);
 * ```
 *
 * @see {@link retryBackoff}
 * @param candidates The legs after the source, in order of preference.
 * @param config The request, the policy, and the hooks.
 * @return A function that returns an Observable of one answer, served by as many legs as needed,
 * or the error that ended it.
 */
export function failover(
  candidates: readonly FailoverCandidate[],
  config: FailoverConfig,
): MonoTypeOperatorFunction<StreamingChunk> {
  validate(candidates, config);
  const {
    request,
    policy = 'error',
    source: sourceLeg = {},
    onFailover,
    isFailoverable = isFailoverableError,
    estimateTokens = estimateTokensByLength,
  } = config;
  const list = [...candidates];
  const sourceName = sourceLeg.name ?? request.model;
  const sourceModel = sourceLeg.model ?? request.model;
  const multiChoice = (request.n ?? 1) > 1;

  return (source$) =>
    defer(() => {
      // Read synchronously: later legs are subscribed from an error callback.
      const flow = currentFlow();
      const answer: AnswerState = {
        text: '',
        started: false,
        resumable: !multiChoice,
        cut: undefined,
        excluded: new Set(),
        excludedProviders: new Set(),
        next: 0,
        legs: [],
      };

      // One leg: its chunks rewritten and recorded (`onChunk`, synchronously, with no inner
      // subscription per chunk), then what it held back (`onComplete`). A throw from either
      // ends the leg with that error, for `onError`.
      const run = (leg: Leg): Observable<StreamingChunk> =>
        new Observable<StreamingChunk>((subscriber) => {
          answer.legs.push(leg);
          const emit = (chunk: StreamingChunk): void => {
            subscriber.next(chunk);
          };
          return runWithFlow(flow, () =>
            leg.stream$.subscribe({
              next(chunk) {
                try {
                  onChunk(leg, chunk, emit);
                } catch (error: unknown) {
                  subscriber.error(error);
                }
              },
              error(error: unknown) {
                subscriber.error(error);
              },
              complete() {
                try {
                  onComplete(leg, emit);
                } catch (error: unknown) {
                  subscriber.error(error);
                  return;
                }
                subscriber.complete();
              },
            }),
          );
        }).pipe(catchError((error: unknown) => onError(leg, error)));

      const onChunk = (
        leg: Leg,
        chunk: StreamingChunk,
        emit: (chunk: StreamingChunk) => void,
      ): void => {
        leg.streamed += generatedText(chunk);
        if (chunk.usage !== undefined) leg.usage = chunk.usage;
        if (isContentChunk(chunk)) leg.generated = true;
        let out: StreamingChunk | undefined = chunk;
        if (leg.mode === 'resume' || leg.mode === 'regenerate') out = continueAnswer(leg, chunk);
        if (out === undefined) return;
        if (out.usage !== undefined) out = withSummedUsage(leg, out, out.usage);
        if (!leg.emitted) {
          if (!isContentChunk(out)) {
            leg.held.push(out);
            return;
          }
          leg.emitted = true;
          const held = leg.held;
          leg.held = [];
          for (const c of held) record(c);
          record(out);
          for (const c of held) emit(c);
        } else {
          record(out);
        }
        emit(out);
      };

      const onComplete = (leg: Leg, emit: (chunk: StreamingChunk) => void): void => {
        // A regenerated answer that ends before reaching the emitted text cannot be spliced.
        if (leg.mode === 'regenerate' && leg.prefix !== '') throw new SpliceDivergence();
        const held = leg.held;
        leg.held = [];
        for (const c of held) record(c);
        for (const c of held) emit(c);
      };

      /** Notes what the consumer has now been shown. */
      const record = (chunk: StreamingChunk): void => {
        if (isContentChunk(chunk)) answer.started = true;
        for (const { index, delta, finish_reason } of chunk.choices) {
          if (finish_reason !== null) answer.resumable = false;
          if (index !== 0) {
            if (hasContent(delta)) answer.resumable = false;
            continue;
          }
          if (typeof delta.content === 'string') answer.text += delta.content;
          if (hasContentBesidesText(delta)) answer.resumable = false;
        }
      };

      /** Rewrites a chunk of a leg that continues an answer already under way. */
      const continueAnswer = (leg: Leg, chunk: StreamingChunk): StreamingChunk | undefined => {
        const choices = chunk.choices.map((choice): ChunkChoice => {
          const { role: _role, ...rest } = choice.delta;
          const delta: ChunkDelta = rest;
          const splicing = leg.mode === 'regenerate' && leg.prefix !== '';
          if (choice.index !== 0) {
            if (splicing && hasContent(delta)) throw new SpliceDivergence();
            return { ...choice, delta };
          }
          if (splicing) {
            if (
              (delta.tool_calls !== undefined && delta.tool_calls.length > 0) ||
              (typeof delta.refusal === 'string' && delta.refusal !== '')
            ) {
              throw new SpliceDivergence();
            }
            // Reasoning before the splice point belongs to the regenerated answer, not this one.
            delete delta.reasoning;
            delete delta.reasoning_signature;
            delete delta.redacted_reasoning;
            if (typeof delta.content === 'string' && delta.content !== '') {
              const text = delta.content;
              const want = leg.prefix;
              if (text.length <= want.length) {
                if (!want.startsWith(text)) throw new SpliceDivergence();
                leg.prefix = want.slice(text.length);
                delete delta.content;
              } else {
                if (!text.startsWith(want)) throw new SpliceDivergence();
                leg.prefix = '';
                delta.content = text.slice(want.length);
              }
            }
            if (choice.finish_reason !== null && leg.prefix !== '') throw new SpliceDivergence();
          } else if (leg.skip !== '' && typeof delta.content === 'string' && delta.content !== '') {
            // Drop the whitespace trimmed from the prefill: the consumer already has it.
            const text = delta.content;
            let i = 0;
            while (i < text.length && i < leg.skip.length && text[i] === leg.skip[i]) i++;
            leg.skip = i === text.length ? leg.skip.slice(i) : '';
            if (i === text.length) delete delta.content;
            else delta.content = text.slice(i);
          }
          const out: ChunkChoice = { ...choice, delta };
          // A regenerated stretch's log probabilities cover text the consumer already has.
          if (splicing) delete out.logprobs;
          return out;
        });
        const out: StreamingChunk = { ...chunk, choices };
        return isEmptyChunk(out) ? undefined : out;
      };

      const withSummedUsage = (leg: Leg, chunk: StreamingChunk, usage: Usage): StreamingChunk => {
        const earlier = answer.legs.filter((l) => l !== leg && l.generated);
        if (earlier.length === 0) return chunk;
        // This leg's prompt is the original prompt plus its prefill.
        const basePrompt = Math.max(0, usage.prompt_tokens - leg.prefillTokens);
        let total = usage;
        for (const l of earlier) {
          const prompt = basePrompt + l.prefillTokens;
          const completion = estimateTokens(l.streamed);
          total = addUsage(
            l.usage ?? {
              prompt_tokens: prompt,
              completion_tokens: completion,
              total_tokens: prompt + completion,
            },
            total,
          );
        }
        return { ...chunk, usage: total };
      };

      const incomplete = (cause: unknown, why: string): IncompleteStreamError => {
        const said =
          typeof (cause as { message?: unknown } | null)?.message === 'string'
            ? (cause as { message: string }).message
            : String(cause);
        return new IncompleteStreamError(
          `The answer broke off after ${answer.text.length} characters of text (${said}); ${why}. ` +
            `partialText holds what was streamed: retry the request${
              policy === 'error' ? ", or use failover policy 'resume' to continue it" : ''
            }.`,
          {
            partialText: answer.text,
            cause,
            provider: isRouterError(cause) ? cause.provider : undefined,
          },
        );
      };

      const exclude = (leg: Leg, error: unknown): void => {
        if (isRouterError(error) && error.isRetryable) return;
        if (leg.provider !== undefined && isProviderWideError(error)) {
          answer.excludedProviders.add(leg.provider);
        } else {
          answer.excluded.add(leg.model);
        }
      };

      const pick = (): FailoverCandidate | undefined => {
        while (answer.next < list.length) {
          const c = list[answer.next++];
          if (c === undefined || answer.excluded.has(c.model)) continue;
          if (c.provider !== undefined && answer.excludedProviders.has(c.provider)) continue;
          return c;
        }
        return undefined;
      };

      const notify = (from: Leg, to: string, error: unknown, mode: FailoverMode): void => {
        onFailover?.({
          from: from.name,
          to,
          error,
          resumed: mode !== 'restart',
          mode,
          partialText: answer.text,
        });
      };

      const resume = (from: Leg, error: unknown): Observable<StreamingChunk> => {
        const next = pick();
        if (next === undefined) {
          return throwError(() => incomplete(answer.cut, 'no candidate was left to resume it'));
        }
        const prefilled = withPrefill(request, answer.text);
        if (prefilled === undefined) {
          // Only whitespace so far: nothing to prefill, so splice a regenerated answer instead.
          notify(from, next.name, error, 'regenerate');
          return run(regenerateLeg(next, request, answer.text));
        }
        notify(from, next.name, error, 'resume');
        return run(resumeLeg(next, prefilled, estimateTokens));
      };

      const onError = (leg: Leg, error: unknown): Observable<StreamingChunk> => {
        leg.held = [];
        if (error instanceof SpliceDivergence) {
          return throwError(() =>
            incomplete(answer.cut, 'the regenerated answer did not start with the text streamed'),
          );
        }
        if (leg.emitted) {
          // This leg cut the answer.
          if (!isFailoverable(error)) return throwError(() => error);
          answer.cut = error;
          exclude(leg, error);
          if (policy === 'error') {
            return throwError(() => incomplete(error, "failover policy 'error' does not resume"));
          }
          if (!answer.resumable) {
            return throwError(() =>
              incomplete(
                error,
                'it cannot be resumed (only text on choice 0, with no finish reason yet, can be)',
              ),
            );
          }
          return resume(leg, error);
        }
        if (!answer.started) {
          if (!isFailoverable(error)) return throwError(() => error);
          exclude(leg, error);
          const next = pick();
          if (next === undefined) return throwError(() => error);
          notify(leg, next.name, error, 'restart');
          return run(restartLeg(next, request));
        }
        // A leg continuing the answer failed before showing anything.
        if (
          leg.mode === 'resume' &&
          leg.candidate !== undefined &&
          !leg.generated &&
          isRouterError(error) &&
          error.code === 'RXLLM_INVALID_REQUEST'
        ) {
          notify(leg, leg.name, error, 'regenerate');
          return run(regenerateLeg(leg.candidate, request, answer.text));
        }
        if (!isFailoverable(error)) {
          return throwError(() => incomplete(answer.cut, 'the attempt to resume it failed'));
        }
        exclude(leg, error);
        return resume(leg, error);
      };

      return run(newLeg(sourceName, sourceModel, undefined, 'source', source$, sourceLeg.provider));
    });
}

/** Thrown inside a regenerating leg whose text does not continue the emitted text. */
class SpliceDivergence extends Error {
  constructor() {
    super('The regenerated answer diverged from the text already emitted.');
  }
}

interface AnswerState {
  /** Choice 0's text emitted so far. */
  text: string;
  /** Whether a content chunk was emitted. */
  started: boolean;
  /** Whether the answer so far is choice 0's text only, unfinished. */
  resumable: boolean;
  /** The error that cut the answer most recently. */
  cut: unknown;
  /** Models that failed with a non-retryable error. */
  excluded: Set<string>;
  /** Providers that failed as a whole (authentication, quota, a refused request): none is tried. */
  excludedProviders: Set<string>;
  /** Index of the next candidate to consider. */
  next: number;
  legs: Leg[];
}

interface Leg {
  name: string;
  model: string;
  provider: string | undefined;
  candidate: FailoverCandidate | undefined;
  mode: 'source' | FailoverMode;
  stream$: Observable<StreamingChunk>;
  /** Estimated tokens of the prefill this leg was sent. */
  prefillTokens: number;
  /** Resume: whitespace trimmed from the prefill, still to drop from the continuation. */
  skip: string;
  /** Regenerate: emitted text the regenerated answer has not matched yet. */
  prefix: string;
  /** Every text this leg streamed (shown or not), for the usage estimate. */
  streamed: string;
  usage: Usage | undefined;
  /** Streamed a content chunk (shown or not). */
  generated: boolean;
  /** Emitted a content chunk to the consumer. */
  emitted: boolean;
  /** Non-content chunks held back until this leg's first content chunk. */
  held: StreamingChunk[];
}

function newLeg(
  name: string,
  model: string,
  c: FailoverCandidate | undefined,
  mode: Leg['mode'],
  stream$: Observable<StreamingChunk>,
  provider: string | undefined = c?.provider,
): Leg {
  return {
    name,
    model,
    provider,
    candidate: c,
    mode,
    stream$,
    prefillTokens: 0,
    skip: '',
    prefix: '',
    streamed: '',
    usage: undefined,
    generated: false,
    emitted: false,
    held: [],
  };
}

function restartLeg(c: FailoverCandidate, request: ChatRequest): Leg {
  return newLeg(
    c.name,
    c.model,
    c,
    'restart',
    defer(() => c.stream(request)),
  );
}

function resumeLeg(
  c: FailoverCandidate,
  prefilled: PrefilledRequest,
  estimateTokens: (text: string) => number,
): Leg {
  const leg = newLeg(
    c.name,
    c.model,
    c,
    'resume',
    defer(() => c.stream(prefilled.request)),
  );
  leg.prefillTokens = estimateTokens(prefilled.appended);
  leg.skip = prefilled.trimmed;
  return leg;
}

function regenerateLeg(c: FailoverCandidate, request: ChatRequest, emitted: string): Leg {
  const leg = newLeg(
    c.name,
    c.model,
    c,
    'regenerate',
    defer(() => c.stream(request)),
  );
  leg.prefix = emitted;
  return leg;
}

/**
 * An error of the provider rather than of the model or the request: an authentication failure,
 * a 429 that will not pass by waiting (an exhausted quota or spend cap), or a request its API
 * cannot take (`n` above 1 for Anthropic).
 */
function isProviderWideError(error: unknown): boolean {
  return (
    hasErrorCode(error, 'RXLLM_AUTHENTICATION') ||
    (hasErrorCode(error, 'RXLLM_RATE_LIMITED') && isRouterError(error) && !error.isRetryable) ||
    isProviderRefusal(error)
  );
}

/** Every text a chunk carries: content, refusal, reasoning and tool-call arguments. */
function generatedText(chunk: StreamingChunk): string {
  let text = '';
  for (const { delta } of chunk.choices) {
    if (typeof delta.content === 'string') text += delta.content;
    if (typeof delta.refusal === 'string') text += delta.refusal;
    if (delta.reasoning !== undefined) text += delta.reasoning;
    for (const call of delta.tool_calls ?? []) {
      text += (call.function.name ?? '') + (call.function.arguments ?? '');
    }
  }
  return text;
}

function hasContent(delta: ChunkDelta): boolean {
  return (
    (typeof delta.content === 'string' && delta.content !== '') || hasContentBesidesText(delta)
  );
}

/** {@link hasContent}, leaving `content` out. */
function hasContentBesidesText(delta: ChunkDelta): boolean {
  return (
    (typeof delta.refusal === 'string' && delta.refusal !== '') ||
    (delta.reasoning !== undefined && delta.reasoning !== '') ||
    delta.redacted_reasoning !== undefined ||
    (delta.tool_calls !== undefined && delta.tool_calls.length > 0)
  );
}

/** A chunk that carries nothing: no usage, and no choice with a finish reason or any delta. */
function isEmptyChunk(chunk: StreamingChunk): boolean {
  return (
    chunk.usage === undefined &&
    chunk.choices.every(
      ({ delta, finish_reason }) =>
        finish_reason === null &&
        !hasContent(delta) &&
        delta.role === undefined &&
        delta.reasoning_signature === undefined,
    )
  );
}

function validate(candidates: readonly FailoverCandidate[], config: FailoverConfig): void {
  if (!Array.isArray(candidates)) {
    throw new TypeError(
      'failover: candidates must be an array of {name, model, stream(request)}; build one from a provider with candidate(provider, model).',
    );
  }
  candidates.forEach((c: Partial<FailoverCandidate> | undefined, i) => {
    if (
      typeof c !== 'object' ||
      typeof c.name !== 'string' ||
      typeof c.model !== 'string' ||
      typeof c.stream !== 'function'
    ) {
      throw new TypeError(
        `failover: candidates[${i}] must be {name, model, stream(request)}. Did you pass a Provider? Wrap it: candidate(provider, model).`,
      );
    }
  });
  const config_ = config as Partial<FailoverConfig> | undefined;
  if (
    typeof config_ !== 'object' ||
    typeof config_.request !== 'object' ||
    !Array.isArray(config_.request.messages)
  ) {
    throw new TypeError(
      'failover: config.request (the ChatRequest the source streams) is required: candidates are sent it, and a resume adds the prefill to it.',
    );
  }
  const policy: unknown = config_.policy;
  if (policy !== undefined && policy !== 'error' && policy !== 'resume') {
    throw new RangeError(
      `failover: policy must be 'error' or 'resume', got ${JSON.stringify(policy)}.`,
    );
  }
}
