// Public API of rx-llm-router. The browser-safe core is re-exported whole from ./core (its own
// explicit list); Node-only parts (HTTP providers, simulator, gateway) are added here.
export * from './core';
