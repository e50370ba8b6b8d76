import type { SqlCondition } from "../providers/types";

export type EffectStatus = "pending" | "running" | "done" | "failed" | "dead";

export interface EffectRow {
  id: string;
  event_id: string;
  name: string;
  status: EffectStatus;
  attempts: number;
  last_error: string | null;
  lease_until: number | null;
}

/**
 * Longer than any effect's own timeout (config caps EFFECT_TIMEOUT_MS and FORWARD_TIMEOUT_MS
 * below it): a lease past this belongs to an attempt that was abandoned or has given up.
 */
export const EFFECT_LEASE_MS = 2 * 60 * 1000;

/**
 * Schedules an effect once: the id is its once-key, and a gate may make it conditional.
 * The row is born claimed (`running`, first attempt, leased) by the consumer whose batch
 * inserted it, which saves the claim's row write on the common path; a consumer whose
 * insert was ignored finds the row leased and leaves it alone.
 */
export function scheduleEffect(
  db: D1Database,
  effect: { id: string; eventId: string; name: string },
  condition: SqlCondition | undefined,
  nowMs: number,
): D1PreparedStatement {
  const now = new Date(nowMs).toISOString();
  return db
    .prepare(
      `INSERT INTO effects (id, event_id, name, status, attempts, lease_until, created_at, updated_at)
       SELECT ?, ?, ?, 'running', 1, ?, ?, ? WHERE ${condition ? condition.sql : "1"}
       ON CONFLICT (id) DO NOTHING`,
    )
    .bind(effect.id, effect.eventId, effect.name, nowMs + EFFECT_LEASE_MS, now, now, ...(condition?.params ?? []));
}

/** An operator replay gives failed and dead effects another chance; `done` stays done. */
export function reviveEffects(db: D1Database, eventId: string, now: string): D1PreparedStatement {
  return db
    .prepare(
      "UPDATE effects SET status = 'pending', updated_at = ? WHERE event_id = ? AND status IN ('failed', 'dead')",
    )
    .bind(now, eventId);
}

export async function owedEffects(db: D1Database, eventId: string): Promise<EffectRow[]> {
  const { results } = await db
    // Dead effects wait for an operator replay, which revives them before this runs.
    .prepare("SELECT * FROM effects WHERE event_id = ? AND status NOT IN ('done', 'dead') ORDER BY id")
    .bind(eventId)
    .all<EffectRow>();
  return results;
}

/**
 * Claims an effect for one runner. D1 applies writes one at a time, so of two consumers
 * handed the same message at once, exactly one gets the row back.
 */
export async function claimEffect(db: D1Database, id: string, nowMs: number): Promise<number | null> {
  return db
    .prepare(
      `UPDATE effects SET status = 'running', attempts = attempts + 1, lease_until = ?2, updated_at = ?3
       WHERE id = ?1 AND status IN ('pending', 'failed', 'running') AND (lease_until IS NULL OR lease_until < ?4)
       RETURNING attempts`,
    )
    .bind(id, nowMs + EFFECT_LEASE_MS, new Date(nowMs).toISOString(), nowMs)
    .first<number>("attempts");
}

/**
 * Settles an attempt. A failure whose handler may still be running (it outlived its timeout)
 * keeps its lease, so nobody runs the effect again until the lease has expired.
 */
export function finishEffect(
  db: D1Database,
  id: string,
  outcome: { status: "done" | "failed"; error?: string; keepLease?: boolean },
  now: string,
): D1PreparedStatement {
  return db
    .prepare(
      `UPDATE effects SET status = ?2, last_error = ?3, updated_at = ?4,
         lease_until = CASE WHEN ?5 THEN lease_until ELSE NULL END
       WHERE id = ?1`,
    )
    .bind(id, outcome.status, outcome.error ?? null, now, outcome.keepLease ? 1 : 0);
}

/** An event's effects as the operator API lists them. */
export function effectsOfEvent(db: D1Database, eventId: string): D1PreparedStatement {
  return db
    .prepare("SELECT id, name, status, attempts, last_error AS lastError FROM effects WHERE event_id = ? ORDER BY id")
    .bind(eventId);
}

/** Marks an event's owed effects dead, where `applies` holds (a conflicting body buries nothing). */
export function buryEffects(db: D1Database, eventId: string, now: string, applies: SqlCondition): D1PreparedStatement {
  return db
    .prepare(
      `UPDATE effects SET status = 'dead', lease_until = NULL, updated_at = ?
       WHERE event_id = ? AND status <> 'done' AND ${applies.sql}`,
    )
    .bind(now, eventId, ...applies.params);
}
