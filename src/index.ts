import { createApp } from "./app";
import { getConfig } from "./config";
import { effects } from "./effects/handlers";
import { purgeExpired } from "./maintenance/retention";
import { createQueueHandler } from "./queue/consumer";
import type { EventMessage } from "./queue/message";

const app = createApp();

export default {
  fetch: app.fetch,
  queue: createQueueHandler({ registry: effects, now: Date.now }),
  scheduled: async (controller, env) => {
    await purgeExpired(env.DB, {
      nowMs: controller.scheduledTime,
      eventRetentionDays: getConfig(env).EVENT_RETENTION_DAYS,
    });
  },
} satisfies ExportedHandler<Env, EventMessage>;
