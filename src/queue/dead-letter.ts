import { buryEffects } from "../effects/ledger";
import { deleteBlob, loadBlob } from "../events/store";
import { log } from "../log";
import { EventMessage } from "./message";

/**
 * The dead-letter queue's consumer: a message that exhausted its retries marks its event
 * `dead` (recording it first if it never got that far) and its owed effects `dead`, so
 * the failure is visible and an operator replay can revive it.
 */
export async function handleDeadLetter(body: unknown, env: Env, nowMs: number): Promise<void> {
  const parsed = EventMessage.safeParse(body);
  if (!parsed.success) {
    log("error", "malformed dead letter dropped", { issues: parsed.error.issues.slice(0, 3).map((i) => i.message) });
    return;
  }
  const message = parsed.data;
  const db = env.DB;
  const now = new Date(nowMs).toISOString();
  const payload = message.payload ?? (message.payloadRef ? await loadBlob(db, message.payloadRef) : null) ?? "null";
  await db.batch([
    db
      .prepare(
        `INSERT INTO events (id, provider, dedupe_key, type, payload, status, attempts, last_error,
                             received_at, occurred_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, 'dead', 0, 'retries exhausted before the event was recorded', ?6, ?7, ?8)
         ON CONFLICT (id) DO UPDATE SET
           status = 'dead', updated_at = excluded.updated_at,
           last_error = COALESCE(events.last_error, 'retries exhausted')
         WHERE events.status <> 'processed'`,
      )
      .bind(
        message.id,
        message.provider,
        message.dedupeKey,
        message.type,
        payload,
        message.receivedAt,
        message.occurredAt,
        now,
      ),
    buryEffects(db, message.id, now),
    ...(message.payloadRef ? [deleteBlob(db, message.payloadRef)] : []),
  ]);
  log("error", "event dead-lettered", { id: message.id, provider: message.provider, type: message.type });
}
