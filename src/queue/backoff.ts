// Queues caps a retry delay at 12 hours.
const MAX_DELAY_SECONDS = 12 * 60 * 60;

/** Exponential backoff for the queue's `retry({ delaySeconds })`: 10 s, 20 s, 40 s, … */
export function backoffSeconds(attempts: number, retryAfterSeconds?: number): number {
  const exponential = Math.min(10 * 2 ** Math.max(0, attempts - 1), 60 * 60);
  return Math.min(MAX_DELAY_SECONDS, Math.max(exponential, retryAfterSeconds ?? 0));
}
