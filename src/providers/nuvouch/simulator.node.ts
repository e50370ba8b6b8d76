// Nuvouch for the tools: its callbacks in the assumed shape of docs/contract.md §4, signed with
// the assumed `x-nuvouch-signature` (Nova's scheme), as the fake Nuvouch sends them too.

import { timestampedSignature } from "../signing.node.ts";
import { defaultSources, type Simulator, ulid } from "../simulation.node.ts";
import { APPROVAL_EVENT_TYPES, CONNECTION_EVENT_TYPES } from "./events.ts";

const PREFIX = "nuvouch.";
// Short names, without the prefix the wire type carries; either is accepted.
const EVENTS = [...CONNECTION_EVENT_TYPES, ...APPROVAL_EVENT_TYPES].map((type) => type.slice(PREFIX.length));

function resolve(event: string): string | undefined {
  const name = event.startsWith(PREFIX) ? event.slice(PREFIX.length) : event;
  return EVENTS.includes(name) ? name : undefined;
}

export const nuvouchSimulator = {
  name: "nuvouch",
  secretBinding: "NUVOUCH_CALLBACK_SECRET",
  events: EVENTS,
  resolve,
  eventType: (event) => `${PREFIX}${event}`,
  build(event, story, options = {}) {
    // The wire type is built from the canonical name: a prefixed name would otherwise become
    // `nuvouch.nuvouch.…`, an unknown type the gateway accepts and no state rule reads.
    const canonical = resolve(event);
    if (!canonical) throw new Error(`unknown Nuvouch event ${event}: one of ${EVENTS.join(", ")}`);
    const sources = options.sources ?? defaultSources;
    const at = sources.now().toISOString();
    const envelope = { id: options.eventId ?? `evt_${ulid(sources)}`, type: `${PREFIX}${canonical}`, createdAt: at };
    if (canonical.startsWith("connection.")) {
      const { connectionSessionId, subject: subjectId, contextKey } = story;
      return { ...envelope, data: { connectionSessionId, subjectId, contextKey } };
    }
    const { approvalRequestId, externalRequestId, subject: subjectId, contextKey } = story;
    return { ...envelope, data: { approvalRequestId, externalRequestId, subjectId, contextKey, decidedAt: at } };
  },
  describe: (payload) => String(payload.id),
  sign: (body, secret, t) => ({ "x-nuvouch-signature": timestampedSignature(body, secret, t) }),
} as const satisfies Simulator<"nuvouch">;

/**
 * A `POST /api/nuvouch/approvals` body (docs/contract.md §7): a payment the customer is asked to confirm.
 * The integrator's side, for the tests and tools that create an approval before its callback.
 */
export function approvalRequestBody(input: {
  subjectId: string;
  contextKey: string;
  externalRequestId: string;
  expiresAt: string;
}) {
  return {
    targetSubject: { subjectId: input.subjectId, contextKey: input.contextKey },
    externalRequestId: input.externalRequestId,
    title: "Approve payment",
    summary: "Stripe needs the customer to confirm a high-risk payment.",
    requestedFor: "Payment authorization",
    actor: { id: "payments_agent_01", name: "Stripe Payment Agent" },
    context: {
      kind: "digital-service",
      title: "Card payment",
      reason: "High-risk payment requires customer confirmation",
      expiresAt: input.expiresAt,
    },
  };
}
