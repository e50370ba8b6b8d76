// Signatures made by the tools' one signing module (src/providers/signing.node.ts, node:crypto),
// an implementation independent of the gateway's WebCrypto code, so a test vector never comes
// from the code under test.
import { type ProviderName, providers } from "../../src/providers/registry";
import { signatureHeaders } from "../../src/providers/simulators.node.ts";
import { TEST_SECRETS } from "./secrets";

export { nuveiDigest } from "../../src/providers/nuvei/simulator.node.ts";
export {
  sha256Hex as sha256HexNode,
  timestampedSignature as timestampedHeader,
} from "../../src/providers/signing.node.ts";
export type { ProviderName };

/** Each provider's test secret (its binding's, in vitest.config.ts). */
export const SECRETS = Object.fromEntries(
  providers.list.map((provider) => [provider.name, TEST_SECRETS[provider.secretBinding]]),
) as Record<ProviderName, string>;

/** Headers a real provider would send for `body`, signed at `t` (unix seconds). */
export function signedHeaders(
  provider: ProviderName,
  body: string | Uint8Array,
  t: number,
  secret: string = SECRETS[provider],
): Record<string, string> {
  return { "content-type": "application/json", ...signatureHeaders(provider, body, secret, t) };
}
