import type { Context } from "hono";
import { getConfig, secretsOf } from "../config";
import { sha256Hex } from "../crypto/hmac";
import { jsonError } from "../http/errors";
import { log, warnOnce } from "../log";
import { refusals as isolateRefusals, type RefusalAggregator } from "../monitor/rejections";
import { getProvider } from "../providers/registry";
import { type Delivery, isParseFailure } from "../providers/types";
import { decodeBody, isUsableDedupeKey } from "./decode";
import { type DedupeFastPath, edgeFastPath, kvFastPath } from "./dedupe";
import { enqueueEvent, gatewayEventId } from "./enqueue";
import { readBodyWithinLimit } from "./read-body";
import { countRefusal, isRefusal } from "./refusals";

export type Clock = () => number;

// Nova wants a 2xx within 10 s: a slow dedupe store must not spend that budget. Past it,
// the delivery is queued and the consumer dedupes it.
const FAST_PATH_BUDGET_MS = 1500;

function withinBudget<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`dedupe lookup took over ${ms} ms`)), ms);
  });
  return Promise.race([work, late]).finally(() => {
    if (timer !== undefined) clearTimeout(timer);
  });
}
type Env_ = { Bindings: Env };

/**
 * `POST /webhooks/:provider`, top to bottom: route → size → verify → parse → dedupe →
 * enqueue → acknowledge. Nothing is acknowledged before the queue has taken it, and a
 * delivery refused at any step leaves no trace but its count in `rejections`.
 */
export function ingestHandler(now: Clock, refusals: RefusalAggregator = isolateRefusals) {
  return async (c: Context<Env_>): Promise<Response> => {
    const started = Date.now();
    const providerName = c.req.param("provider") ?? "";
    const provider = getProvider(providerName);
    const logDelivery = (status: number, result: string, fields: Record<string, unknown> = {}) =>
      log(status >= 500 ? "error" : "info", "delivery", {
        provider: provider ? provider.name : providerName.slice(0, 32),
        outcome: result,
        status,
        latencyMs: Date.now() - started,
        ...fields,
      });
    // Refusals are counted (src/monitor/rejections.ts), not logged one line per request.
    const outcome = (status: number, result: string, fields: Record<string, unknown> = {}) =>
      isRefusal(status)
        ? countRefusal(c, refusals, now(), {
            provider: provider?.name,
            requested: providerName,
            status,
            result,
            fields,
          })
        : logDelivery(status, result, fields);

    if (!provider) {
      outcome(404, "unknown_provider");
      return jsonError(c, 404, "unknown_provider");
    }
    if (c.req.method !== "POST") {
      outcome(405, "method_not_allowed");
      c.header("Allow", "POST");
      return jsonError(c, 405, "method_not_allowed");
    }

    const config = getConfig(c.env);
    const body = await readBodyWithinLimit(c.req.raw, config.MAX_BODY_BYTES);
    if (body === "too_large") {
      outcome(413, "rejected", { errorCode: "payload_too_large" });
      return jsonError(c, 413, "payload_too_large");
    }

    const secrets = secretsOf(c.env, provider.secretBinding);
    if (secrets.length === 0) {
      warnOnce(`no-secret:${provider.name}`, "provider secret not configured: every delivery is refused", {
        provider: provider.name,
        binding: provider.secretBinding,
      });
      outcome(401, "rejected", { errorCode: "signature_invalid", reason: "secret not configured" });
      return jsonError(c, 401, "signature_invalid");
    }

    let digest: Promise<string> | undefined;
    const delivery: Delivery = {
      headers: c.req.raw.headers,
      body,
      bodySha256: () => (digest ??= sha256Hex(body)),
    };
    const check = await provider.verify(delivery, {
      secrets,
      nowSeconds: Math.floor(now() / 1000),
      toleranceSeconds: config.SIGNATURE_TOLERANCE_SECONDS,
    });
    if (!check.ok) {
      outcome(401, "rejected", { errorCode: check.code, reason: check.reason });
      return jsonError(c, 401, check.code);
    }

    const decoded = decodeBody(body);
    const parsed = decoded.ok
      ? await provider.parse(decoded.text, delivery)
      : { error: "payload_invalid" as const, message: decoded.message };
    if (isParseFailure(parsed)) {
      const status = parsed.error === "unsupported_media_type" ? 415 : 400;
      outcome(status, "rejected", { errorCode: parsed.error, reason: parsed.message });
      return jsonError(c, status, parsed.error, parsed.message);
    }
    if (!isUsableDedupeKey(parsed.dedupeKey)) {
      const message = "event id must be 1 to 256 visible ASCII characters";
      outcome(400, "rejected", { errorCode: "payload_invalid", reason: message });
      return jsonError(c, 400, "payload_invalid", message);
    }

    const { dedupeKey } = parsed;
    const id = await gatewayEventId(provider.name, dedupeKey);
    const fastPath: DedupeFastPath =
      config.DEDUPE_MODE === "kv"
        ? kvFastPath(c.env.DEDUPE_KV, config.DEDUPE_TTL_SECONDS)
        : edgeFastPath({
            cache: caches.default,
            db: c.env.DB,
            origin: new URL(c.req.url).origin,
            ttlSeconds: config.DEDUPE_TTL_SECONDS,
          });
    try {
      const knownId = await withinBudget(fastPath.acceptedId(provider.name, dedupeKey, id), FAST_PATH_BUDGET_MS);
      if (knownId) {
        outcome(200, "duplicate", { dedupeKey, id: knownId });
        return c.json({ status: "duplicate", id: knownId }, 200);
      }
    } catch (error) {
      // Only the fast path failed: the consumer's D1 primary key still dedupes.
      log("warn", "dedupe lookup failed; enqueueing anyway", {
        provider: provider.name,
        dedupeKey,
        error: String(error),
      });
    }

    try {
      await enqueueEvent(c.env, {
        v: 1,
        id,
        provider: provider.name,
        dedupeKey,
        type: parsed.type,
        occurredAt: parsed.occurredAt,
        receivedAt: new Date(now()).toISOString(),
        payload: parsed.payloadJson,
      });
    } catch (error) {
      // Nothing was marked as seen, so the provider's retry will be accepted.
      outcome(503, "enqueue_failed", { errorCode: "enqueue_failed", dedupeKey, id, error: String(error) });
      return jsonError(c, 503, "enqueue_failed");
    }

    c.executionCtx.waitUntil(
      fastPath.markAccepted(provider.name, dedupeKey, id).catch((error) =>
        // The event is already safe in the queue; a missing mark only costs a consumer-side dedupe.
        log("warn", "dedupe mark failed", { provider: provider.name, dedupeKey, error: String(error) }),
      ),
    );
    outcome(202, "accepted", { dedupeKey, id, type: parsed.type });
    return c.json({ status: "accepted", id }, 202);
  };
}
