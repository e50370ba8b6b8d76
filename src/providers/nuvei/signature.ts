import { fromBase64, utf8 } from "../../crypto/encoding";
import { verifyWithAnySecret } from "../../crypto/hmac";
import { checkTimestamp, type SignatureCheck } from "../../crypto/signature-check";
import type { Delivery, VerifyOptions } from "../types";

/**
 * Nuvei's message authentication: H = lowercase hex SHA-256 of the raw body, T the
 * `X-Authentication-Timestamp`, D = base64(HMAC-SHA256(secret, H + T)) by plain string
 * concatenation (the reading in docs/contract.md §11 of the Nuvei document, which says "combine").
 */
export async function verifyNuveiSignature(delivery: Delivery, options: VerifyOptions): Promise<SignatureCheck> {
  // The Fetch API has already stripped the whitespace around a header's value.
  const timestamp = delivery.headers.get("x-authentication-timestamp");
  const digest = delivery.headers.get("x-authentication-digest");
  if (!timestamp || !digest)
    return { ok: false, code: "signature_missing", message: "timestamp or digest header missing" };
  if (!/^\d{1,12}$/.test(timestamp))
    return { ok: false, code: "signature_invalid", message: "timestamp is not whole seconds" };
  const mac = fromBase64(digest);
  if (mac?.byteLength !== 32)
    return { ok: false, code: "signature_invalid", message: "digest is not base64 of 32 bytes" };
  const signed = utf8((await delivery.bodySha256()) + timestamp);
  if (!(await verifyWithAnySecret(options.secrets, signed, [mac]))) {
    return { ok: false, code: "signature_invalid", message: "no signature matches" };
  }
  return checkTimestamp(Number(timestamp), options.nowSeconds, options.toleranceSeconds);
}
