import { purgeAlerts } from "../alerts/outbox";
import { MIN_EVENT_RETENTION_DAYS } from "../config";
import { purgeBlobs, purgeProcessedEvents } from "../events/store";
import { log } from "../log";
import { purgeRejections } from "../monitor/rejections";

const DAY_MS = 24 * 60 * 60 * 1000;

// A parked payload may be referenced by a message still in the queue: Queues keeps a
// message for at most 14 days, so a parked payload is only orphaned after that.
export const PAYLOAD_BLOB_RETENTION_DAYS = 15;

/**
 * The daily cron (`[triggers]` in wrangler.toml): removes parked payloads nothing can need
 * any more and, when EVENT_RETENTION_DAYS is set, processed events older than that. Effect
 * rows are kept for ever: they are small, and they are the tombstones that keep a re-sent
 * callback from running its effect again once its event is gone (with them their last 20
 * attempts). Business state, and events still `retrying` or `dead`, are never removed.
 * Refusal counts go after 2 days, alert notices no target took after 7.
 */
export async function purgeExpired(
  db: D1Database,
  options: { nowMs: number; eventRetentionDays: number | undefined },
): Promise<{ blobs: number; events: number }> {
  const statements = [
    purgeBlobs(db, options.nowMs - PAYLOAD_BLOB_RETENTION_DAYS * DAY_MS),
    // Operational records with horizons of their own.
    purgeRejections(db, options.nowMs),
    purgeAlerts(db, options.nowMs),
  ];
  if (options.eventRetentionDays !== undefined) {
    const days = Math.max(options.eventRetentionDays, MIN_EVENT_RETENTION_DAYS);
    const cutoff = new Date(options.nowMs - days * DAY_MS).toISOString();
    statements.push(purgeProcessedEvents(db, cutoff));
  }
  const [blobs, , , events] = await db.batch(statements);
  const removed = { blobs: blobs?.meta.changes ?? 0, events: events?.meta.changes ?? 0 };
  log("info", "retention purge", removed);
  return removed;
}
