// Nova for the tools: its deliveries as the Nova document shows them, signed as Nova signs them.
import { timestampedSignature } from "../signing.node.ts";
import {
  defaultSources,
  digits,
  type Json,
  listedEvents,
  randomToken,
  type Simulator,
  type Sources,
  type StoryFields,
  ulid,
} from "../simulation.node.ts";
import { NOVA_EVENT_TYPES } from "./events.ts";

function data(event: string, story: StoryFields, sources: Sources): Json {
  const at = sources.now().toISOString();
  // Nova amounts are in minor units (the gateway's test payloads use 1000 for 10.00).
  const payment = {
    paymentId: `pay_${randomToken(sources, 14)}`,
    subscriberId: story.subject,
    amount: Math.round(story.amount * 100),
    currency: story.currency,
    method: "card",
  };
  switch (event) {
    case "payment.succeeded":
      return { ...payment, capturedAt: at };
    case "payment.failed":
      return { ...payment, failureCode: "card_declined", failureMessage: "The card was declined." };
    case "payment.refunded":
      return { ...payment, refundId: `re_${randomToken(sources, 14)}`, refundedAt: at };
    case "survey.completed":
      return {
        surveyId: "srv_onboarding_v2",
        responseId: `rsp_${randomToken(sources, 14)}`,
        subscriberId: story.subject,
        score: 1 + Math.floor(sources.random() * 10),
        completedAt: at,
      };
    case "dma.session.started":
      return {
        sessionId: `dma_${randomToken(sources, 14)}`,
        subscriberId: story.subject,
        msisdn: `+4477009${digits(sources, 5)}`,
        startedAt: at,
      };
    case "dma.session.ended":
      return {
        sessionId: `dma_${randomToken(sources, 14)}`,
        subscriberId: story.subject,
        endedAt: at,
        durationSeconds: 30 + Math.floor(sources.random() * 600),
      };
    default:
      return {
        thirdParty: "kyc_partner",
        callbackId: `cb_${randomToken(sources, 14)}`,
        subscriberId: story.subject,
        status: "verified",
        receivedAt: at,
      };
  }
}

export const novaSimulator = {
  name: "nova",
  secretBinding: "NOVA_WEBHOOK_SECRET",
  ...listedEvents(NOVA_EVENT_TYPES),
  build(event, story, options = {}) {
    const sources = options.sources ?? defaultSources;
    return {
      eventId: options.eventId ?? `evt_${ulid(sources)}`,
      type: event,
      occurredAt: sources.now().toISOString(),
      data: data(event, story, sources),
      version: 1,
    };
  },
  describe: (payload) => String(payload.eventId),
  sign: (body, secret, t) => ({ "x-nova-signature": timestampedSignature(body, secret, t) }),
} as const satisfies Simulator<"nova">;
