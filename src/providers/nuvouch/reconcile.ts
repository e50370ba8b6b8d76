import type { ApprovalRequest } from "./api-schemas";
import { APPROVAL_EVENT_TYPES } from "./events";
import { NuvouchApprovalEvent } from "./schema";
import type { ApprovalRow } from "./store";

const DECISIONS = new Set<string>(APPROVAL_EVENT_TYPES.map((type) => type.slice("nuvouch.approval.".length)));

/** A status of Nuvouch's that ends the approval (one of the callback decisions). */
export function isDecision(status: string): boolean {
  return DECISIONS.has(status);
}

/**
 * The callback Nuvouch would have sent for a decision found by looking the approval up
 * (docs/contract.md §9), in the assumed callback shape of docs/contract.md §4; null while Nuvouch has not
 * decided, or when its answer does not match our record.
 *
 * It is deterministic: the id is `reconcile_<approvalRequestId>_<status>` and the times
 * are Nuvouch's, so a second run that finds the same decision before the first one's
 * event is processed sends a byte-identical copy, which the consumer dedupes, never a
 * conflicting body under the same id.
 */
export function callbackForDecision(found: ApprovalRequest, row: ApprovalRow): NuvouchApprovalEvent | null {
  if (!isDecision(found.status)) return null;
  if (found.externalRequestId !== row.external_request_id) return null;
  const subjectId = row.subject_id ?? found.targetSubject?.subjectId;
  const contextKey = row.context_key ?? found.targetSubject?.contextKey;
  const decidedAt = found.decidedAt ?? found.updatedAt;
  const parsed = NuvouchApprovalEvent.safeParse({
    id: `reconcile_${found.id}_${found.status}`,
    type: `nuvouch.approval.${found.status}`,
    ...(decidedAt ? { createdAt: decidedAt } : {}),
    data: {
      approvalRequestId: found.id,
      externalRequestId: row.external_request_id,
      subjectId,
      contextKey,
      ...(decidedAt ? { decidedAt } : {}),
    },
  });
  return parsed.success ? parsed.data : null;
}
