import { z } from "zod";
import { APPROVAL_EVENT_TYPES, CONNECTION_EVENT_TYPES } from "./events";

// The callback shape is an assumption of docs/contract.md (§4, §11): the Nuvouch docs name
// the events but do not publish their bodies. Everything about it lives in this file.

const Envelope = {
  id: z.string(),
  createdAt: z.string().optional(),
};

export const NuvouchConnectionEvent = z.looseObject({
  ...Envelope,
  type: z.enum(CONNECTION_EVENT_TYPES),
  data: z.looseObject({
    connectionSessionId: z.string().min(1),
    subjectId: z.string().min(1),
    contextKey: z.string().min(1),
  }),
});

export const NuvouchApprovalEvent = z.looseObject({
  ...Envelope,
  type: z.enum(APPROVAL_EVENT_TYPES),
  data: z.looseObject({
    approvalRequestId: z.string().min(1),
    externalRequestId: z.string().min(1),
    subjectId: z.string().min(1),
    contextKey: z.string().min(1),
    decidedAt: z.string().optional(),
  }),
});

/** A type this gateway has no rules for yet: kept and stored, dispatched to nothing. */
export const NuvouchOtherEvent = z.looseObject({
  ...Envelope,
  type: z.string().min(1),
  data: z.unknown().optional(),
});

const KNOWN_TYPES = new Set<string>([...CONNECTION_EVENT_TYPES, ...APPROVAL_EVENT_TYPES]);

/**
 * Known types must carry the fields their state rules need, checked at the door so a
 * malformed callback is refused (400) instead of poisoning the queue.
 */
export const NuvouchEvent = z.union([
  NuvouchConnectionEvent,
  NuvouchApprovalEvent,
  NuvouchOtherEvent.refine((event) => !KNOWN_TYPES.has(event.type), {
    message: "a known Nuvouch event type with a malformed data object",
    path: ["data"],
  }),
]);
export type NuvouchEvent = z.infer<typeof NuvouchEvent>;
export type NuvouchConnectionEvent = z.infer<typeof NuvouchConnectionEvent>;
export type NuvouchApprovalEvent = z.infer<typeof NuvouchApprovalEvent>;
