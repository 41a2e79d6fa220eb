import { ProviderError } from './provider-error';
import { ValidationError } from './validation-error';

/** The `providerCode` of a {@link refusalAsProviderError}. */
const REFUSAL_CODE = 'unsupported_request';

/**
 * A provider's refusal to translate a request (a `ValidationError` that names the provider: `n`
 * above 1 for Anthropic, a temperature above its range, ...) as the provider's 400 it stands for.
 *
 * Nothing was sent, and the request is valid: another candidate may take it. As a
 * `ValidationError` it would end the answer with a 400 that blames the request, and hide why the
 * candidates before it failed; as a non-retryable `invalid_request` {@link ProviderError} it is
 * not retried, fails over to the next candidate of another provider (every model of this one
 * would refuse it alike), and is listed with the others in an `AllProvidersFailedError` when none
 * is left. Any other error is returned as it is.
 *
 * @param error What the attempt failed with.
 * @param provider The candidate's provider key.
 */
export function refusalAsProviderError(error: unknown, provider: string): unknown {
  // The router's own validation names no provider: the request is wrong everywhere.
  if (!(error instanceof ValidationError) || error.provider === undefined) return error;
  return new ProviderError(
    'invalid_request',
    `${provider} cannot take this request (nothing was sent): ${error.message}`,
    { provider, status: 400, cause: error, providerCode: REFUSAL_CODE },
  );
}

/** Whether `error` is a provider's refusal to take a request (see {@link refusalAsProviderError}). */
export function isProviderRefusal(error: unknown): boolean {
  return error instanceof ProviderError && error.providerCode === REFUSAL_CODE;
}
