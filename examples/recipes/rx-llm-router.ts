// Stands in for the package in these recipes, so they run from the sources: each recipe imports
// from './rx-llm-router', and docs/recipes.md shows the same code importing from 'rx-llm-router'
// (a test keeps the two identical).
export { textDeltas } from '../../src/operators/text-deltas';
export type { ChatRequest } from '../../src/request/chat-request';
export type { CandidateHealth } from '../../src/health/health-snapshot';
export type { Router } from '../../src/router/router';
export type { SessionInfo } from '../../src/sessions/session-info';
export { createRouter } from '../../src/router/create-router';
export type { RouterLogger } from '../../src/router/router-config';
export { createPricing } from '../../src/cost/pricing';
export { estimateTokensByChars } from '../../src/cost/token-estimator';
export type { Provider } from '../../src/providers/provider';
