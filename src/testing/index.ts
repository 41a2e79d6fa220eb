// rx-llm-router/testing: helpers for testing LLM pipelines (marble fake providers, builders).
// Reserved: the helpers land with the resilience operators.

/** The version of the testing helpers' API. */
export const testingApiVersion = 1;
