import { Observable, type MonoTypeOperatorFunction } from 'rxjs';

/** The hooks of {@link observe}. */
export interface ObserveHooks<T> {
  /**
   * Runs before a value goes on. Returning `false` drops the value (anything else keeps it);
   * throwing errors the stream with what was thrown (and unsubscribes the source).
   */
  next?(value: T): unknown;
  /** Runs before an error goes on; returns the error to pass on (the same one, or another). */
  error?(error: unknown): unknown;
  /** Runs before the completion goes on. */
  complete?(): void;
  /** Runs once the subscription has ended, however it ended (as `finalize` does). */
  teardown?(): void;
}

/**
 * `filter`, `tap`, `catchError` (map the error) and `finalize` in one subscriber: the router's
 * bookkeeping around an attempt and around a whole answer, without four operator layers per
 * chunk and per request.
 */
export function observe<T>(hooks: ObserveHooks<T>): MonoTypeOperatorFunction<T> {
  return (source) =>
    new Observable<T>((subscriber) => {
      const upstream = source.subscribe({
        next(value) {
          let keep: unknown;
          try {
            keep = hooks.next?.(value);
          } catch (error: unknown) {
            subscriber.error(error);
            return;
          }
          if (keep !== false) subscriber.next(value);
        },
        error(error: unknown) {
          let out = error;
          try {
            out = hooks.error === undefined ? error : hooks.error(error);
          } catch (thrown: unknown) {
            out = thrown;
          }
          subscriber.error(out);
        },
        complete() {
          try {
            hooks.complete?.();
          } catch (error: unknown) {
            subscriber.error(error);
            return;
          }
          subscriber.complete();
        },
      });
      return () => {
        upstream.unsubscribe();
        hooks.teardown?.();
      };
    });
}
