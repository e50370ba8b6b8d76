const encoder = new TextEncoder();

export function utf8(text: string): Uint8Array<ArrayBuffer> {
  return encoder.encode(text) as Uint8Array<ArrayBuffer>;
}

export function concatBytes(...parts: Uint8Array[]): Uint8Array<ArrayBuffer> {
  let length = 0;
  for (const part of parts) length += part.byteLength;
  const out = new Uint8Array(length);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.byteLength;
  }
  return out;
}

/**
 * `prefix` followed by `body`, as one contiguous view. Where `headroom` free bytes lie in front of
 * `body` in its buffer and an ASCII prefix fits in them, the prefix is written there and the body is
 * not copied (a MAC over 100 KB costs about as much as copying it); otherwise both are copied into a
 * new buffer. The bytes of `body` itself are never changed.
 */
export function prefixed(prefix: string, body: Uint8Array, headroom = 0): Uint8Array<ArrayBuffer> {
  const n = prefix.length;
  if (n > Math.min(headroom, body.byteOffset)) return concatBytes(utf8(prefix), body);
  const signed = new Uint8Array(body.buffer as ArrayBuffer, body.byteOffset - n, n + body.byteLength);
  for (let i = 0; i < n; i++) {
    const code = prefix.charCodeAt(i);
    // Not ASCII: one character would be several bytes (the headroom is scratch, so what was written stays).
    if (code > 0x7f) return concatBytes(utf8(prefix), body);
    signed[i] = code;
  }
  return signed;
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));

export function toHex(bytes: ArrayBuffer | Uint8Array): string {
  const view = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
  let out = "";
  for (const byte of view) out += HEX[byte];
  return out;
}

// charCode → nibble, -1 for anything that is not a hex digit.
const NIBBLE = new Int8Array(128).fill(-1);
for (let i = 0; i < 16; i++) {
  NIBBLE[i.toString(16).charCodeAt(0)] = i;
  NIBBLE[i.toString(16).toUpperCase().charCodeAt(0)] = i;
}

/**
 * Strict hex decoding: an odd length or any non-hex character is a decoding failure,
 * never a silently shorter key, so a garbled signature can't compare as a prefix.
 */
export function fromHex(hex: string): Uint8Array<ArrayBuffer> | null {
  if (hex.length % 2 !== 0) return null;
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) {
    const hi = NIBBLE[hex.charCodeAt(2 * i)] ?? -1;
    const lo = NIBBLE[hex.charCodeAt(2 * i + 1)] ?? -1;
    if (hi < 0 || lo < 0) return null;
    out[i] = (hi << 4) | lo;
  }
  return out;
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Strict, padded, standard-alphabet base64 (RFC 4648 §4); anything else is a decoding failure. */
export function fromBase64(text: string): Uint8Array<ArrayBuffer> | null {
  if (!BASE64.test(text)) return null;
  return Uint8Array.from(atob(text), (char) => char.charCodeAt(0));
}

export function toBase64(bytes: ArrayBuffer | Uint8Array): string {
  const view = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
  let binary = "";
  for (const byte of view) binary += String.fromCharCode(byte);
  return btoa(binary);
}
