import { z } from "zod";
import { sha256Hex } from "../../crypto/hmac";

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

/** JSON with every object's keys sorted: one text per meaning, whatever the key order sent. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

/**
 * The idempotency fingerprint of a create request: SHA-256 of the canonical JSON of the
 * request as validated (trimmed ids, unknown fields dropped), so only a change of meaning
 * makes "the same externalRequestId with a different body".
 */
export function requestFingerprint(request: CreateApprovalRequest): Promise<string> {
  return sha256Hex(canonicalJson(request));
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
  // Assumed (docs/contract.md §8 leaves them open): used by reconciliation when present.
  targetSubject: z
    .looseObject({ subjectId: z.string().min(1), contextKey: z.string().min(1) })
    .optional()
    .catch(undefined),
  decidedAt: z.string().optional().catch(undefined),
  updatedAt: z.string().optional().catch(undefined),
});
export type ApprovalRequest = z.infer<typeof ApprovalRequest>;

export const NuvouchErrorBody = z.object({
  error: z.object({ code: z.string(), message: z.string().optional() }),
});

export const NUVOUCH_INTEGRATOR_ERROR_CODES = {
  DUPLICATE_EXTERNAL_ID: "DUPLICATE_EXTERNAL_ID",
} as const;
