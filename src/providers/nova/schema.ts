import { z } from "zod";

/**
 * Nova's envelope. Nova adds event types and fields without notice, so the schema is
 * loose: unknown fields are kept and any `type` is accepted.
 */
export const NovaEvent = z.looseObject({
  eventId: z.string(),
  type: z.string().min(1),
  occurredAt: z.string().optional(),
  data: z.unknown().optional(),
  version: z.union([z.number(), z.string()]).optional(),
});
export type NovaEvent = z.infer<typeof NovaEvent>;
