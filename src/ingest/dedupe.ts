/**
 * The KV fast path of dedupe. KV is eventually consistent, so a miss proves nothing: the
 * D1 unique key on (provider, dedupe_key) in the consumer is the authoritative check.
 */
export function dedupeKvKey(provider: string, dedupeKey: string): string {
  return `dedupe:${provider}:${dedupeKey}`;
}

export function findAcceptedId(kv: KVNamespace, provider: string, dedupeKey: string): Promise<string | null> {
  return kv.get(dedupeKvKey(provider, dedupeKey), { cacheTtl: 60 });
}

export function markAccepted(
  kv: KVNamespace,
  provider: string,
  dedupeKey: string,
  id: string,
  ttlSeconds: number,
): Promise<void> {
  return kv.put(dedupeKvKey(provider, dedupeKey), id, { expirationTtl: ttlSeconds });
}
