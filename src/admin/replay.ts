import type { EventRow } from "../events/store";
import { enqueueEvent, MAX_INLINE_MESSAGE_BYTES } from "../ingest/enqueue";
import type { EventMessage } from "../queue/message";

export type ReplayPlan = { message: EventMessage } | { invalid: string };

/**
 * The one place that decides how a stored event is replayed, for single and bulk replays
 * alike: the queue message, or why the event cannot be replayed as it stands. A quarantined
 * event must have its stored bytes parsed again by its provider before it may be queued;
 * that parse belongs here, and until it exists such an event is refused.
 */
export async function replayMessage(row: EventRow): Promise<ReplayPlan> {
  if ((row.status as string) === "quarantined") {
    return { invalid: "a quarantined event is replayed only once its body parses" };
  }
  return {
    message: {
      v: 1,
      id: row.id,
      provider: row.provider,
      dedupeKey: row.dedupe_key,
      type: row.type,
      occurredAt: row.occurred_at,
      receivedAt: row.received_at,
      payload: row.payload,
      // The consumer runs the state rules again; its effects ledger keeps effects at most once.
      replay: true,
    },
  };
}

// Queues' sendBatch takes at most 100 messages and 256 KB in all; leave headroom.
export const MAX_SEND_BATCH_MESSAGES = 100;
const MAX_SEND_BATCH_BYTES = 240_000;

export interface ReplayResult {
  replayed: number;
  invalid: { id: string; reason: string }[];
}

/** The queue refused part of a replay; `replayed` messages had been sent before it did. */
export class ReplayEnqueueError extends Error {
  constructor(
    readonly replayed: number,
    cause: unknown,
  ) {
    super(`replay enqueue failed after ${replayed} messages: ${String(cause)}`);
    this.name = "ReplayEnqueueError";
  }
}

/**
 * Queues a replay of each row: small messages together through sendBatch, a payload too
 * large for one message parked in D1 first, as ingest does.
 */
export async function replayEvents(env: Env, rows: readonly EventRow[]): Promise<ReplayResult> {
  const invalid: ReplayResult["invalid"] = [];
  let replayed = 0;
  let batch: MessageSendRequest<EventMessage>[] = [];
  let batchBytes = 0;
  const sendBatch = async () => {
    if (batch.length === 0) return;
    await env.EVENTS_QUEUE.sendBatch(batch);
    replayed += batch.length;
    batch = [];
    batchBytes = 0;
  };
  try {
    for (const row of rows) {
      const plan = await replayMessage(row);
      if ("invalid" in plan) {
        invalid.push({ id: row.id, reason: plan.invalid });
        continue;
      }
      const bytes = new TextEncoder().encode(JSON.stringify(plan.message)).byteLength;
      if (bytes > MAX_INLINE_MESSAGE_BYTES) {
        await enqueueEvent(env, plan.message);
        replayed++;
        continue;
      }
      if (batch.length === MAX_SEND_BATCH_MESSAGES || batchBytes + bytes > MAX_SEND_BATCH_BYTES) await sendBatch();
      batch.push({ body: plan.message, contentType: "json" });
      batchBytes += bytes;
    }
    await sendBatch();
  } catch (error) {
    throw new ReplayEnqueueError(replayed, error);
  }
  return { replayed, invalid };
}
