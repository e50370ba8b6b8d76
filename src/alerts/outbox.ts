import { systemClock } from "../clock";
import { getConfig } from "../config";
import { standardWebhookHeaders } from "../crypto/standard-webhooks";
import { eventInStatusSql, eventLastErrorSql } from "../events/store";
import { log } from "../log";
import { readSecretList } from "../secrets";

/** An event that became `dead` or `quarantined`: what the operator is told. */
export interface AlertNotice {
  eventId: string;
  provider: string;
  type: string;
  status: "dead" | "quarantined";
  reason?: string | null;
}

/**
 * Alerts go out at most once per this interval, each one listing every notice pending
 * (up to ALERT_MAX_NOTICES): a burst of 1,000 dead letters is one or two POSTs, not 1,000.
 */
export const ALERT_INTERVAL_MS = 30_000;
export const ALERT_MAX_NOTICES = 1_000;
const ALERT_TIMEOUT_MS = 10_000;
const MAX_REASON_LENGTH = 300;
const DAY_MS = 24 * 60 * 60 * 1000;
// An alert target down for a week is an outage of its own; older notices are dropped by the
// daily purge rather than kept for ever.
export const ALERT_RETENTION_DAYS = 7;

/**
 * The notice, as a statement for the batch that changes the event's status. It is placed
 * after that write and inserts only if the event does have that status once it has run (a
 * dead letter for an event processed meanwhile changes nothing, and alerts nobody). One
 * pending notice per (event, status): a redelivered dead letter does not repeat it. Without
 * a `reason`, the event's `last_error` is the reason.
 */
export function noteAlert(db: D1Database, notice: AlertNotice, nowMs: number): D1PreparedStatement {
  return db
    .prepare(
      `INSERT INTO alerts_outbox (event_id, provider, type, status, reason, created_at)
       SELECT ?1, ?2, ?3, ?4, COALESCE(?5, substr(${eventLastErrorSql("?1")}, 1, ?7)), ?6
       WHERE ${eventInStatusSql("?1", "?4")}
       ON CONFLICT (event_id, status) DO NOTHING`,
    )
    .bind(
      notice.eventId,
      notice.provider,
      notice.type,
      notice.status,
      notice.reason?.slice(0, MAX_REASON_LENGTH) ?? null,
      new Date(nowMs).toISOString(),
      MAX_REASON_LENGTH,
    );
}

interface OutboxRow {
  id: number;
  event_id: string;
  provider: string;
  type: string;
  status: string;
  reason: string | null;
  created_at: string;
}

export type FlushResult =
  | { sent: number; status: number }
  | { skipped: "not_configured" | "nothing_pending" | "not_due" }
  | { failed: string };

/**
 * Sends the pending notices to ALERT_URL as one POST signed per Standard Webhooks (with
 * FORWARD_SIGNING_SECRET, as forwards are), and deletes them only once it answered 2xx:
 * delivered at least once, retried by the next flush otherwise. Any number of callers may
 * run it (the queue consumer after each batch, the cron): a row in `alert_sender` lets one
 * of them send per ALERT_INTERVAL_MS. Never throws.
 */
export async function flushAlerts(env: Env, nowMs: number): Promise<FlushResult> {
  const config = getConfig(env);
  const signingSecrets = config.ALERT_URL ? await readSecretList(env, "FORWARD_SIGNING_SECRET", nowMs) : [];
  if (!config.ALERT_URL || signingSecrets.length === 0) return { skipped: "not_configured" };
  const db = env.DB;
  try {
    // A one-row read on the common path (nothing pending), before any write.
    if ((await db.prepare("SELECT id FROM alerts_outbox LIMIT 1").first()) === null) {
      return { skipped: "nothing_pending" };
    }
    const claimed = await db
      .prepare(
        `INSERT INTO alert_sender (id, next_send_at) VALUES (1, ?2)
         ON CONFLICT (id) DO UPDATE SET next_send_at = excluded.next_send_at WHERE alert_sender.next_send_at <= ?1
         RETURNING next_send_at`,
      )
      .bind(nowMs, nowMs + ALERT_INTERVAL_MS)
      .first();
    if (claimed === null) return { skipped: "not_due" };

    const { results } = await db
      .prepare("SELECT * FROM alerts_outbox ORDER BY id LIMIT ?")
      .bind(ALERT_MAX_NOTICES)
      .all<OutboxRow>();
    const first = results[0];
    const last = results[results.length - 1];
    if (!first || !last) return { skipped: "nothing_pending" };

    const messageId = `alert_${first.id}_${last.id}`;
    // The signature's timestamp is the real time of sending, whatever clock paces the flushes.
    const sentAt = new Date(systemClock());
    const body = JSON.stringify({
      type: "gateway.alert",
      sentAt: sentAt.toISOString(),
      events: results.map((row) => ({
        id: row.event_id,
        provider: row.provider,
        type: row.type,
        status: row.status,
        reason: row.reason,
        at: row.created_at,
      })),
    });
    const response = await fetch(config.ALERT_URL, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        ...standardWebhookHeaders(signingSecrets, messageId, sentAt, body),
      },
      body,
      signal: AbortSignal.timeout(ALERT_TIMEOUT_MS),
    });
    await response.body?.cancel();
    if (!response.ok) {
      log("warn", "alert refused; the notices stay for the next flush", {
        status: response.status,
        notices: results.length,
      });
      return { failed: `ALERT_URL answered ${response.status}` };
    }
    // Ids only grow (AUTOINCREMENT), so a notice written while this alert was in flight
    // has a larger id and stays for the next one.
    await db.prepare("DELETE FROM alerts_outbox WHERE id <= ?").bind(last.id).run();
    log("info", "alert sent", { notices: results.length, status: response.status });
    return { sent: results.length, status: response.status };
  } catch (error) {
    log("warn", "alert flush failed; the notices stay for the next flush", { error: String(error) });
    return { failed: String(error) };
  }
}

/** For the daily purge: notices no alert target has taken for a week. */
export function purgeAlerts(db: D1Database, nowMs: number): D1PreparedStatement {
  return db
    .prepare("DELETE FROM alerts_outbox WHERE created_at < ?")
    .bind(new Date(nowMs - ALERT_RETENTION_DAYS * DAY_MS).toISOString());
}
