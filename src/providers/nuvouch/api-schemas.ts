import { z } from "zod";

// The Nuvouch integrator API as docs/contract.md §8 assumes it. The request schemas are the ones
// this gateway's own /api/nuvouch routes validate with: one source of truth.

const Id = z.string().trim().min(1).max(256);

export const CreateConnectionSessionRequest = z.object({
  subjectId: Id,
  contextKey: Id,
});
export type CreateConnectionSessionRequest = z.infer<typeof CreateConnectionSessionRequest>;

/** The createApprovalRequest fields of the Nuvouch document. */
export const CreateApprovalRequest = z.object({
  targetSubject: z.object({ subjectId: Id, contextKey: Id }),
  externalRequestId: Id.regex(/^[\x21-\x7e]+$/, "visible ASCII only"),
  title: z.string().min(1).max(200),
  summary: z.string().min(1).max(2000),
  requestedFor: z.string().min(1).max(200),
  actor: z.object({
    id: Id,
    name: z.string().min(1).max(200),
    subtitle: z.string().max(200).optional(),
    avatarLabel: z.string().max(8).optional(),
  }),
  context: z.object({
    kind: z.string().min(1).max(100),
    title: z.string().min(1).max(200),
    reason: z.string().min(1).max(2000),
    expiresAt: z.iso.datetime({ offset: true }),
    referenceCode: z.string().max(200).optional(),
  }),
  risk: z
    .object({
      level: z.enum(["low", "medium", "high", "critical"]),
      summary: z.string().min(1).max(2000),
    })
    .optional(),
});
export type CreateApprovalRequest = z.infer<typeof CreateApprovalRequest>;

/** A request whose approval window has already closed is refused before Nuvouch sees it. */
export function expiresInFuture(request: CreateApprovalRequest, nowMs: number): boolean {
  return Date.parse(request.context.expiresAt) > nowMs;
}

export const ConnectionSession = z.looseObject({
  id: z.string().min(1),
  status: z.string(),
  shortCode: z.string(),
  qrCodeUrl: z.string(),
  expiresAt: z.string(),
});
export type ConnectionSession = z.infer<typeof ConnectionSession>;

export const ApprovalRequest = z.looseObject({
  id: z.string().min(1),
  externalRequestId: z.string().min(1),
  status: z.string(),
});
export type ApprovalRequest = z.infer<typeof ApprovalRequest>;

export const NuvouchErrorBody = z.object({
  error: z.object({ code: z.string(), message: z.string().optional() }),
});

export const NUVOUCH_INTEGRATOR_ERROR_CODES = {
  DUPLICATE_EXTERNAL_ID: "DUPLICATE_EXTERNAL_ID",
} as const;
