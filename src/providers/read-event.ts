import { fail } from "../result";
import { decodeBody, isUsableDedupeKey, isUsableType } from "./decode";
import type { Delivery, ParseResult, Provider } from "./types";

/**
 * A verified delivery read as its provider's event: strict UTF-8, the provider's parser and schema,
 * then the bounds every event keeps (docs/contract.md §3). Ingest quarantines a failure; an operator replay
 * of a quarantined delivery runs the same function with the code deployed now.
 */
export async function readEvent(provider: Provider, delivery: Delivery): Promise<ParseResult> {
  const decoded = decodeBody(delivery.body);
  if (!decoded.ok) return decoded;
  const parsed = await provider.parse(decoded.value, delivery);
  if (!parsed.ok) return parsed;
  const { dedupeKey, type } = parsed.value;
  if (!isUsableDedupeKey(dedupeKey)) {
    return { ...fail("payload_invalid", "event id must be 1 to 256 visible ASCII characters"), type };
  }
  if (!isUsableType(type)) {
    return { ...fail("payload_invalid", "event type must be 1 to 256 visible ASCII characters"), dedupeKey, type };
  }
  return parsed;
}
