import { noteAlert } from "../alerts/outbox";
import { recordQuarantined } from "../events/store";
import { isUsableDedupeKey, isUsableType } from "../providers/decode";
import type { Delivery, ParseFailure } from "../providers/types";
import { gatewayEventId } from "../queue/enqueue";

export interface QuarantineOutcome {
  status: "quarantined" | "duplicate" | "conflict";
  id: string;
  dedupeKey: string;
  bodySha256: string;
}

/** The key a quarantined delivery is kept under: its id where one could be read, else its hash. */
export function quarantineKey(failure: ParseFailure, bodySha256: string): string {
  return failure.dedupeKey !== undefined && isUsableDedupeKey(failure.dedupeKey) ? failure.dedupeKey : bodySha256;
}

const MAX_REASON_LENGTH = 500;

/**
 * Keeps an authentic delivery that does not parse (docs/contract.md §3): status `quarantined`, its exact
 * bytes and media type, the reasons as `last_error`. Never applied, never queued: an operator replay
 * re-reads it once the code can. Written straight to D1, so nothing is acknowledged before it is
 * stored; a retry of the same bytes is a duplicate and another body under the key a conflict.
 */
export async function quarantine(
  db: D1Database,
  input: { provider: string; delivery: Delivery; failure: ParseFailure; receivedAt: string; alert: boolean },
): Promise<QuarantineOutcome> {
  const { provider, delivery, failure } = input;
  const bodySha256 = await delivery.bodySha256();
  const dedupeKey = quarantineKey(failure, bodySha256);
  const id = await gatewayEventId(provider, dedupeKey);
  const type = failure.type !== undefined && isUsableType(failure.type) ? failure.type : "unknown";
  const reason = failure.message.slice(0, MAX_REASON_LENGTH);
  const [kept] = await db.batch([
    recordQuarantined(db, {
      id,
      provider,
      dedupeKey,
      type,
      receivedAt: input.receivedAt,
      bodySha256,
      body: delivery.body,
      contentType: delivery.headers.get("content-type")?.slice(0, 200) ?? null,
      reason,
      payloadJson: jsonText(delivery.body),
    }),
    // With ALERT_URL set, the operator hears of it (once per event: a retry adds no notice).
    ...(input.alert
      ? [noteAlert(db, { eventId: id, provider, type, status: "quarantined", reason }, Date.parse(input.receivedAt))]
      : []),
  ]);
  const results = (kept?.results ?? []) as { bodySha256: string }[];
  const row = results[0];
  const named = { id, dedupeKey, bodySha256 };
  if (!row) return { status: "duplicate", ...named };
  return { status: row.bodySha256 === bodySha256 ? "quarantined" : "conflict", ...named };
}

const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** The body as the event API's `payload` when it is JSON of a sane depth; otherwise only the bytes are kept. */
function jsonText(body: Uint8Array): string | null {
  try {
    // With ignoreBOM a byte-order mark stays in the text, where JSON.parse refuses it.
    const text = utf8.decode(body);
    JSON.parse(text);
    return text;
  } catch {
    return null;
  }
}
