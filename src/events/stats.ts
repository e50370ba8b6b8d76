/** Each window's length and the bucket width that keeps a chart at ≤ 96 bars. */
export const STATS_WINDOWS = {
  "15m": { minutes: 15, bucketMinutes: 1 },
  "1h": { minutes: 60, bucketMinutes: 1 },
  "6h": { minutes: 360, bucketMinutes: 5 },
  "24h": { minutes: 1440, bucketMinutes: 15 },
} as const;
export type StatsWindow = keyof typeof STATS_WINDOWS;

export interface BucketRow {
  /** The bucket's start, in unix seconds. */
  bucket: number;
  provider: string;
  total: number;
  retrying: number;
  dead: number;
  quarantined: number;
}

/**
 * Events received in [from, to), counted per provider and bucket of `bucketSeconds` with their
 * current status. received_at is always toISOString() text, so the range is a plain index range scan.
 */
export async function eventCountsByBucket(
  db: D1Database,
  range: { from: string; to: string; bucketSeconds: number },
): Promise<BucketRow[]> {
  const { results } = await db
    .prepare(
      `SELECT (CAST(strftime('%s', received_at) AS INTEGER) / CAST(?3 AS INTEGER)) * CAST(?3 AS INTEGER) AS bucket,
              provider,
              COUNT(*) AS total,
              SUM(status = 'retrying') AS retrying,
              SUM(status = 'dead') AS dead,
              SUM(status = 'quarantined') AS quarantined
       FROM events
       WHERE received_at >= ?1 AND received_at < ?2
       GROUP BY bucket, provider
       ORDER BY bucket, provider`,
    )
    .bind(range.from, range.to, range.bucketSeconds)
    .all<BucketRow>();
  return results;
}
