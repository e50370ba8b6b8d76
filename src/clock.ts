/**
 * Milliseconds since the epoch. Every module that needs the time is handed one, so tests can move
 * it; `systemClock` is the only place the gateway reads the real time.
 */
export type Clock = () => number;

export const systemClock: Clock = () => Date.now();

/** Milliseconds since this call, on a monotonic timer: for durations, which a test clock must not freeze. */
export function stopwatch(): () => number {
  const started = performance.now();
  return () => performance.now() - started;
}

/** What `withTimeout` rejects with when the work outlived its limit. */
export class TimeoutError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "TimeoutError";
  }
}

/**
 * `work` given `ms` to finish: past that, the signal it was handed aborts and the promise rejects
 * with a TimeoutError, even when the work ignores its signal and runs on.
 */
export async function withTimeout<T>(
  work: (signal: AbortSignal) => Promise<T> | T,
  ms: number,
  message = `timed out after ${ms} ms`,
): Promise<T> {
  const controller = new AbortController();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const error = new TimeoutError(message);
      controller.abort(error);
      reject(error);
    }, ms);
  });
  try {
    return await Promise.race([Promise.resolve().then(() => work(controller.signal)), late]);
  } finally {
    if (timer !== undefined) clearTimeout(timer);
  }
}
