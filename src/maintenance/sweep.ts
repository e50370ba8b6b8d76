import { claimStuckEvent, type EventRow, releaseStuckEvent, stuckRetryingEvents } from "../events/store";
import { log } from "../log";
import { backoffSeconds } from "../queue/backoff";
import { enqueueEvent } from "../queue/enqueue";
import type { EventMessage } from "../queue/message";

// The queues' retry settings, as in wrangler.toml's [[queues.consumers]] (a test keeps them
// in step): the main queue retries a message 10 times, then hands it to the dead-letter
// queue, whose consumer retries up to 20 times to record it `dead`.
export const MAIN_QUEUE_MAX_RETRIES = 10;
export const DEAD_LETTER_QUEUE_MAX_RETRIES = 20;
/** Delivery latency and batching on top of the delays themselves; generous on purpose. */
const SLACK_SECONDS = 60 * 60;

/** The sum of the consumer's retry delays (src/queue/backoff.ts) over `retries` retries. */
export function retrySpanSeconds(retries: number): number {
  let total = 0;
  for (let attempt = 1; attempt <= retries; attempt++) total += backoffSeconds(attempt);
  return total;
}

/**
 * How long after its last touch a `retrying` event can still have a queue message. Every
 * attempt that reaches D1 moves the event's `updated_at`; after the last one, at worst all
 * the main queue's remaining retries and then all the dead-letter queue's fail before
 * touching D1 (D1 down, say): 10 s … 1 h capped, 8,710 s for the main queue, plus 44,710 s
 * for the DLQ, plus an hour of slack: about 15.8 h. Past that no message for the event can
 * exist, and without the sweep nothing would ever process it again.
 *
 * A Retry-After from an effect (RetryLaterError) can stretch one delay up to the queue's
 * 12 h cap, so a message may rarely outlive this span. That costs one extra delivery, not
 * correctness: the consumer applies state idempotently and the effects ledger runs each
 * effect at most once.
 */
export const STUCK_AFTER_SECONDS =
  retrySpanSeconds(MAIN_QUEUE_MAX_RETRIES) + retrySpanSeconds(DEAD_LETTER_QUEUE_MAX_RETRIES) + SLACK_SECONDS;

/** Events per run: each is a queue send. */
export const SWEEP_BATCH = 50;

export interface SweepSummary {
  stuck: number;
  requeued: number;
  /** Touched by a consumer or another sweep between the read and the claim. */
  skipped: number;
  failed: number;
}

function messageFor(row: EventRow): EventMessage {
  return {
    v: 1,
    id: row.id,
    provider: row.provider,
    dedupeKey: row.dedupe_key,
    type: row.type,
    occurredAt: row.occurred_at,
    receivedAt: row.received_at,
    payload: row.payload,
    // The hash of the bytes the event was recorded with: the consumer compares it, and a Nuvei
    // form or XML body's hash is not its JSON payload's.
    ...(row.body_sha256 ? { bodySha256: row.body_sha256 } : {}),
  };
}

/**
 * The stuck-event sweep (docs/contract.md §9): re-enqueues events left `retrying` longer than any
 * queue message for them can live, a batch per run, oldest first. Each is claimed in D1
 * before it is sent, so overlapping runs never send one event twice, and a claim whose send
 * failed is undone. The consumer then processes it like any redelivery: state rules are
 * idempotent, and an effect already done is never run again.
 */
export async function sweepStuckEvents(env: Env, options: { nowMs: number; limit?: number }): Promise<SweepSummary> {
  const db = env.DB;
  const now = new Date(options.nowMs).toISOString();
  const before = new Date(options.nowMs - STUCK_AFTER_SECONDS * 1000).toISOString();
  const rows = await stuckRetryingEvents(db, before, options.limit ?? SWEEP_BATCH);
  const summary: SweepSummary = { stuck: rows.length, requeued: 0, skipped: 0, failed: 0 };
  if (rows.length > 0) {
    const claims = await db.batch(rows.map((row) => claimStuckEvent(db, row.id, row.updated_at, now)));
    for (const [i, row] of rows.entries()) {
      if (claims[i]?.meta.changes !== 1) {
        summary.skipped++;
        continue;
      }
      try {
        await enqueueEvent(env, messageFor(row), options.nowMs);
        summary.requeued++;
      } catch (error) {
        summary.failed++;
        await releaseStuckEvent(db, row.id, now, row.updated_at);
        log("error", "stuck event sweep enqueue failed", { id: row.id, error: String(error) });
      }
    }
  }
  log(summary.failed ? "warn" : "info", "stuck event sweep", { ...summary, stuckAfterSeconds: STUCK_AFTER_SECONDS });
  return summary;
}
