import { getConfig } from "../config";
import { noteNextRetry } from "../effects/attempts";
import { FORWARD_EFFECT } from "../effects/forward";
import { reviveEffects, scheduleEffect } from "../effects/ledger";
import type { EffectRegistry } from "../effects/registry";
import { runOwedEffects } from "../effects/runner";
import { deleteBlob, findEventStatus, getEvent, loadBlob, recordEvent, setEventOutcome } from "../events/store";
import { log } from "../log";
import { getProvider } from "../providers/registry";
import { backoffSeconds } from "./backoff";
import { EventMessage } from "./message";

export interface ConsumerDeps {
  registry: EffectRegistry;
  now: () => number;
}

export type ProcessOutcome = { kind: "ack"; note: string } | { kind: "retry"; delaySeconds: number; error: string };

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
    log("error", "malformed queue message dropped", { issues: parsed.error.issues.slice(0, 3).map((i) => i.message) });
    return { kind: "ack", note: "malformed" };
  }
  const message = parsed.data;
  const provider = getProvider(message.provider);
  if (!provider) {
    log("error", "queue message for an unknown provider dropped", { provider: message.provider, id: message.id });
    return { kind: "ack", note: "unknown provider" };
  }
  const db = env.DB;
  const config = getConfig(env);

  // The authoritative dedupe: the event's id is derived from (provider, dedupe key).
  const priorStatus = await findEventStatus(db, message.id);
  // Processed, or dead-lettered (then only an operator replay, not a redelivery, revives it).
  if (!message.replay && (priorStatus === "processed" || priorStatus === "dead")) {
    if (message.payloadRef) await deleteBlob(db, message.payloadRef).run();
    log("info", "duplicate event skipped", { id: message.id, provider: provider.name, dedupeKey: message.dedupeKey });
    return { kind: "ack", note: "duplicate" };
  }

  const payloadJson =
    message.payload ??
    (message.payloadRef ? await loadBlob(db, message.payloadRef) : null) ??
    (await getEvent(db, message.id))?.payload;
  if (payloadJson == null) throw new Error(`payload of ${message.id} not found`);

  const now = new Date(deps.now()).toISOString();
  const plan = provider.consume({
    db,
    eventId: message.id,
    type: message.type,
    dedupeKey: message.dedupeKey,
    payloadJson,
    now,
  });
  const nowMs = deps.now();
  const effects = [
    ...deps.registry
      .for(provider.name, message.type)
      .map((effect) => ({ id: `${plan.onceKey}:${effect.name}`, name: effect.name, condition: plan.effectCondition })),
    ...(config.FORWARD_URL
      ? [{ id: `${FORWARD_EFFECT}:${message.id}`, name: FORWARD_EFFECT, condition: undefined }]
      : []),
  ];
  // Order matters: state first (effect gates read it), then effects, then the event row,
  // whose status reads the effects. D1 runs a batch as one transaction.
  const results = await db.batch([
    ...plan.statements,
    ...effects.map((effect) =>
      scheduleEffect(db, { id: effect.id, eventId: message.id, name: effect.name }, effect.condition, nowMs),
    ),
    ...(message.replay ? [reviveEffects(db, message.id, now)] : []),
    recordEvent(db, message, payloadJson, now),
    ...(message.payloadRef ? [deleteBlob(db, message.payloadRef)] : []),
  ]);
  // An effect whose insert took (one row changed) was born claimed by this consumer.
  const claimed = new Set(
    effects.filter((_, i) => results[plan.statements.length + i]?.meta.changes === 1).map((effect) => effect.id),
  );

  // A first sighting that scheduled no effect owes none: skip the ledger read (the common,
  // cheapest path: one read, one batch).
  if (priorStatus === null && effects.length === 0 && !message.replay) {
    log("info", "event processed", { id: message.id, provider: provider.name, type: message.type });
    return { kind: "ack", note: "processed" };
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
    },
    payload: plan.payload,
    forwardData: plan.forwardData,
    forward:
      config.FORWARD_URL && config.FORWARD_SIGNING_SECRET
        ? { url: config.FORWARD_URL, signingSecret: config.FORWARD_SIGNING_SECRET }
        : undefined,
    timeouts: { effectMs: config.EFFECT_TIMEOUT_MS, forwardMs: config.FORWARD_TIMEOUT_MS },
    nowMs: deps.now,
    claimed,
  });
  if (result.done) {
    if (result.ran > 0) await setEventOutcome(db, message.id, { status: "processed", lastError: null }, now);
    log("info", "event processed", {
      id: message.id,
      provider: provider.name,
      type: message.type,
      replay: !!message.replay,
    });
    return { kind: "ack", note: "processed" };
  }
  await setEventOutcome(db, message.id, { status: "retrying", lastError: result.error }, now);
  const delaySeconds = backoffSeconds(attempts, result.retryAfterSeconds);
  await noteNextRetry(db, message.id, deps.now() + delaySeconds * 1000);
  return { kind: "retry", delaySeconds, error: result.error };
}
