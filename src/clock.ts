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
