import { createApp } from "./app";
import { effects } from "./effects/handlers";
import { createQueueHandler } from "./queue/consumer";
import type { EventMessage } from "./queue/message";

const app = createApp();

export default {
  fetch: app.fetch,
  queue: createQueueHandler({ registry: effects, now: Date.now }),
} satisfies ExportedHandler<Env, EventMessage>;
