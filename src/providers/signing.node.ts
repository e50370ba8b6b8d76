// The one signing implementation of the tools (tests, the simulator, the fake Nuvouch, the
// benchmarks), on node:crypto: independent of the gateway's WebCrypto code, so a shared bug
// cannot hide on both sides of a test. Each provider's scheme is in its simulator.node.ts.
import { createHash, createHmac } from "node:crypto";

/** HMAC-SHA256 of the parts, concatenated. */
export function hmacSha256(secret: string, ...parts: (string | Uint8Array)[]): Buffer {
  const mac = createHmac("sha256", secret);
  for (const part of parts) mac.update(part);
  return mac.digest();
}

export function sha256Hex(body: string | Uint8Array): string {
  return createHash("sha256").update(body).digest("hex");
}

/** `t=<unix seconds>,v1=hex(HMAC-SHA256(secret, "<t>.<raw body>"))`: Nova's scheme, assumed for Nuvouch. */
export function timestampedSignature(body: string | Uint8Array, secret: string, t: number | string): string {
  return `t=${t},v1=${hmacSha256(secret, `${t}.`, body).toString("hex")}`;
}
