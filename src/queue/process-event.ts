import type { Clock } from "../clock";
import { getConfig } from "../config";
import { sha256Hex } from "../crypto/hmac";
import { noteNextRetry } from "../effects/attempts";
import { reviveEffects, scheduleEffects } from "../effects/ledger";
import type { EffectRegistry } from "../effects/registry";
import { runOwedEffects } from "../effects/runner";
import {
  bodyIsTheEvent,
  deleteBlob,
  findEventIdentity,
  getEvent,
  isConflict,
  loadBlob,
  noteConflict,
  recordEvent,
  setEventOutcome,
} from "../events/store";
import { describeIssues } from "../issues";
import { log } from "../log";
import type { Provider } from "../providers/types";
import { Batch } from "../sql";
import { backoffSeconds } from "./backoff";
import { EventMessage } from "./message";

export interface ConsumerDeps {
  /** The effects to run, and (its `providers`) the providers whose events are consumed. */
  registry: EffectRegistry<Provider>;
  now: Clock;
}

// What the queue is told, and nothing else: ack, or retry after so many seconds.
export type ProcessOutcome = "ack" | { retryInSeconds: number };

/**
 * One queue message, top to bottom: validate → dedupe against D1 → record the event, apply
 * the provider's state rules and schedule effects in one D1 batch (a transaction) → run
 * the effects still owed → settle the event's status. Throws only on transient failures,
 * which the caller answers with a retry.
 */
export async function processEventMessage(
  body: unknown,
  attempts: number,
  env: Env,
  deps: ConsumerDeps,
): Promise<ProcessOutcome> {
  const parsed = EventMessage.safeParse(body);
  if (!parsed.success) {
    // A message that can never be processed is dropped loudly, not retried forever.
    log("error", "malformed queue message dropped", { issues: describeIssues(parsed.error) });
    return "ack";
  }
  const message = parsed.data;
  const provider = deps.registry.providers.get(message.provider);
  if (!provider) {
    log("error", "queue message for an unknown provider dropped", { provider: message.provider, id: message.id });
    return "ack";
  }
  const db = env.DB;
  const config = getConfig(env);

  // The authoritative dedupe: the event's id is derived from (provider, dedupe key). Which body
  // this message carries (for the conflict rule) was hashed at ingest over the delivered bytes.
  const prior = await findEventIdentity(db, message.id);
  let bodySha256 = message.bodySha256 ?? (message.payload === undefined ? null : await sha256Hex(message.payload));
  const now = new Date(deps.now()).toISOString();
  if (bodySha256 !== null && isConflict(prior, bodySha256)) return conflict(db, message, bodySha256, now);
  const priorStatus = prior?.status ?? null;
  // Processed, dead-lettered or quarantined: only an operator replay, not a redelivery, revives it.
  if (!message.replay && priorStatus !== null && priorStatus !== "retrying") {
    if (message.payloadRef) await deleteBlob(db, message.payloadRef).run();
    log("info", "duplicate event skipped", logged(message));
    return "ack";
  }

  const payloadJson =
    message.payload ??
    (message.payloadRef ? await loadBlob(db, message.payloadRef) : null) ??
    (await getEvent(db, message.id))?.payload;
  if (payloadJson == null) throw new Error(`payload of ${message.id} not found`);
  bodySha256 ??= await sha256Hex(payloadJson);

  const applies = bodyIsTheEvent(message.id, bodySha256);
  const plan = provider.consume({
    db,
    eventId: message.id,
    dedupeKey: message.dedupeKey,
    payloadJson,
    now,
    applies,
  });
  const owed = deps.registry.for(provider.name, message.type, config);
  // Order matters: state first (effect gates read it), then effects, then the event row,
  // whose status reads the effects. D1 runs a batch as one transaction.
  // The first statement counts a conflict with a body recorded since the read above (a twin in
  // another batch); every later write is gated on `applies`, so such a batch changes nothing else.
  const batch = new Batch();
  const conflictNoted = batch.add(noteConflict(db, message.id, bodySha256, now));
  for (const statement of plan.statements) batch.add(statement);
  // An effect whose insert took was born claimed by this consumer.
  const claimed = scheduleEffects(batch, db, {
    eventId: message.id,
    onceKey: plan.onceKey,
    effects: owed,
    applies,
    keyCondition: plan.effectCondition,
    nowMs: deps.now(),
  });
  if (message.replay) batch.add(reviveEffects(db, message.id, now));
  batch.add(recordEvent(db, message, payloadJson, bodySha256, now));
  if (message.payloadRef) batch.add(deleteBlob(db, message.payloadRef));
  await batch.run(db);
  if ((await conflictNoted).meta.changes === 1) {
    log("warn", "conflicting body under a recorded key", logged(message, { bodySha256 }));
    return "ack";
  }

  // A first sighting that scheduled no effect owes none: skip the ledger read (the common,
  // cheapest path: one read, one batch). A replay of an event never recorded has nothing to revive.
  if (priorStatus === null && owed.length === 0) {
    log("info", "event processed", logged(message));
    return "ack";
  }

  const result = await runOwedEffects({
    db,
    env,
    registry: deps.registry,
    event: {
      id: message.id,
      provider: provider.name,
      type: message.type,
      dedupeKey: message.dedupeKey,
      receivedAt: message.receivedAt,
      occurredAt: message.occurredAt,
      data: plan.data,
    },
    payload: plan.payload,
    nowMs: deps.now,
    claimed: await claimed,
  });
  if (result.done) {
    if (result.ran > 0) await setEventOutcome(db, message.id, { status: "processed", lastError: null }, now);
    log("info", "event processed", logged(message, { replay: !!message.replay }));
    return "ack";
  }
  await setEventOutcome(db, message.id, { status: "retrying", lastError: result.error }, now);
  const delaySeconds = backoffSeconds(attempts, result.retryAfterSeconds);
  await noteNextRetry(db, message.id, deps.now() + delaySeconds * 1000);
  return { retryInSeconds: delaySeconds };
}

/** A body other than the event's under its key: counted on the event, never applied. */
async function conflict(db: D1Database, message: EventMessage, bodySha256: string, now: string) {
  await db.batch([
    noteConflict(db, message.id, bodySha256, now),
    ...(message.payloadRef ? [deleteBlob(db, message.payloadRef)] : []),
  ]);
  log("warn", "conflicting body under a recorded key", logged(message, { bodySha256 }));
  return "ack" as const;
}

function logged(message: EventMessage, extra: Record<string, unknown> = {}) {
  return { id: message.id, provider: message.provider, type: message.type, dedupeKey: message.dedupeKey, ...extra };
}
