import { decodeBody, isUsableDedupeKey, isUsableType } from "./decode";
import type { Delivery, ParsedEvent, ParseFailure, Provider } from "./types";

/**
 * A verified delivery read as its provider's event: strict UTF-8, the provider's parser and schema,
 * then the bounds every event keeps (contract §3). Ingest quarantines a failure; an operator replay
 * of a quarantined delivery runs the same function with the code deployed now.
 */
export async function readEvent(provider: Provider, delivery: Delivery): Promise<ParsedEvent | ParseFailure> {
  const decoded = decodeBody(delivery.body);
  if (!decoded.ok) return { error: "payload_invalid", message: decoded.message };
  const parsed = await provider.parse(decoded.text, delivery);
  if ("error" in parsed) return parsed;
  const named = { dedupeKey: parsed.dedupeKey, type: parsed.type };
  if (!isUsableDedupeKey(parsed.dedupeKey)) {
    return {
      error: "payload_invalid",
      message: "event id must be 1 to 256 visible ASCII characters",
      type: named.type,
    };
  }
  if (!isUsableType(parsed.type)) {
    return { error: "payload_invalid", message: "event type must be 1 to 256 visible ASCII characters", ...named };
  }
  return parsed;
}
