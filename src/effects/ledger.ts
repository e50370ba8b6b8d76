import { type Batch, both, type SqlCondition } from "../sql";

import type { EffectStatus } from "../statuses";

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
 * An effect's id, which is also its at-most-once key in the ledger. It is STORED: another format
 * would run the effects of every replayed event again.
 * - once per key: `<once-key>:<name>`, e.g. `approval:payment_auth_001:approval-approved`;
 * - once per event: `<name>:<event id>`, e.g. `forward:gw_…`.
 */
export function effectId(
  effect: { name: string; oncePer: "key" | "event" },
  keys: { onceKey: string; eventId: string },
): string {
  return effect.oncePer === "event" ? `${effect.name}:${keys.eventId}` : `${keys.onceKey}:${effect.name}`;
}

/**
 * Schedules each effect once, by its id, in `batch`: where `applies` holds (the delivery's body
 * is the event's) and, for once-per-key effects, the provider's `keyCondition` too (e.g. "this
 * callback decided the approval"). A row is born claimed (`running`, first attempt, leased) by the
 * consumer whose batch inserted it, which saves the claim's row write on the common path; a
 * consumer whose insert was ignored finds the row leased and leaves it alone. Resolves, once the
 * batch has run, to the ids this batch inserted: the effects it holds.
 */
export function scheduleEffects(
  batch: Batch,
  db: D1Database,
  input: {
    eventId: string;
    onceKey: string;
    effects: readonly { name: string; oncePer: "key" | "event" }[];
    applies: SqlCondition;
    keyCondition: SqlCondition | undefined;
    nowMs: number;
  },
): Promise<Set<string>> {
  const now = new Date(input.nowMs).toISOString();
  const claimed = new Set<string>();
  const inserted = input.effects.map((effect) => {
    const id = effectId(effect, input);
    const condition = effect.oncePer === "key" ? both(input.applies, input.keyCondition) : input.applies;
    const statement = db
      .prepare(
        `INSERT INTO effects (id, event_id, name, status, attempts, lease_until, created_at, updated_at)
         SELECT ?, ?, ?, 'running', 1, ?, ?, ? WHERE ${condition.sql}
         ON CONFLICT (id) DO NOTHING`,
      )
      .bind(id, input.eventId, effect.name, input.nowMs + EFFECT_LEASE_MS, now, now, ...condition.params);
    return batch.add(statement).then((result) => {
      if (result.meta.changes === 1) claimed.add(id);
    });
  });
  return Promise.all(inserted).then(() => claimed);
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

/**
 * SQL that is true while the event `eventId` (an SQL expression: a parameter, a column) still owes
 * an effect: for statements of other tables whose outcome depends on it (the event's status).
 */
export function effectsOwedSql(eventId: string): string {
  return `EXISTS (SELECT 1 FROM effects WHERE event_id = ${eventId} AND status <> 'done')`;
}

/**
 * SQL that selects `(id, attempts)` of the event `eventId`'s (an SQL expression) failed effects: the
 * key of each one's latest attempt, for statements on the attempts history.
 */
export function failedEffectsLatestAttemptSql(eventId: string): string {
  return `SELECT id, attempts FROM effects WHERE event_id = ${eventId} AND status = 'failed'`;
}

/** SQL that selects the ids of the event `eventId`'s (an SQL expression) effects. */
export function effectIdsOfEventSql(eventId: string): string {
  return `SELECT id FROM effects WHERE event_id = ${eventId}`;
}

/**
 * The effect an event scheduled under a once-key (`effectId`'s `<once-key>:<name>`), the first if
 * it scheduled several: e.g. the effect of an approval's decision, from the event that decided it.
 * Exact keys only: a prefix match would also find `<once-key>:other…`'s effects when a key holds a
 * colon, and it would scan the whole ledger.
 */
export async function effectUnderKey(
  db: D1Database,
  eventId: string,
  onceKey: string,
): Promise<{ status: EffectStatus; attempts: number } | null> {
  return db
    .prepare(
      `SELECT status, attempts FROM effects WHERE event_id = ?1 AND id = ?2 || ':' || name
       ORDER BY created_at, id LIMIT 1`,
    )
    .bind(eventId, onceKey)
    .first<{ status: EffectStatus; attempts: number }>();
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
