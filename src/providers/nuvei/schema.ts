import { z } from "zod";

/** Final statuses: no later non-final callback may overwrite them (docs/contract.md §5). */
export const NUVEI_FINAL_STATUSES = ["approved", "declined", "error", "authorizedOnly"] as const;

const IdLike = z.union([z.string().min(1), z.number().transform(String)]);

/**
 * The Nuvei JSON webhook. Only `result.status` is required: the document's own examples
 * carry no `transactionId`, and every other field is optional depending on the method.
 */
export const NuveiWebhook = z.looseObject({
  transactionId: IdLike.optional(),
  merchantTransactionId: IdLike.optional(),
  transactionType: z.string().optional(),
  amount: z.union([z.number(), z.string()]).optional(),
  currency: z.string().optional(),
  timeStamp: z.string().optional(),
  result: z.looseObject({ status: z.string().min(1) }),
});
export type NuveiWebhook = z.infer<typeof NuveiWebhook>;
