import { type Failure, fail, ok, type Result } from "../result";

const strictUtf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/**
 * Webhook bodies are UTF-8 JSON (or form data, or XML). Invalid bytes and a byte-order mark are
 * refused rather than replaced or stripped: what is stored must be what was signed.
 */
export function decodeBody(body: Uint8Array): Result<string, Failure<"payload_invalid">> {
  if (body.byteLength === 0) return fail("payload_invalid", "empty body");
  if (body[0] === 0xef && body[1] === 0xbb && body[2] === 0xbf)
    return fail("payload_invalid", "body starts with a byte-order mark");
  try {
    return ok(strictUtf8.decode(body));
  } catch {
    return fail("payload_invalid", "body is not valid UTF-8");
  }
}

// Dedupe keys and event types become KV and cache keys, queue message fields, URL parameters and
// log fields: 1–256 visible ASCII characters (docs/contract.md §3), so no control character, space, multi-byte
// surprise or 100 KB string gets that far.
const VISIBLE_ASCII = /^[\x21-\x7e]{1,256}$/;

export function isUsableDedupeKey(key: string): boolean {
  return VISIBLE_ASCII.test(key);
}

export function isUsableType(type: string): boolean {
  return VISIBLE_ASCII.test(type);
}
