import { type EventRow, requarantine } from "../events/store";
import { enqueueEvent } from "../ingest/enqueue";
import { readEvent } from "../ingest/read-event";
import { getProvider } from "../providers/registry";
import type { EventMessage } from "../queue/message";

export type ReplayResult =
  | { status: "replay_queued"; id: string }
  | { status: "quarantined"; id: string; reason: string };

/** D1 hands a BLOB back as an ArrayBuffer or, in some runtimes, an array of byte values. */
export function blobBytes(value: unknown): Uint8Array {
  if (value instanceof Uint8Array) return value;
  if (value instanceof ArrayBuffer) return new Uint8Array(value);
  if (Array.isArray(value)) return Uint8Array.from(value as number[]);
  return new Uint8Array(0);
}

/**
 * What replaying an event queues: the stored event marked as a replay (state rules run again,
 * effects stay at most once). A quarantined delivery is first re-read from its exact bytes with the
 * code deployed now: fixed, it flows on as a normal event under its id; still unreadable, it stays
 * quarantined with today's reasons.
 */
export async function replayMessage(
  db: D1Database,
  row: EventRow,
  nowMs: number,
): Promise<EventMessage | { reason: string }> {
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
    return { ...base, type: row.type, occurredAt: row.occurred_at, payload: row.payload };
  }
  const provider = getProvider(row.provider);
  const parsed = provider
    ? await readEvent(provider, {
        headers: new Headers(row.content_type ? { "content-type": row.content_type } : {}),
        body: blobBytes(row.raw_body),
        bodySha256: async () => row.body_sha256 ?? "",
      })
    : { error: "payload_invalid" as const, message: `no provider named ${row.provider}` };
  if ("error" in parsed) {
    await requarantine(db, row.id, parsed.message.slice(0, 500), new Date(nowMs).toISOString()).run();
    return { reason: parsed.message };
  }
  return { ...base, type: parsed.type, occurredAt: parsed.occurredAt, payload: parsed.payloadJson };
}

/** Replays one event: queues it, or re-quarantines it with the reasons of the code deployed now. */
export async function replayEvent(env: Env, row: EventRow, nowMs: number): Promise<ReplayResult> {
  const message = await replayMessage(env.DB, row, nowMs);
  if ("reason" in message) return { status: "quarantined", id: row.id, reason: message.reason };
  await enqueueEvent(env, message);
  return { status: "replay_queued", id: row.id };
}
