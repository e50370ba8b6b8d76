// Signatures made with node:crypto, an implementation independent of the gateway's
// WebCrypto code, so a test vector never comes from the code under test.
import { createHash, createHmac } from "node:crypto";

import { TEST_SECRETS } from "./secrets";

export const SECRETS = {
  nova: TEST_SECRETS.NOVA_WEBHOOK_SECRET,
  nuvei: TEST_SECRETS.NUVEI_WEBHOOK_SECRET,
  nuvouch: TEST_SECRETS.NUVOUCH_CALLBACK_SECRET,
} as const;

export type ProviderName = keyof typeof SECRETS;

export function timestampedHeader(body: string | Uint8Array, secret: string, t: number | string): string {
  const mac = createHmac("sha256", secret).update(`${t}.`).update(body).digest("hex");
  return `t=${t},v1=${mac}`;
}

export function nuveiDigest(body: string | Uint8Array, secret: string, t: number | string): string {
  const h = createHash("sha256").update(body).digest("hex");
  return createHmac("sha256", secret).update(`${h}${t}`).digest("base64");
}

export function sha256HexNode(body: string | Uint8Array): string {
  return createHash("sha256").update(body).digest("hex");
}

/** Headers a real provider would send for `body`, signed at `t` (unix seconds). */
export function signedHeaders(
  provider: ProviderName,
  body: string | Uint8Array,
  t: number,
  secret: string = SECRETS[provider],
): Record<string, string> {
  switch (provider) {
    case "nova":
      return { "content-type": "application/json", "x-nova-signature": timestampedHeader(body, secret, t) };
    case "nuvouch":
      return { "content-type": "application/json", "x-nuvouch-signature": timestampedHeader(body, secret, t) };
    case "nuvei":
      return {
        "content-type": "application/json",
        "x-authentication-timestamp": String(t),
        "x-authentication-digest": nuveiDigest(body, secret, t),
      };
  }
}
