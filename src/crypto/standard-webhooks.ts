import { Webhook } from "standardwebhooks";

/**
 * The Standard Webhooks headers of one message, signed with every key given: during a rotation
 * (`FORWARD_SIGNING_SECRET=whsec_new,whsec_old`) `webhook-signature` carries one `v1,<signature>`
 * per key, space-separated as the specification allows, so a receiver holding either key verifies.
 */
export function standardWebhookHeaders(
  secrets: readonly string[],
  id: string,
  sentAt: Date,
  body: string,
): Record<"webhook-id" | "webhook-timestamp" | "webhook-signature", string> {
  if (secrets.length === 0) throw new Error("no signing secret");
  return {
    "webhook-id": id,
    "webhook-timestamp": String(Math.floor(sentAt.getTime() / 1000)),
    "webhook-signature": secrets.map((secret) => new Webhook(secret).sign(id, sentAt, body)).join(" "),
  };
}
