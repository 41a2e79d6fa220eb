import { hashString, mix, wordFor } from './deterministic-text';
import type { AnswerPlan } from './plan-answer';

/** A token and its planned log probability. */
export interface PlannedLogprob {
  token: string;
  logprob: number;
}

/** A text token's planned log probability, with the likeliest tokens at its position. */
export interface PlannedTokenLogprob extends PlannedLogprob {
  /** `top` entries: the token itself first, then other words, each less likely. */
  top: PlannedLogprob[];
}

/**
 * The log probabilities of a choice's text tokens, in order: call the result with each text
 * token as it streams. Deterministic from the choice's text key and index: a value from −2 to 0.
 *
 * @param plan The choice's plan.
 * @param index The choice's index.
 * @param top How many likeliest tokens to list at each position.
 */
export function plannedLogprobs(
  plan: AnswerPlan,
  index: number,
  top: number,
): (token: string) => PlannedTokenLogprob {
  const key = hashString(`logprobs ${index}`, plan.text?.key ?? 0);
  let i = 0;
  return (token) => {
    const step = mix(key, i++);
    const logprob = -(step % 2000) / 1000;
    const alternatives: PlannedLogprob[] = [];
    for (let k = 0; k < top; k++) {
      alternatives.push({
        token: k === 0 ? token : ` ${wordFor(mix(step, k))}`,
        logprob: logprob - k * 0.75,
      });
    }
    return { token, logprob, top: alternatives };
  };
}
