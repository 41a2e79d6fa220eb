// rx-llm-router simulator (Node-only): a local OpenAI / Anthropic / Gemini server with
// deterministic answers and fault injection. Explicit named exports only.

export { startSimulator } from './start-simulator';
export type { Simulator, SimulatorOptions } from './start-simulator';
export { runSimulateCommand } from './run-simulate-command';
export type { SimulateCommandOptions } from './run-simulate-command';

// Faults and scenarios
export {
  FaultSpecError,
  faultModelPrefix,
  formatFaultSpec,
  formatFaultSpecs,
  parseFaultSpec,
} from './fault-spec';
export type {
  FaultSpec,
  FaultType,
  FlapFault,
  HugeEventFault,
  InbandErrorFault,
  InvalidUtf8Fault,
  MalformedFault,
  NoTerminalFault,
  RejectPrefillFault,
  ResetAfterFault,
  ResetBeforeHeadersFault,
  SlowDripFault,
  StallAfterFault,
  StallFirstTokenFault,
  StallHeadersFault,
  StatusFault,
  SucceedOnFault,
} from './fault-spec';
export type { ScenarioMatch, ScenarioStep, SimulatorScenario } from './scenario';

// Recording
export type { AttemptOutcome, AttemptRecord, StallRecord } from './attempt-record';

// What the simulator will say
export {
  expectedAnswer,
  expectedChoices,
  expectedText,
  planAnswer,
  simulatedText,
} from './plan-answer';
export type { AnswerOptions, AnswerPlan, SimulatedAnswer, SimulatedChoice } from './plan-answer';
export { readSimulatedRequest, SimulatedRequestError } from './simulated-request';
export type { SimulatedRequest } from './simulated-request';
export { countWords } from './deterministic-text';
export { simulatorRequest } from './simulator-request';
export type { SimulatorRequest, SimulatorRequestOptions } from './simulator-request';
