import { type Failure, fail, ok, type Result } from "../result";
import { fromHex, prefixed } from "./encoding";
import { verifyWithAnySecret } from "./hmac";
import { checkTimestamp, type SignatureCheck } from "./signature-check";

// Real headers carry a timestamp and one or two signatures; the caps bound the work an
// attacker can force with a header of thousands of entries.
const MAX_HEADER_LENGTH = 2048;
const MAX_ENTRIES = 16;
const SIGNATURE_HEX_LENGTH = 64;

export interface TimestampedSignatureHeader {
  /** The timestamp exactly as sent: the MAC covers these characters, not a re-formatted number. */
  timestamp: string;
  signatures: Uint8Array<ArrayBuffer>[];
}

/**
 * Parses `t=<unix seconds>,v1=<hex>[,v1=<hex>…]`. Entries of other schemes (`v0=`), empty entries (a
 * trailing comma) and malformed `v1` entries are skipped, so that one bad entry never spoils a
 * well-formed one that matches (docs/contract.md §2); the MAC still decides. A repeated or malformed
 * `t` is refused: the MAC covers it, and two (two headers joined by the Fetch API) are ambiguous.
 */
export function parseTimestampedSignature(
  header: string,
): Result<TimestampedSignatureHeader, Failure<"signature_invalid">> {
  const refuse = (reason: string) => fail("signature_invalid", reason);
  if (header.length > MAX_HEADER_LENGTH) return refuse(`header over ${MAX_HEADER_LENGTH} characters`);
  const entries = header.split(",");
  if (entries.length > MAX_ENTRIES) return refuse(`over ${MAX_ENTRIES} entries`);
  let timestamp: string | undefined;
  let malformed = 0;
  const signatures: Uint8Array<ArrayBuffer>[] = [];
  for (const entry of entries) {
    const eq = entry.indexOf("=");
    // No "=" at all gives an empty key, which no scheme has: the entry is skipped.
    const key = entry.slice(0, Math.max(eq, 0)).trim();
    const value = entry.slice(eq + 1).trim();
    if (key === "t") {
      if (timestamp !== undefined) return refuse("repeated t");
      if (!/^\d{1,12}$/.test(value)) return refuse("t is not a whole number of seconds");
      timestamp = value;
    } else if (key === "v1") {
      const mac = value.length === SIGNATURE_HEX_LENGTH ? fromHex(value) : null;
      if (mac) signatures.push(mac);
      else malformed++;
    }
  }
  if (timestamp === undefined) return refuse("no t entry");
  if (signatures.length === 0) return refuse(malformed > 0 ? "no v1 entry is 64 hex characters" : "no v1 entry");
  return ok({ timestamp, signatures });
}

/** v1 = hex(HMAC-SHA256(secret, `<t>.<raw body>`)), the scheme of Nova (and assumed for Nuvouch). */
export async function verifyTimestampedSignature(options: {
  header: string | null;
  body: Uint8Array;
  /** Free bytes in front of `body` in its buffer (Delivery.headroom): `<t>.` is written there, not copied. */
  headroom?: number;
  secrets: readonly string[];
  nowSeconds: number;
  toleranceSeconds: number;
}): Promise<SignatureCheck> {
  const { header, body, headroom, secrets, nowSeconds, toleranceSeconds } = options;
  if (!header || header.trim() === "") return { ok: false, code: "signature_missing", message: "no signature header" };
  const parsed = parseTimestampedSignature(header);
  if (!parsed.ok) return parsed;
  const { timestamp, signatures } = parsed.value;
  const signedPayload = prefixed(`${timestamp}.`, body, headroom);
  if (!(await verifyWithAnySecret(secrets, signedPayload, signatures))) {
    return { ok: false, code: "signature_invalid", message: "no signature matches" };
  }
  return checkTimestamp(Number(timestamp), nowSeconds, toleranceSeconds);
}
