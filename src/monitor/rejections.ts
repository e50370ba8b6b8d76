import { log } from "../log";

/** One refused webhook delivery (a 4xx of `/webhooks/:provider`). */
export interface Refusal {
  /** A registered provider's name, or `unknown` for a path no provider serves. */
  provider: string;
  code: string;
  status: number;
  reason: string;
}

interface Tally {
  minute: number;
  provider: string;
  code: string;
  status: number;
  count: number;
  lastAtMs: number;
  lastReason: string;
}

export const REFUSAL_FLUSH_INTERVAL_MS = 5_000;
// Providers (3 + unknown) × the ingest route's refusal codes × the 2 minutes a flush can
// straddle stays far below this; it only guards memory if a future code path invents keys.
const MAX_PENDING_TALLIES = 256;
const MAX_REASON_LENGTH = 200;
const MINUTE_MS = 60_000;

export interface RefusalAggregatorOptions {
  intervalMs?: number;
  /** The timer a scheduled flush waits on; a test seam (production: setTimeout). */
  sleep?: (ms: number) => Promise<void>;
}

const realSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Counts refused deliveries in the isolate and writes them to D1 at most once per interval,
 * one upsert per (minute, provider, code, status) it holds. So a flood of forged requests
 * costs each isolate at most one D1 batch per interval of at most (#providers × #codes × 2
 * minutes) statements, whatever its size, and one summary log line instead of one per request.
 *
 * The first refusal after a quiet interval schedules the flush (due at once, or when the
 * interval since the last one has passed) and hands it back for `waitUntil`, which keeps
 * the isolate alive until it has run: counts lag by at most the interval.
 */
export class RefusalAggregator {
  private pending = new Map<string, Tally>();
  private lastFlushMs = Number.NEGATIVE_INFINITY;
  private scheduled = false;
  private overflow = 0;
  private readonly intervalMs: number;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(options: RefusalAggregatorOptions = {}) {
    this.intervalMs = options.intervalMs ?? REFUSAL_FLUSH_INTERVAL_MS;
    this.sleep = options.sleep ?? realSleep;
  }

  /** Counts one refusal; returns the flush it scheduled, if it scheduled one, for waitUntil. */
  record(db: D1Database, refusal: Refusal, nowMs: number): Promise<void> | undefined {
    this.add({
      minute: Math.floor(nowMs / MINUTE_MS),
      provider: refusal.provider,
      code: refusal.code,
      status: refusal.status,
      count: 1,
      lastAtMs: nowMs,
      lastReason: refusal.reason.slice(0, MAX_REASON_LENGTH),
    });
    if (this.scheduled) return undefined;
    this.scheduled = true;
    const delay = Math.max(0, this.lastFlushMs + this.intervalMs - nowMs);
    return (delay > 0 ? this.sleep(delay) : Promise.resolve()).then(() => this.flush(db, nowMs + delay));
  }

  /** Writes what is pending. Never throws: a failed write keeps the counts for the next flush. */
  async flush(db: D1Database, nowMs: number): Promise<void> {
    // Cleared before the write, so a refusal arriving meanwhile schedules the next flush.
    this.scheduled = false;
    this.lastFlushMs = nowMs;
    const tallies = [...this.pending.values()];
    const overflow = this.overflow;
    this.pending = new Map();
    this.overflow = 0;
    if (tallies.length === 0) return;
    const summary = tallies.map((t) => ({
      provider: t.provider,
      code: t.code,
      status: t.status,
      count: t.count,
      lastReason: t.lastReason,
    }));
    try {
      await db.batch(tallies.map((tally) => upsertTally(db, tally)));
    } catch (error) {
      for (const tally of tallies) this.add(tally);
      this.overflow += overflow;
      log("error", "refused deliveries not recorded; kept for the next flush", {
        refusals: summary,
        error: String(error),
      });
      return;
    }
    log("warn", "deliveries refused", {
      total: tallies.reduce((sum, t) => sum + t.count, 0),
      refusals: summary,
      ...(overflow > 0 ? { uncounted: overflow } : {}),
    });
  }

  private add(tally: Tally): void {
    const key = `${tally.minute}\n${tally.provider}\n${tally.code}\n${tally.status}`;
    const held = this.pending.get(key);
    if (!held) {
      if (this.pending.size >= MAX_PENDING_TALLIES) this.overflow += tally.count;
      else this.pending.set(key, { ...tally });
      return;
    }
    held.count += tally.count;
    if (tally.lastAtMs >= held.lastAtMs) {
      held.lastAtMs = tally.lastAtMs;
      held.lastReason = tally.lastReason;
    }
  }
}

function upsertTally(db: D1Database, tally: Tally): D1PreparedStatement {
  // Several isolates add to one row: counts add up, and the latest refusal's reason wins.
  return db
    .prepare(
      `INSERT INTO rejections (minute, provider, code, status, count, last_at, last_reason)
       VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
       ON CONFLICT (minute, provider, code, status) DO UPDATE SET
         count = rejections.count + excluded.count,
         last_reason = CASE WHEN excluded.last_at >= rejections.last_at
                            THEN excluded.last_reason ELSE rejections.last_reason END,
         last_at = MAX(rejections.last_at, excluded.last_at)`,
    )
    .bind(
      tally.minute,
      tally.provider,
      tally.code,
      tally.status,
      tally.count,
      new Date(tally.lastAtMs).toISOString(),
      tally.lastReason,
    );
}

/** The isolate's aggregator: module state lives as long as the isolate does. */
export const refusals = new RefusalAggregator();

export interface RejectionSummary {
  provider: string;
  code: string;
  status: number;
  count: number;
  lastAt: string;
  lastReason: string | null;
}

/** Refusals of the last `windowMinutes` (in whole minutes), most frequent first. */
export async function listRejections(
  db: D1Database,
  windowMinutes: number,
  nowMs: number,
): Promise<RejectionSummary[]> {
  const fromMinute = Math.floor((nowMs - windowMinutes * MINUTE_MS) / MINUTE_MS);
  // SQLite takes a bare column (last_reason) from the row that holds the group's MAX().
  const { results } = await db
    .prepare(
      `SELECT provider, code, status, SUM(count) AS count, MAX(last_at) AS lastAt, last_reason AS lastReason
       FROM rejections
       WHERE minute >= ?
       GROUP BY provider, code, status
       ORDER BY count DESC, provider, code, status`,
    )
    .bind(fromMinute)
    .all<RejectionSummary>();
  return results;
}

/** For the daily purge: counts older than the longest window anyone can ask for, with margin. */
export function purgeRejections(db: D1Database, nowMs: number): D1PreparedStatement {
  return db.prepare("DELETE FROM rejections WHERE minute < ?").bind(Math.floor(nowMs / MINUTE_MS) - 2 * 1440);
}
