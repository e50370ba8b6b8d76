import type { Context } from "hono";
import { type Clock, stopwatch, withTimeout } from "../clock";
import { getConfig } from "../config";
import { sha256Hex } from "../crypto/hmac";
import { jsonError } from "../http/errors";
import { log, warnOnce } from "../log";
import { refusals as isolateRefusals, type RefusalAggregator } from "../monitor/rejections";
import { readEvent } from "../providers/read-event";
import type { ProviderRegistry } from "../providers/registry";
import type { Delivery } from "../providers/types";
import { enqueueEvent, gatewayEventId } from "../queue/enqueue";
import { readSecretList } from "../secrets";
import { isAllowed, parseAllowList } from "./allowlist";
import { type DedupeFastPath, edgeFastPath, kvFastPath } from "./dedupe";
import { type QuarantineOutcome, quarantine } from "./quarantine";
import { readBodyWithinLimit } from "./read-body";
import { countRefusal, isRefusal } from "./refusals";

// Nova wants a 2xx within 10 s: a slow dedupe store must not spend that budget. Past it,
// the delivery is queued and the consumer dedupes it.
const FAST_PATH_BUDGET_MS = 1500;

type Env_ = { Bindings: Env };

/**
 * `POST /webhooks/:provider`, top to bottom: route → size → verify → parse (or quarantine) →
 * dedupe → enqueue → acknowledge. Nothing is acknowledged before the queue (or, for a quarantined
 * delivery, D1) has taken it, and a delivery refused at any step leaves no trace but its count in
 * `rejections`.
 */
export function ingestHandler(options: { now: Clock; providers: ProviderRegistry; refusals?: RefusalAggregator }) {
  const { now, providers, refusals = isolateRefusals } = options;
  return async (c: Context<Env_, "/webhooks/:provider">): Promise<Response> => {
    const elapsed = stopwatch();
    const providerName = c.req.param("provider");
    const provider = providers.get(providerName);
    const logDelivery = (status: number, result: string, fields: Record<string, unknown> = {}) =>
      log(status >= 500 ? "error" : "info", "delivery", {
        provider: provider ? provider.name : providerName.slice(0, 32),
        outcome: result,
        status,
        latencyMs: Math.round(elapsed()),
        ...fields,
      });
    // Refusals are counted (src/monitor/rejections.ts), not logged one line per request; a
    // refusal's result is its error code.
    const outcome = (status: number, result: string, fields: Record<string, unknown> = {}) =>
      isRefusal(status)
        ? countRefusal(c, refusals, now(), {
            provider: provider?.name,
            requested: providerName,
            status,
            code: result,
            fields,
          })
        : logDelivery(status, result, fields);

    if (!provider) {
      outcome(404, "unknown_provider");
      return jsonError(c, "unknown_provider");
    }
    if (c.req.method !== "POST") {
      outcome(405, "method_not_allowed");
      c.header("Allow", "POST");
      return jsonError(c, "method_not_allowed");
    }

    // An operator's optional allowlist (`<PROVIDER>_ALLOWED_IPS`): the cheapest refusal, before the
    // body is read or any MAC computed.
    const allowed = (c.env as unknown as Record<string, unknown>)[`${provider.name.toUpperCase()}_ALLOWED_IPS`];
    if (typeof allowed === "string" && allowed.trim() !== "") {
      const list = parseAllowList(allowed);
      const source = c.req.header("cf-connecting-ip") ?? null;
      if (!list.ok || !isAllowed(list.value, source)) {
        if (!list.ok)
          warnOnce(`allowlist:${provider.name}`, "allowlist misconfigured: every delivery is refused", {
            provider: provider.name,
            error: list.message,
          });
        outcome(403, "source_not_allowed", {
          reason: list.ok ? `source ${String(source).slice(0, 45)} not in the allowlist` : list.message,
        });
        return jsonError(c, "source_not_allowed");
      }
    }

    const config = getConfig(c.env);
    const received = await readBodyWithinLimit(c.req.raw, config.MAX_BODY_BYTES);
    if (!received.ok) {
      outcome(413, "payload_too_large");
      return jsonError(c, "payload_too_large");
    }

    const secrets = await readSecretList(c.env, provider.secretBinding, now());
    if (secrets.length === 0) {
      warnOnce(`no-secret:${provider.name}`, "provider secret not configured: every delivery is refused", {
        provider: provider.name,
        binding: provider.secretBinding,
      });
      outcome(401, "signature_invalid", { reason: "secret not configured" });
      return jsonError(c, "signature_invalid");
    }

    let digest: Promise<string> | undefined;
    const { body, headroom } = received.value;
    const delivery: Delivery = {
      headers: c.req.raw.headers,
      body,
      headroom,
      bodySha256: () => (digest ??= sha256Hex(body)),
    };
    const check = await provider.verify(delivery, {
      secrets,
      nowSeconds: Math.floor(now() / 1000),
      toleranceSeconds: config.SIGNATURE_TOLERANCE_SECONDS,
    });
    if (!check.ok) {
      outcome(401, check.code, { reason: check.message });
      return jsonError(c, check.code);
    }

    const receivedAt = new Date(now()).toISOString();
    const fastPath: DedupeFastPath =
      config.DEDUPE_MODE === "kv"
        ? kvFastPath(c.env.DEDUPE_KV, config.DEDUPE_TTL_SECONDS)
        : edgeFastPath({
            cache: caches.default,
            db: c.env.DB,
            origin: new URL(c.req.url).origin,
            ttlSeconds: config.DEDUPE_TTL_SECONDS,
          });
    const remember = (dedupeKey: string, accepted: { id: string; bodySha256: string }) =>
      c.executionCtx.waitUntil(
        fastPath.markAccepted(provider.name, dedupeKey, accepted).catch((error) =>
          // The delivery is already safe; a missing mark only costs a consumer-side dedupe.
          log("warn", "dedupe mark failed", { provider: provider.name, dedupeKey, error: String(error) }),
        ),
      );
    const read = await readEvent(provider, delivery);
    if (!read.ok) {
      // Authentic bytes this code cannot read: kept, never applied, replayable after a fix (docs/contract.md §3).
      let kept: QuarantineOutcome;
      try {
        kept = await quarantine(c.env.DB, {
          provider: provider.name,
          delivery,
          failure: read,
          receivedAt,
          alert: config.ALERT_URL !== undefined,
        });
      } catch (error) {
        outcome(503, "store_failed", { errorCode: "store_failed", error: String(error) });
        return jsonError(c, "store_failed", "the delivery could not be stored; retry");
      }
      // Its retries are then answered by the fast path like any accepted delivery's.
      if (kept.status === "quarantined") remember(kept.dedupeKey, { id: kept.id, bodySha256: kept.bodySha256 });
      outcome(kept.status === "quarantined" ? 202 : 200, kept.status, { id: kept.id, reason: read.message });
      return kept.status === "quarantined"
        ? c.json({ status: "quarantined", id: kept.id }, 202)
        : c.json({ status: "duplicate", id: kept.id, ...(kept.status === "conflict" ? { conflict: true } : {}) }, 200);
    }

    const parsed = read.value;
    const { dedupeKey } = parsed;
    const bodySha256 = await delivery.bodySha256();
    const id = await gatewayEventId(provider.name, dedupeKey);
    let conflict = false;
    try {
      const known = await withTimeout(
        () => fastPath.accepted(provider.name, dedupeKey, id),
        FAST_PATH_BUDGET_MS,
        `dedupe lookup took over ${FAST_PATH_BUDGET_MS} ms`,
      );
      if (known && (known.bodySha256 === null || known.bodySha256 === bodySha256)) {
        outcome(200, "duplicate", { dedupeKey, id: known.id });
        return c.json({ status: "duplicate", id: known.id }, 200);
      }
      // Another body under a key already accepted: queued only so that the consumer counts it on the
      // event; it is never applied (docs/contract.md §3).
      conflict = known !== null;
    } catch (error) {
      // Only the fast path failed: the consumer's D1 primary key still dedupes.
      log("warn", "dedupe lookup failed; enqueueing anyway", {
        provider: provider.name,
        dedupeKey,
        error: String(error),
      });
    }

    try {
      await enqueueEvent(
        c.env,
        {
          v: 1,
          id,
          provider: provider.name,
          dedupeKey,
          type: parsed.type,
          occurredAt: parsed.occurredAt,
          receivedAt,
          payload: parsed.payloadJson,
          bodySha256,
        },
        Date.parse(receivedAt),
      );
    } catch (error) {
      // Nothing was marked as seen, so the provider's retry will be accepted.
      outcome(503, "enqueue_failed", { errorCode: "enqueue_failed", dedupeKey, id, error: String(error) });
      return jsonError(c, "enqueue_failed");
    }
    if (conflict) {
      outcome(200, "conflict", { dedupeKey, id, type: parsed.type });
      return c.json({ status: "duplicate", id, conflict: true }, 200);
    }

    remember(dedupeKey, { id, bodySha256 });
    outcome(202, "accepted", { dedupeKey, id, type: parsed.type });
    return c.json({ status: "accepted", id }, 202);
  };
}
