import { z } from "zod";

/**
 * Webhooks without a transactionId are kept under `merchant:<merchantTransactionId>`
 * (see ./state.ts), so no transactionId may start with it.
 */
export const MERCHANT_KEY_PREFIX = "merchant:";

// Ids and amounts are strings here, digit for digit as sent: JSON numbers arrive as their
// source text (see `keepNumberText`), form and XML values are text anyway. A number type
// would invite `String(n)`, which rounds a 19-digit id and turns 10.10 into "10.1".
const Id = z.string().min(1).max(256);

/**
 * The Nuvei JSON webhook. Only `result.status` is required: the document's own examples
 * carry no `transactionId`, and every other field is optional depending on the method.
 */
export const NuveiWebhook = z.looseObject({
  transactionId: Id.refine((id) => !id.startsWith(MERCHANT_KEY_PREFIX), {
    message: `must not start with "${MERCHANT_KEY_PREFIX}"`,
  }).optional(),
  merchantTransactionId: Id.optional(),
  transactionType: z.string().optional(),
  amount: z.string().optional(),
  currency: z.string().optional(),
  timeStamp: z.string().optional(),
  result: z.looseObject({ status: z.string().min(1) }),
});
export type NuveiWebhook = z.infer<typeof NuveiWebhook>;

/**
 * JSON.parse reviver for Nuvei bodies: every JSON number becomes its source text. Nuvei's
 * numbers are ids and amounts (a 64-bit `transactionId`, a 19-digit `merchantTransactionId`,
 * `amount`, `partialApproval.requestedAmount`…), which a float would round; and handlers
 * then see one shape whether the webhook came as JSON, form or XML.
 */
export function keepNumberText(_key: string, value: unknown, context?: { source?: string }): unknown {
  return typeof value === "number" && context?.source !== undefined ? context.source : value;
}
