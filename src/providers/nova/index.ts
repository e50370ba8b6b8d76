import { verifyTimestampedSignature } from "../../crypto/timestamped-signature";
import { parseJsonEnvelope } from "../json";
import { defineProvider, eventSchemas } from "../types";
import { NOVA_EVENT_TYPES } from "./events";
import { NovaEvent } from "./schema";

export const nova = defineProvider({
  name: "nova",
  secretBinding: "NOVA_WEBHOOK_SECRET",
  events: eventSchemas(NOVA_EVENT_TYPES, NovaEvent),
  envelope: NovaEvent,
  verify: (delivery, options) =>
    verifyTimestampedSignature({
      header: delivery.headers.get("x-nova-signature"),
      body: delivery.body,
      headroom: delivery.headroom,
      ...options,
    }),
  parse: (text) =>
    parseJsonEnvelope(
      text,
      NovaEvent,
      (event) => ({
        dedupeKey: event.eventId,
        type: event.type,
        occurredAt: event.occurredAt ?? null,
      }),
      { keys: { id: "eventId", type: "type" } },
    ),
  consume: ({ eventId, payloadJson }) => {
    const event = NovaEvent.parse(JSON.parse(payloadJson));
    // Nova events drive no gateway state: they are recorded and handed to effect handlers.
    return { payload: event, statements: [], onceKey: eventId, data: event.data ?? null };
  },
});
