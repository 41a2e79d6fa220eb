/**
 * Demand signalling from a pull consumer (a `for await` loop) back to the source that reads the
 * network, through any chain of operators that subscribe synchronously.
 *
 * RxJS has no backpressure: a source pushes as fast as it reads. To let a slow consumer pause the
 * socket, the consumer installs a {@link FlowControl} while it subscribes; every source of this
 * package captures it at subscription time ({@link currentFlow}) and awaits `ready()` before it
 * reads or emits more. Operators that resubscribe later (retries, failover) capture the flow
 * when first subscribed and reinstall it with {@link runWithFlow} when they resubscribe.
 */
export interface FlowControl {
  /**
   * Undefined when the consumer wants more now; otherwise a promise that resolves when it does.
   * Called before every emission, so it must be cheap.
   */
  ready(): Promise<void> | undefined;
}

let current: FlowControl | undefined;

/** Runs `fn` (typically a `subscribe` call) with `flow` installed as the current flow control. */
export function runWithFlow<T>(flow: FlowControl | undefined, fn: () => T): T {
  const previous = current;
  current = flow;
  try {
    return fn();
  } finally {
    current = previous;
  }
}

/** The flow control installed by the subscribing consumer, if any. Read it synchronously in `subscribe`. */
export function currentFlow(): FlowControl | undefined {
  return current;
}
