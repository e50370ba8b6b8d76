// The SQL of `job_holds` (migrations/0009_job_holds.sql): when a scheduled job may run again.

export interface JobHold {
  notBeforeMs: number;
  reason: string | null;
}

/**
 * The job's hold, if it has one. A hold whose time has come is removed (only that one: a
 * later hold written meanwhile stays) and reads as none.
 */
export async function activeHold(db: D1Database, job: string, nowMs: number): Promise<JobHold | null> {
  const row = await db
    .prepare("SELECT not_before_ms, reason FROM job_holds WHERE job = ?1")
    .bind(job)
    .first<{ not_before_ms: number; reason: string | null }>();
  if (!row) return null;
  if (row.not_before_ms > nowMs) return { notBeforeMs: row.not_before_ms, reason: row.reason };
  await db.prepare("DELETE FROM job_holds WHERE job = ?1 AND not_before_ms = ?2").bind(job, row.not_before_ms).run();
  return null;
}

/** Holds the job until `notBeforeMs`; a hold already reaching further is kept. */
export async function holdJob(db: D1Database, job: string, notBeforeMs: number, reason: string): Promise<void> {
  await db
    .prepare(
      `INSERT INTO job_holds (job, not_before_ms, reason) VALUES (?1, ?2, ?3)
       ON CONFLICT (job) DO UPDATE SET not_before_ms = excluded.not_before_ms, reason = excluded.reason
       WHERE excluded.not_before_ms > job_holds.not_before_ms`,
    )
    .bind(job, notBeforeMs, reason)
    .run();
}
