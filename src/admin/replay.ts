import { type EventRow, requarantine } from "../events/store";
import { readEvent } from "../providers/read-event";
import type { ProviderRegistry } from "../providers/registry";
import type { ParseFailure } from "../providers/types";
import { enqueueEvent, eventsQueue, MAX_INLINE_MESSAGE_BYTES } from "../queue/enqueue";
import type { EventMessage } from "../queue/message";
import { fail, ok, type Result } from "../result";

export type ReplayPlan = Result<EventMessage, ParseFailure>;

/** D1 hands a BLOB back as an ArrayBuffer or, in some runtimes, an array of byte values. */
export function blobBytes(value: unknown): Uint8Array {
  if (value instanceof Uint8Array) return value;
  if (value instanceof ArrayBuffer) return new Uint8Array(value);
  if (Array.isArray(value)) return Uint8Array.from(value as number[]);
  return new Uint8Array(0);
}

/**
 * The one place that decides how a stored event is replayed, for single and bulk replays alike:
 * the stored event marked as a replay (state rules run again, effects stay at most once), with
 * the hash of the body it was recorded with so the consumer never takes it for a conflict. A
 * quarantined delivery is first re-read from its exact bytes with the code deployed now: readable,
 * it flows on as a normal event under its id; still unreadable, it stays quarantined with today's
 * reasons (written here) and is not queued.
 */
export async function replayMessage(
  db: D1Database,
  providers: ProviderRegistry,
  row: EventRow,
  nowMs: number,
): Promise<ReplayPlan> {
  const base = {
    v: 1 as const,
    id: row.id,
    provider: row.provider,
    dedupeKey: row.dedupe_key,
    receivedAt: row.received_at,
    replay: true,
    ...(row.body_sha256 ? { bodySha256: row.body_sha256 } : {}),
  };
  if (row.status !== "quarantined") {
    return ok({ ...base, type: row.type, occurredAt: row.occurred_at, payload: row.payload });
  }
  const provider = providers.get(row.provider);
  const parsed = provider
    ? await readEvent(provider, {
        headers: new Headers(row.content_type ? { "content-type": row.content_type } : {}),
        body: blobBytes(row.raw_body),
        bodySha256: async () => row.body_sha256 ?? "",
      })
    : fail("payload_invalid", `no provider named ${row.provider}`);
  if (!parsed.ok) {
    await requarantine(db, row.id, parsed.message.slice(0, 500), new Date(nowMs).toISOString()).run();
    return parsed;
  }
  const { type, occurredAt, payloadJson } = parsed.value;
  return ok({ ...base, type, occurredAt, payload: payloadJson });
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
export async function replayEvents(
  env: Env,
  providers: ProviderRegistry,
  rows: readonly EventRow[],
  nowMs: number,
): Promise<ReplayResult> {
  const invalid: ReplayResult["invalid"] = [];
  let replayed = 0;
  // Sent in order, one batch at a time, each to one queue (eventsQueue: one for all today, one per
  // provider if the gateway is sharded, when a change of queue closes the batch).
  let batch: { queue: Queue<EventMessage>; messages: MessageSendRequest<EventMessage>[]; bytes: number } | undefined;
  const sendBatch = async () => {
    if (!batch) return;
    await batch.queue.sendBatch(batch.messages);
    replayed += batch.messages.length;
    batch = undefined;
  };
  try {
    for (const row of rows) {
      const plan = await replayMessage(env.DB, providers, row, nowMs);
      if (!plan.ok) {
        invalid.push({ id: row.id, reason: plan.message });
        continue;
      }
      const message = plan.value;
      const bytes = new TextEncoder().encode(JSON.stringify(message)).byteLength;
      if (bytes > MAX_INLINE_MESSAGE_BYTES) {
        await enqueueEvent(env, message, nowMs);
        replayed++;
        continue;
      }
      const queue = eventsQueue(env, message.provider);
      if (
        batch &&
        (batch.queue !== queue ||
          batch.messages.length === MAX_SEND_BATCH_MESSAGES ||
          batch.bytes + bytes > MAX_SEND_BATCH_BYTES)
      )
        await sendBatch();
      batch ??= { queue, messages: [], bytes: 0 };
      batch.messages.push({ body: message, contentType: "json" });
      batch.bytes += bytes;
    }
    await sendBatch();
  } catch (error) {
    throw new ReplayEnqueueError(replayed, error);
  }
  return { replayed, invalid };
}
