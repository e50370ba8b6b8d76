import { type Clock, stopwatch, TimeoutError, withTimeout } from "../clock";
import { getConfig } from "../config";
import { log } from "../log";
import type { Provider } from "../providers/types";
import type { AttemptOutcome } from "../statuses";
import { type AttemptDetails, recordAttempt } from "./attempts";
import { claimEffect, finishEffect, owedEffects } from "./ledger";
import { type EffectRegistry, type EventInfo, RetryLaterError } from "./registry";

export interface RunEffectsInput {
  db: D1Database;
  env: Env;
  registry: EffectRegistry<Provider>;
  event: EventInfo;
  payload: unknown;
  nowMs: Clock;
  /** Effects this consumer's own batch just inserted, already claimed for their first attempt. */
  claimed: ReadonlySet<string>;
}

export type RunEffectsResult = { done: true; ran: number } | { done: false; error: string; retryAfterSeconds?: number };

/**
 * Runs every effect this event still owes, each claimed first so that no two consumers run
 * one effect at once, and marked `done` so that no redelivery or replay runs it again.
 */
export async function runOwedEffects(input: RunEffectsInput): Promise<RunEffectsResult> {
  const failures: string[] = [];
  let retryAfterSeconds: number | undefined;
  const owed = await owedEffects(input.db, input.event.id);
  for (const row of owed) {
    const attempt = input.claimed.has(row.id) ? row.attempts : await claimEffect(input.db, row.id, input.nowMs());
    if (attempt === null) {
      failures.push(`effect ${row.name} is running elsewhere`);
      continue;
    }
    const details: AttemptDetails = {};
    const effect = input.registry.get(row.name);
    const now = () => new Date(input.nowMs()).toISOString();
    const startedAt = now();
    const elapsed = stopwatch();
    // The ledger row and its attempt history are settled in one batch (one transaction).
    const settle = (
      status: "done" | "failed",
      outcome: AttemptOutcome,
      options: { error?: string; keepLease?: boolean } = {},
    ) =>
      input.db.batch([
        finishEffect(input.db, row.id, { status, ...options }, now()),
        ...recordAttempt(input.db, {
          effectId: row.id,
          attempt,
          at: startedAt,
          outcome,
          error: options.error,
          durationMs: elapsed(),
          ...details,
        }),
      ]);
    if (!effect) {
      const error = `no effect handler named ${row.name}`;
      await settle("failed", "failed", { error });
      failures.push(error);
      continue;
    }
    try {
      await withTimeout(
        (signal) =>
          effect.handler({
            event: input.event,
            payload: input.payload,
            env: input.env,
            effectId: row.id,
            attempt,
            signal,
            now: input.nowMs,
            note: (noted) => Object.assign(details, noted),
          }),
        effect.timeoutMs(getConfig(input.env)),
      );
    } catch (error) {
      const message = `effect ${row.name}: ${error instanceof Error ? error.message : String(error)}`.slice(0, 500);
      // A handler that timed out may still be running: its lease keeps the next attempt away.
      const timedOut = error instanceof TimeoutError;
      await settle("failed", timedOut ? "timeout" : "failed", { error: message, keepLease: timedOut });
      log("warn", "effect failed", {
        eventId: input.event.id,
        effect: row.name,
        effectId: row.id,
        attempt,
        error: message,
      });
      failures.push(message);
      if (error instanceof RetryLaterError) {
        retryAfterSeconds = Math.max(retryAfterSeconds ?? 0, error.retryAfterSeconds);
      }
      continue;
    }
    // Outside the handler's try: if recording success fails, the row stays `running` under its
    // lease (and the message retries), instead of being marked failed and run again at once.
    await settle("done", "done");
    log("info", "effect done", { eventId: input.event.id, effect: row.name, effectId: row.id, attempt });
  }
  if (failures.length === 0) return { done: true, ran: owed.length };
  return { done: false, error: failures.join("; "), retryAfterSeconds };
}
