const strictUtf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/**
 * Webhook bodies are UTF-8 JSON (or form data). Invalid bytes and a byte-order mark are
 * refused rather than replaced or stripped: what is stored must be what was signed.
 */
export function decodeBody(body: Uint8Array): { ok: true; text: string } | { ok: false; message: string } {
  if (body.byteLength === 0) return { ok: false, message: "empty body" };
  if (body[0] === 0xef && body[1] === 0xbb && body[2] === 0xbf)
    return { ok: false, message: "body starts with a byte-order mark" };
  try {
    return { ok: true, text: strictUtf8.decode(body) };
  } catch {
    return { ok: false, message: "body is not valid UTF-8" };
  }
}

// Dedupe keys become KV keys (at most 512 bytes) and appear in URLs and logs: visible
// ASCII only, so no control character, space or multi-byte surprise gets that far.
const DEDUPE_KEY = /^[\x21-\x7e]{1,256}$/;

export function isUsableDedupeKey(key: string): boolean {
  return DEDUPE_KEY.test(key);
}
