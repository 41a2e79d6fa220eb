// rx-llm-router/tokenizer: a real BPE token estimator (gpt-tokenizer), kept out of the main
// entry because it weighs about 1.1 MB gzipped. Browser-safe.
export { gptTokenEstimator } from './cost/gpt-token-estimator';
