import { createApp } from "./app";
import { systemClock } from "./clock";
import { effects } from "./effects/handlers";
import { runScheduled } from "./maintenance/schedule";
import { createQueueHandler } from "./queue/consumer";
import type { EventMessage } from "./queue/message";

const app = createApp();

export default {
  fetch: app.fetch,
  queue: createQueueHandler({ registry: effects, now: systemClock }),
  scheduled: (controller, env) => runScheduled(controller, env),
} satisfies ExportedHandler<Env, EventMessage>;
