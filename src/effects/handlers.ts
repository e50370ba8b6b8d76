import { log } from "../log";
import { withForwarding } from "./forward";
import { EffectRegistry } from "./registry";

/**
 * Your business side effects: the one file to edit. Each runs only after a verified
 * callback, at most once per its once-key (for approvals: once per approval decision),
 * is retried with backoff when it throws, and is dead-lettered visibly after the queue's
 * `max_retries`. Pass `effectId` downstream as an idempotency key. Names are checked against
 * the providers' event types (`nova:payment.succeeded`), or `nova:*` and `*` for every event
 * of a provider or of all; forwarding to FORWARD_URL is itself such an effect.
 */
export const effects = withForwarding(
  new EffectRegistry()
    .on("nuvouch:nuvouch.approval.approved", "approval-approved", ({ payload, effectId }) => {
      // Replace with the action the approval unlocks (capture the payment, release the order…).
      log("info", "approval approved: business side effect", {
        externalRequestId: payload.data.externalRequestId,
        subjectId: payload.data.subjectId,
        effectId,
      });
    })
    .on("nuvouch:nuvouch.approval.denied", "approval-denied", ({ payload, effectId }) => {
      log("info", "approval denied: business side effect", {
        externalRequestId: payload.data.externalRequestId,
        effectId,
      });
    }),
);
