import { findEventIdentity } from "../events/store";

/** What the fast path knows of an accepted delivery: its gateway id and, where kept, its body's hash. */
export interface Accepted {
  id: string;
  bodySha256: string | null;
}

/**
 * The fast path of dedupe at ingest: answering a provider's retry with 200 "duplicate"
 * without queueing it again. Only a fast path: the consumer's D1 primary key on the event id
 * (derived from provider + dedupe key) is the authoritative check, so a miss here costs
 * queue operations, never a second application. It also remembers which body was accepted, so
 * that another body under the same key is seen as a conflict at the door (docs/contract.md §3).
 */
export interface DedupeFastPath {
  /** The delivery accepted before under this key, as far as this path can tell. */
  accepted(provider: string, dedupeKey: string, id: string): Promise<Accepted | null>;
  /** Remembers an accepted delivery, its body hashed by then; called only after the queue took it. */
  markAccepted(provider: string, dedupeKey: string, accepted: { id: string; bodySha256: string }): Promise<void>;
}

export function dedupeKvKey(provider: string, dedupeKey: string): string {
  return `dedupe:${provider}:${dedupeKey}`;
}

/**
 * `DEDUPE_MODE=kv` (the default, as the design card has it): a KV read and a KV write per accepted
 * delivery. The value is the gateway id; the body's hash rides in the key's metadata. Global within
 * KV's ~60 s propagation, and the dearest part of the bill ($5 per million writes).
 */
export function kvFastPath(kv: KVNamespace, ttlSeconds: number): DedupeFastPath {
  return {
    async accepted(provider, dedupeKey) {
      // KV's default edge cache of a read (60 s) matches its propagation: a fresher read buys nothing.
      const { value, metadata } = await kv.getWithMetadata<{ sha?: string }>(dedupeKvKey(provider, dedupeKey));
      return value === null ? null : { id: value, bodySha256: metadata?.sha ?? null };
    },
    markAccepted: (provider, dedupeKey, accepted) =>
      kv.put(dedupeKvKey(provider, dedupeKey), accepted.id, {
        expirationTtl: ttlSeconds,
        metadata: { sha: accepted.bodySha256 },
      }),
  };
}

/**
 * `DEDUPE_MODE=edge` (opt-in, cheaper): the data centre's Cache API remembers what it accepted
 * (free, catches a quick re-send, which comes through the same data centre), and a D1
 * primary-key read finds any event the consumer already recorded, in whatever status (a row read
 * costs a thousandth of a KV read, and D1 is consistent where KV lags). No KV operation at all.
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
    async accepted(provider, dedupeKey, id) {
      // Both at once, so a new delivery (a cache miss) waits one round trip, not two. The read
      // may go to the nearest D1 replica: a slightly stale answer only costs a queued duplicate.
      const replica = options.db.withSession(); // "first-unconstrained", D1's default
      const [cached, recorded] = await Promise.allSettled([
        options.cache.match(url(provider, dedupeKey)),
        findEventIdentity(replica, id),
      ]);
      if (cached.status === "fulfilled" && cached.value) {
        const [cachedId = id, sha] = (await cached.value.text()).split(" ");
        return { id: cachedId, bodySha256: sha || null };
      }
      if (recorded.status === "rejected") throw recorded.reason;
      return recorded.value === null ? null : { id, bodySha256: recorded.value.bodySha256 };
    },
    markAccepted: (provider, dedupeKey, accepted) =>
      options.cache.put(
        url(provider, dedupeKey),
        new Response(`${accepted.id} ${accepted.bodySha256}`, {
          headers: { "cache-control": `max-age=${options.ttlSeconds}` },
        }),
      ),
  };
}
