import { verifyTimestampedSignature } from "../../crypto/timestamped-signature";
import { parseJsonEnvelope } from "../json";
import { defineProvider, eventSchemas } from "../types";
import { APPROVAL_EVENT_TYPES, CONNECTION_EVENT_TYPES } from "./events";
import { nuvouchApi } from "./routes";
import { NuvouchApprovalEvent, NuvouchConnectionEvent, NuvouchEvent } from "./schema";
import { approvalFromCallback, approvalOnceKey, connectionFromCallback } from "./state";
import { decidedByCondition, upsertApproval, upsertConnection } from "./store";

export const nuvouch = defineProvider({
  name: "nuvouch",
  secretBinding: "NUVOUCH_CALLBACK_SECRET",
  events: {
    ...eventSchemas(CONNECTION_EVENT_TYPES, NuvouchConnectionEvent),
    ...eventSchemas(APPROVAL_EVENT_TYPES, NuvouchApprovalEvent),
  },
  envelope: NuvouchEvent,
  // Assumption (docs/contract.md §2): the docs name `x-nuvouch-signature` but not its format; it is
  // taken to be Nova's `t=…,v1=…` scheme. A different real format changes only this line.
  verify: (delivery, options) =>
    verifyTimestampedSignature({
      header: delivery.headers.get("x-nuvouch-signature"),
      body: delivery.body,
      headroom: delivery.headroom,
      ...options,
    }),
  parse: (text) =>
    parseJsonEnvelope(
      text,
      NuvouchEvent,
      (event) => ({
        dedupeKey: event.id,
        type: event.type,
        occurredAt: event.createdAt ?? null,
      }),
      { keys: { id: "id", type: "type" } },
    ),
  consume: ({ db, eventId, payloadJson, now, applies }) => {
    const event = NuvouchEvent.parse(JSON.parse(payloadJson));
    const base = { payload: event, data: event.data ?? null };
    const connection = NuvouchConnectionEvent.safeParse(event);
    if (connection.success) {
      return {
        ...base,
        statements: [upsertConnection(db, connectionFromCallback(connection.data), now, applies)],
        onceKey: eventId,
      };
    }
    const approval = NuvouchApprovalEvent.safeParse(event);
    if (approval.success) {
      const { externalRequestId } = approval.data.data;
      const state = approvalFromCallback(approval.data, eventId);
      return {
        ...base,
        statements: [upsertApproval(db, state, now, applies)],
        // One effect per approval decision: keyed by the approval, and only for the callback
        // that decided it, so duplicates, replays and a late contrary callback run nothing.
        onceKey: approvalOnceKey(externalRequestId),
        effectCondition: decidedByCondition(externalRequestId, eventId, state.status),
      };
    }
    return { ...base, statements: [], onceKey: eventId };
  },
  routes: nuvouchApi,
});
