import { toHex } from "./encoding";

/**
 * Importing a key costs more than the HMAC of a small body, so keys are kept per isolate. Bounded: past
 * `capacity` keys it starts over, which costs one import per secret. Keyed by the secret itself; it
 * only ever holds configured secrets.
 */
export class KeyCache {
  readonly #keys = new Map<string, Promise<CryptoKey>>();

  constructor(readonly capacity: number) {}

  get size(): number {
    return this.#keys.size;
  }

  key(secret: string | Uint8Array): Promise<CryptoKey> {
    const cacheKey = typeof secret === "string" ? `s:${secret}` : `b:${toHex(secret)}`;
    let key = this.#keys.get(cacheKey);
    if (!key) {
      if (this.#keys.size >= this.capacity) this.#keys.clear();
      const raw = typeof secret === "string" ? new TextEncoder().encode(secret) : secret;
      key = crypto.subtle.importKey("raw", raw, { name: "HMAC", hash: "SHA-256" }, false, ["sign", "verify"]);
      this.#keys.set(cacheKey, key);
      // A failed import must not poison the cache for the lifetime of the isolate.
      key.catch(() => this.#keys.delete(cacheKey));
    }
    return key;
  }
}

const keys = new KeyCache(64);

export function hmacSha256Key(secret: string | Uint8Array): Promise<CryptoKey> {
  return keys.key(secret);
}

export async function hmacSha256(secret: string | Uint8Array, data: Uint8Array): Promise<Uint8Array> {
  const key = await hmacSha256Key(secret);
  return new Uint8Array(await crypto.subtle.sign("HMAC", key, data as Uint8Array<ArrayBuffer>));
}

/**
 * Constant-time check of `mac` against HMAC-SHA256(secret, data). `crypto.subtle.verify`
 * compares in constant time and answers false for a MAC of the wrong length, so no
 * length or prefix information leaks through timing.
 */
export async function verifyHmacSha256(
  secret: string | Uint8Array,
  data: Uint8Array,
  mac: Uint8Array,
): Promise<boolean> {
  const key = await hmacSha256Key(secret);
  return crypto.subtle.verify("HMAC", key, mac as Uint8Array<ArrayBuffer>, data as Uint8Array<ArrayBuffer>);
}

/** True if `mac` matches under any of the secrets (rotation: old and new both valid). */
export async function verifyWithAnySecret(
  secrets: readonly string[],
  data: Uint8Array,
  macs: readonly Uint8Array[],
): Promise<boolean> {
  for (const secret of secrets) {
    for (const mac of macs) {
      if (await verifyHmacSha256(secret, data, mac)) return true;
    }
  }
  return false;
}

export async function sha256Hex(data: Uint8Array | string): Promise<string> {
  const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
  return toHex(await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>));
}
