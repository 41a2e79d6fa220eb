import { countTokens } from 'gpt-tokenizer/encoding/o200k_base';
import { estimateTokensByChars, type TokenEstimator } from './token-estimator';

/** Model ids that OpenAI's o200k_base encoding tokenizes exactly (GPT-4o and later, o-series). */
const O200K_MODELS = /^(?:openai\/)?(?:gpt-4o|gpt-4\.1|gpt-4\.5|gpt-5|gpt-oss|chatgpt-4o|o\d)/i;

/** Special-token markup (`<|endoftext|>`) in an answer is counted as text, never thrown on. */
const PLAIN_TEXT = { disallowedSpecial: new Set<string>() };

/**
 * A {@link TokenEstimator} that counts OpenAI models' tokens with a real tokenizer, and falls
 * back to {@link estimateTokensByChars} for other models.
 *
 * 1. GPT-4o, GPT-4.1, GPT-4.5, GPT-5, gpt-oss and the o-series are counted with the o200k_base
 *    BPE encoding (`gpt-tokenizer`, pure JavaScript: browsers and Node alike). Each delta is
 *    counted on its own; OpenAI streams about one token per delta, so this is close to exact.
 *    Special-token markup in the text (`<|endoftext|>`) counts as plain text.
 * 2. Every other model (Claude, Gemini, older GPT-4 and GPT-3.5, open models) uses the
 *    four-characters-per-token estimate: their tokenizers are not public or not bundled.
 *
 * It is a separate module, and not the default, because the encoding is big: importing it adds
 * about 2.7 MB minified (1.1 MB gzipped) to a browser bundle and about 0.2 s to a Node start
 * (the rank table is parsed; up to 0.7 s on a cold first run). Counting is then fast, about
 * 2 µs per delta. Import it where that is acceptable (a server that starts once).
 *
 * ```ts
 * import { gptTokenEstimator } from 'rx-llm-router/…/gpt-token-estimator';
 *
 * chunks$.pipe(trackCost(defaultPricing, { estimateTokens: gptTokenEstimator }));
 * ```
 */
export const gptTokenEstimator: TokenEstimator = (text, model) =>
  O200K_MODELS.test(model) ? countTokens(text, PLAIN_TEXT) : estimateTokensByChars(text, model);
