import { getConfig } from "../config";
import { log } from "../log";
import { createNuvouchClient, NuvouchApiError, type NuvouchClientOptions } from "../providers/nuvouch/api-client";
import { callbackForDecision, isDecision } from "../providers/nuvouch/reconcile";
import { approvalsToReconcile, markReconciled } from "../providers/nuvouch/store";
import { enqueueEvent, gatewayEventId } from "../queue/enqueue";
import { readSecret } from "../secrets";
import { activeHold, holdJob } from "./holds";

/** Lookups per run: well inside a Worker's subrequest limit and a cron's wall time. */
export const RECONCILE_BATCH = 25;

/** The job_holds row a 429's Retry-After writes (src/maintenance/holds.ts). */
const HOLD_JOB = "nuvouch_reconcile";
/** A longer Retry-After is read as this: a wrong or hostile value cannot stop reconciliation for days. */
export const MAX_HOLD_SECONDS = 3600;

export interface ReconcileSummary {
  /** Pending approvals due for a lookup in this run (at most the batch). */
  due: number;
  looked: number;
  /** Decisions found and queued as events. */
  decided: number;
  stillPending: number;
  /** Nuvouch has no approval with that externalRequestId. */
  unknown: number;
  /** Lookups Nuvouch refused (4xx) or answered with a decision that did not match ours. */
  failed: number;
  /** Why the run ended before its batch did, if it did. */
  stoppedBy: "not_configured" | "rate_limited" | "nuvouch_unavailable" | "enqueue_failed" | null;
  retryAfterSeconds?: number;
  /** Set when the run made no lookup because an earlier 429's Retry-After had not passed: until when (ISO). */
  skippedUntil?: string;
}

/**
 * Scheduled reconciliation (docs/contract.md §9): every approval still pending after
 * RECONCILE_AFTER_SECONDS is looked up with Nuvouch, least recently looked at first, a
 * batch per run. A decision found there becomes the callback Nuvouch would have sent,
 * queued as an ordinary `nuvouch` event: the consumer records it and applies the same state
 * rules and the same at-most-once effect as for a verified callback, and a real callback
 * arriving later finds the approval decided. The run stops at the first 429 or when Nuvouch
 * is unavailable; the next run carries on. A 429's Retry-After (at most MAX_HOLD_SECONDS) is
 * stored, and runs before it has passed make no lookup and say so.
 */
export async function reconcileApprovals(
  env: Env,
  options: { nowMs: number; limit?: number; client?: Partial<NuvouchClientOptions> },
): Promise<ReconcileSummary> {
  const config = getConfig(env);
  const summary: ReconcileSummary = {
    due: 0,
    looked: 0,
    decided: 0,
    stillPending: 0,
    unknown: 0,
    failed: 0,
    stoppedBy: null,
  };
  const apiKey = await readSecret(env, "NUVOUCH_INTEGRATOR_API_KEY", options.nowMs);
  if (!apiKey) {
    summary.stoppedBy = "not_configured";
    log("info", "nuvouch reconciliation", { ...summary });
    return summary;
  }
  const now = new Date(options.nowMs).toISOString();
  const hold = await activeHold(env.DB, HOLD_JOB, options.nowMs);
  if (hold) {
    summary.stoppedBy = "rate_limited";
    summary.skippedUntil = new Date(hold.notBeforeMs).toISOString();
    log("warn", "nuvouch reconciliation", { ...summary, skipped: true, holdReason: hold.reason });
    return summary;
  }
  const dueBefore = new Date(options.nowMs - config.RECONCILE_AFTER_SECONDS * 1000).toISOString();
  const rows = await approvalsToReconcile(env.DB, dueBefore, options.limit ?? RECONCILE_BATCH);
  summary.due = rows.length;
  // One attempt per lookup: the cron is the retry loop, and a 429 ends the run.
  const client = createNuvouchClient({
    baseUrl: config.NUVOUCH_API_BASE_URL,
    apiKey,
    maxAttempts: 1,
    timeoutMs: 5_000,
    budgetMs: 5_000,
    ...options.client,
  });
  const looked: string[] = [];

  for (const row of rows) {
    let found: Awaited<ReturnType<typeof client.getApprovalRequestByExternalId>>;
    try {
      found = await client.getApprovalRequestByExternalId(row.external_request_id);
    } catch (error) {
      if (!(error instanceof NuvouchApiError)) throw error;
      if (error.status === 429 || error.retryable) {
        summary.stoppedBy = error.status === 429 ? "rate_limited" : "nuvouch_unavailable";
        if (error.retryAfterSeconds !== undefined) summary.retryAfterSeconds = error.retryAfterSeconds;
        if (error.status === 429 && error.retryAfterSeconds !== undefined) {
          const seconds = Math.min(error.retryAfterSeconds, MAX_HOLD_SECONDS);
          await holdJob(
            env.DB,
            HOLD_JOB,
            options.nowMs + seconds * 1000,
            `429 Retry-After ${error.retryAfterSeconds} s`,
          );
        }
        log("warn", "nuvouch reconciliation lookup failed", { status: error.status, code: error.code, url: error.url });
        break;
      }
      summary.failed++;
      looked.push(row.external_request_id);
      log("warn", "nuvouch reconciliation lookup refused", {
        externalRequestId: row.external_request_id,
        status: error.status,
        code: error.code,
      });
      continue;
    }
    if (!found) {
      summary.unknown++;
      looked.push(row.external_request_id);
      continue;
    }
    const callback = callbackForDecision(found, row);
    if (!callback) {
      // Undecided, or an answer we cannot use (another externalRequestId, no subject to record).
      if (found.externalRequestId === row.external_request_id && !isDecision(found.status)) summary.stillPending++;
      else summary.failed++;
      looked.push(row.external_request_id);
      continue;
    }
    try {
      await enqueueEvent(
        env,
        {
          v: 1,
          id: await gatewayEventId("nuvouch", callback.id),
          provider: "nuvouch",
          dedupeKey: callback.id,
          type: callback.type,
          occurredAt: callback.createdAt ?? null,
          receivedAt: now,
          payload: JSON.stringify(callback),
        },
        options.nowMs,
      );
    } catch (error) {
      // Not marked as looked at: the next run finds it again.
      summary.stoppedBy = "enqueue_failed";
      log("error", "nuvouch reconciliation enqueue failed", { id: callback.id, error: String(error) });
      break;
    }
    summary.decided++;
    looked.push(row.external_request_id);
  }

  summary.looked = looked.length;
  if (looked.length > 0) await env.DB.batch(looked.map((id) => markReconciled(env.DB, id, now)));
  log(summary.stoppedBy ? "warn" : "info", "nuvouch reconciliation", { ...summary });
  return summary;
}
