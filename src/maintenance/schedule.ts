import { flushAlerts } from "../alerts/outbox";
import { getConfig } from "../config";
import { log } from "../log";
import { reconcileApprovals } from "./reconcile";
import { purgeExpired } from "./retention";
import { sweepStuckEvents } from "./sweep";

// The crons of wrangler.toml's [triggers]: each names its work.
export const EVERY_FIVE_MINUTES = "*/5 * * * *";
export const DAILY_RETENTION = "17 3 * * *";

/**
 * The worker's `scheduled` handler, dispatching on the cron that fired. The five-minute
 * jobs run side by side and independently: one failing does not keep the other from
 * running, and the run still reports the failure.
 */
export async function runScheduled(controller: Pick<ScheduledController, "cron" | "scheduledTime">, env: Env) {
  const nowMs = controller.scheduledTime;
  switch (controller.cron) {
    case DAILY_RETENTION:
      await purgeExpired(env.DB, { nowMs, eventRetentionDays: getConfig(env).EVENT_RETENTION_DAYS });
      return;
    case EVERY_FIVE_MINUTES: {
      const results = await Promise.allSettled([
        reconcileApprovals(env, { nowMs }),
        sweepStuckEvents(env, { nowMs }),
        // Alerts the consumer could not send (no batch since, or a refusing target) go out here.
        flushAlerts(env, nowMs),
      ]);
      const failures = results.flatMap((result) => (result.status === "rejected" ? [result.reason] : []));
      if (failures.length > 0) {
        log("error", "scheduled job failed", { cron: controller.cron, errors: failures.map(String) });
        throw new AggregateError(failures, "scheduled job failed");
      }
      return;
    }
    default:
      log("error", "scheduled run for a cron with no work", { cron: controller.cron });
  }
}
