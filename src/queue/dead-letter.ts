import { noteAlert } from "../alerts/outbox";
import { getConfig } from "../config";
import { sha256Hex } from "../crypto/hmac";
import { buryEffects } from "../effects/ledger";
import { bodyIsTheEvent, deleteBlob, loadBlob, recordDeadEvent } from "../events/store";
import { describeIssues } from "../issues";
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
    log("error", "malformed dead letter dropped", { issues: describeIssues(parsed.error) });
    return;
  }
  const message = parsed.data;
  const db = env.DB;
  const now = new Date(nowMs).toISOString();
  const payload = message.payload ?? (message.payloadRef ? await loadBlob(db, message.payloadRef) : null) ?? "null";
  // A conflicting body's dead letter must not mark the event that was recorded with another body.
  const bodySha256 = message.bodySha256 ?? (await sha256Hex(payload));
  await db.batch([
    recordDeadEvent(db, message, payload, bodySha256, now),
    buryEffects(db, message.id, now, bodyIsTheEvent(message.id, bodySha256)),
    ...(message.payloadRef ? [deleteBlob(db, message.payloadRef)] : []),
    ...(getConfig(env).ALERT_URL ? [noteAlert(db, { ...message, eventId: message.id, status: "dead" }, nowMs)] : []),
  ]);
  log("error", "event dead-lettered", { id: message.id, provider: message.provider, type: message.type });
}
