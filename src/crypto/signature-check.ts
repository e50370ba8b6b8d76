import { type Failure, ok, type Result } from "../result";

export type SignatureErrorCode = "signature_missing" | "signature_invalid" | "timestamp_out_of_tolerance";

export type SignatureCheck = Result<void, Failure<SignatureErrorCode>>;

/**
 * Checked after the MAC, so only an authentic delivery learns that its clock is off;
 * a forgery always reads `signature_invalid`. Both directions: a future timestamp is as
 * suspect as a stale one.
 */
export function checkTimestamp(timestamp: number, nowSeconds: number, toleranceSeconds: number): SignatureCheck {
  const age = nowSeconds - timestamp;
  if (age > toleranceSeconds)
    return { ok: false, code: "timestamp_out_of_tolerance", message: `timestamp ${age} s old` };
  if (-age > toleranceSeconds)
    return { ok: false, code: "timestamp_out_of_tolerance", message: `timestamp ${-age} s ahead` };
  return ok(undefined);
}
