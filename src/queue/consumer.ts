import { flushAlerts } from "../alerts/outbox";
import { log } from "../log";
import { backoffSeconds } from "./backoff";
import { handleDeadLetter } from "./dead-letter";
import { type ConsumerDeps, processEventMessage } from "./process-event";

/** By convention the dead-letter queue is the main queue's name plus `-dlq` (wrangler.toml). */
export function isDeadLetterQueue(queue: string): boolean {
  return queue.endsWith("-dlq");
}

/**
 * The queue handler. Every message is settled on its own (ack or retry), so one poison
 * message never blocks or re-runs the rest of its batch.
 */
export function createQueueHandler(deps: ConsumerDeps) {
  return async (batch: MessageBatch<unknown>, env: Env, ctx?: ExecutionContext): Promise<void> => {
    const deadLetters = isDeadLetterQueue(batch.queue);
    await Promise.all(
      batch.messages.map(async (message) => {
        try {
          if (deadLetters) {
            await handleDeadLetter(message.body, env, deps.now());
            message.ack();
            return;
          }
          const outcome = await processEventMessage(message.body, message.attempts, env, deps);
          if (outcome === "ack") message.ack();
          else message.retry({ delaySeconds: outcome.retryInSeconds });
        } catch (error) {
          // Transient (D1 unavailable, a batch that failed and rolled back): try again later.
          const delaySeconds = backoffSeconds(message.attempts);
          log("error", deadLetters ? "dead letter handling failed" : "event processing failed", {
            messageId: message.id,
            attempts: message.attempts,
            delaySeconds,
            error: String(error),
          });
          message.retry({ delaySeconds });
        }
      }),
    );
    // Sends the alerts this batch (or any before it) noted; a no-op without ALERT_URL.
    ctx?.waitUntil(flushAlerts(env, deps.now()));
  };
}
