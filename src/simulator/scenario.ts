import type { StreamFormat } from '../chunk/streaming-chunk';
import { formatFaultSpec, formatFaultSpecs, parseFaultSpec, type FaultSpec } from './fault-spec';

/** Which requests a scenario applies to. Every field given must match; none given matches all. */
export interface ScenarioMatch {
  /** The requested model: exact string, or a RegExp tested against it. */
  model?: string | RegExp;
  /** The URL path: exact string, or a RegExp tested against it. */
  path?: string | RegExp;
  /** The wire format of the endpoint. */
  format?: StreamFormat;
}

/**
 * The faults of one attempt: a spec string (`'status-503'`, `'stall-first-token-50,reset-after-3'`),
 * one typed fault, a list of typed faults, or `null` / `'ok'` for a healthy answer.
 */
export type ScenarioStep = string | FaultSpec | readonly FaultSpec[] | null;

/**
 * A scripted sequence of faults: the n-th matching attempt (counting from 0) gets `faults[n]`.
 *
 * ```ts
 * await startSimulator({
 *   scenarios: [{ match: { model: 'gpt-4o-mini' }, faults: ['status-503', 'reset-after-3', null] }],
 * });
 * ```
 */
export interface SimulatorScenario {
  /** Which requests count. Default: every generation request. */
  match?: ScenarioMatch;
  /** The faults of attempts 1, 2, 3, … of this scenario. */
  faults: readonly ScenarioStep[];
  /**
   * What comes after the list: `healthy` answers (default), `repeat-last` (the last step forever)
   * or `cycle` (start the list again).
   */
  then?: 'healthy' | 'repeat-last' | 'cycle';
  /** A name, used as the key of stateful faults (`flap`, `succeed-on`). Default `scenario-<n>`. */
  name?: string;
}

/** A scenario with its steps parsed and its attempt counter. */
export class CompiledScenario {
  private hits = 0;
  private readonly steps: FaultSpec[][];
  private readonly match: ScenarioMatch;
  private readonly then: 'healthy' | 'repeat-last' | 'cycle';
  readonly name: string;

  constructor(scenario: SimulatorScenario, index: number) {
    this.match = scenario.match ?? {};
    this.then = scenario.then ?? 'healthy';
    this.name = scenario.name ?? `scenario-${index}`;
    const steps: readonly ScenarioStep[] = scenario.faults;
    if (!isList(steps)) {
      throw new TypeError(
        `startSimulator: scenario ${this.name} needs a faults array, e.g. { faults: ['status-503', null] }.`,
      );
    }
    this.steps = steps.map((step) => compileStep(step));
  }

  /** Whether a request falls under this scenario. */
  matches(facts: { model: string; path: string; format: StreamFormat }): boolean {
    const { model, path, format } = this.match;
    return (
      (format === undefined || format === facts.format) &&
      test(model, facts.model) &&
      test(path, facts.path)
    );
  }

  /** The faults of the next matching attempt, and its 1-based number within the scenario. */
  next(): { faults: FaultSpec[]; attempt: number } {
    const n = this.hits++;
    const { steps } = this;
    let faults: FaultSpec[] = [];
    if (n < steps.length) faults = steps[n] ?? [];
    else if (steps.length > 0 && this.then === 'repeat-last')
      faults = steps[steps.length - 1] ?? [];
    else if (steps.length > 0 && this.then === 'cycle') faults = steps[n % steps.length] ?? [];
    return { faults, attempt: n + 1 };
  }

  /** Starts the scenario over. */
  reset(): void {
    this.hits = 0;
  }

  /** The steps, as canonical spec strings ('' for healthy). */
  describe(): string[] {
    return this.steps.map(formatFaultSpecs);
  }
}

function test(expected: string | RegExp | undefined, actual: string): boolean {
  if (expected === undefined) return true;
  if (typeof expected === 'string') return expected === actual;
  expected.lastIndex = 0;
  return expected.test(actual);
}

function compileStep(step: ScenarioStep): FaultSpec[] {
  if (step === null || step === 'ok' || step === '') return [];
  if (typeof step === 'string') return parseFaultSpec(step);
  const faults = Array.isArray(step) ? [...(step as readonly FaultSpec[])] : [step as FaultSpec];
  // Typed faults are checked like spec strings: out-of-range values fail here, not mid-test.
  for (const fault of faults) parseFaultSpec(formatFaultSpec(fault));
  return faults;
}

function isList(value: unknown): boolean {
  return Array.isArray(value);
}
