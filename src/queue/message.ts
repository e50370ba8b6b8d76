import { z } from "zod";

/**
 * What ingest hands the consumer. The payload travels inline when the message fits the
 * queue's 128 KB limit, otherwise as `payloadRef`, a row of `payload_blobs` in D1 (strongly
 * consistent, unlike KV, so the consumer never races the write).
 */
export const EventMessage = z
  .object({
    v: z.literal(1),
    id: z.string().min(1),
    provider: z.string().min(1),
    dedupeKey: z.string().min(1),
    type: z.string().min(1),
    occurredAt: z.string().nullable(),
    receivedAt: z.string(),
    payload: z.string().optional(),
    payloadRef: z.string().optional(),
    /**
     * Lowercase hex SHA-256 of the bytes as delivered: which body this message carries, for the
     * conflict rule. Absent from messages enqueued before it existed: the consumer then hashes the payload.
     */
    bodySha256: z
      .string()
      .regex(/^[0-9a-f]{64}$/)
      .optional(),
    /** Set by an operator replay: state rules run again, effects stay at most once. */
    replay: z.boolean().optional(),
  })
  .refine((m) => (m.payload === undefined) !== (m.payloadRef === undefined), {
    message: "exactly one of payload and payloadRef",
  });
export type EventMessage = z.infer<typeof EventMessage>;
