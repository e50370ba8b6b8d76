import { getConfig } from "../config";
import { log } from "../log";
import { reconcileApprovals } from "./reconcile";
import { purgeExpired } from "./retention";

// The crons of wrangler.toml's [triggers]: each names its work.
export const EVERY_FIVE_MINUTES = "*/5 * * * *";
export const DAILY_RETENTION = "17 3 * * *";

/** The worker's `scheduled` handler, dispatching on the cron that fired. */
export async function runScheduled(controller: Pick<ScheduledController, "cron" | "scheduledTime">, env: Env) {
  const nowMs = controller.scheduledTime;
  switch (controller.cron) {
    case DAILY_RETENTION:
      await purgeExpired(env.DB, { nowMs, eventRetentionDays: getConfig(env).EVENT_RETENTION_DAYS });
      return;
    case EVERY_FIVE_MINUTES:
      await reconcileApprovals(env, { nowMs });
      return;
    default:
      log("error", "scheduled run for a cron with no work", { cron: controller.cron });
  }
}
