import { findEventStatus } from "../events/store";

/**
 * The fast path of dedupe at ingest: answering a provider's retry with 200 "duplicate"
 * without queueing it again. Only a fast path: the consumer's D1 primary key on the event id
 * (derived from provider + dedupe key) is the authoritative check, so a miss here costs
 * queue operations, never a second application.
 */
export interface DedupeFastPath {
  /** The gateway id when this delivery was accepted before, as far as this path can tell. */
  acceptedId(provider: string, dedupeKey: string, id: string): Promise<string | null>;
  /** Remembers an accepted delivery; called only after the queue took it. */
  markAccepted(provider: string, dedupeKey: string, id: string): Promise<void>;
}

export function dedupeKvKey(provider: string, dedupeKey: string): string {
  return `dedupe:${provider}:${dedupeKey}`;
}

/**
 * `DEDUPE_MODE=kv` (the default, as the design card says): a KV read and a KV write per
 * accepted delivery. Global within KV's ~60 s propagation, and the dearest part of the bill
 * ($5 per million writes).
 */
export function kvFastPath(kv: KVNamespace, ttlSeconds: number): DedupeFastPath {
  return {
    acceptedId: (provider, dedupeKey) => kv.get(dedupeKvKey(provider, dedupeKey), { cacheTtl: 60 }),
    markAccepted: (provider, dedupeKey, id) =>
      kv.put(dedupeKvKey(provider, dedupeKey), id, { expirationTtl: ttlSeconds }),
  };
}

/**
 * `DEDUPE_MODE=edge` (opt-in, the cheaper one): the data centre's Cache API remembers what it accepted
 * (free, catches a quick re-send, which comes through the same data centre), and a D1
 * primary-key read finds any event the consumer already recorded, in whatever status (a row read costs a
 * thousandth of a KV read, and D1 is consistent where KV lags). No KV operation at all.
 */
export function edgeFastPath(options: {
  cache: Cache;
  db: D1Database;
  origin: string;
  ttlSeconds: number;
}): DedupeFastPath {
  const url = (provider: string, dedupeKey: string) =>
    `${options.origin}/__dedupe/${provider}/${encodeURIComponent(dedupeKey)}`;
  return {
    async acceptedId(provider, dedupeKey, id) {
      // Both at once, so a new delivery (a cache miss) waits one round trip, not two. The read
      // may go to the nearest D1 replica: a slightly stale answer only costs a queued duplicate.
      const replica = options.db.withSession("first-unconstrained");
      const [cached, status] = await Promise.allSettled([
        options.cache.match(url(provider, dedupeKey)),
        findEventStatus(replica, id),
      ]);
      if (cached.status === "fulfilled" && cached.value) return cached.value.text();
      if (status.status === "rejected") throw status.reason;
      return status.value === null ? null : id;
    },
    markAccepted: (provider, dedupeKey, id) =>
      options.cache.put(
        url(provider, dedupeKey),
        new Response(id, { headers: { "cache-control": `max-age=${options.ttlSeconds}` } }),
      ),
  };
}
