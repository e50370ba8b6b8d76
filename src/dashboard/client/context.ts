import type { Now } from "./clock";

/** What the page's parts share; main.ts makes the one instance. */
export interface Ctx {
  /** The time (./clock.ts): every part that shows how far away a time is reads it here. */
  now: Now;
  /** Provider names in colour order (the chart's legend), set from `/api/stats`. */
  providers: string[];
  /** Shows an error where it happened, or ends the session when the token no longer works. */
  fail(error: unknown, where?: HTMLElement): void;
  openDetail(id: string): void;
  /** Reloads the overview, e.g. once a replay had time to run. */
  refresh(): void;
}
