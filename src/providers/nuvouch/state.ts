import type { NuvouchApprovalEvent, NuvouchConnectionEvent } from "./schema";

// Pure state rules of docs/contract.md §5 for Nuvouch. The SQL in ./store.ts applies exactly
// these precedences; the property tests fold these functions over every order, and check the
// SQL against them through the real consumer and D1 (test/state-rules.test.ts).
//
// The precedences are STORED (`nuvouch_connections.precedence`, `nuvouch_approvals.precedence`)
// and compared as strings in SQL: changing a value needs a migration that rewrites the stored
// rows, as migrations/0007 did for Nuvei's. test/state-rules.test.ts pins them.

export type ConnectionStatus = "pending" | "accepted" | "revoked" | "expired";
export type ApprovalStatus = "creating" | "pending" | "approved" | "denied" | "expired" | "cancelled";

/**
 * A total order over connection states: pending → expired only beats pending, accepted
 * beats an expiry (a late acceptance is evidence the user accepted in time), revoked
 * beats everything. Any order of the same callbacks ends in the same state.
 */
const CONNECTION_PRECEDENCE: Record<ConnectionStatus, string> = {
  pending: "0",
  expired: "1",
  accepted: "2",
  revoked: "3",
};

/**
 * Approvals: the first terminal decision wins and is never changed (docs/contract.md §5), because
 * the business effect already ran for it. All terminal states share one precedence, so a
 * later or replayed callback never replaces an earlier decision.
 */
const APPROVAL_PRECEDENCE: Record<ApprovalStatus, string> = {
  creating: "0",
  pending: "1",
  approved: "2",
  denied: "2",
  expired: "2",
  cancelled: "2",
};

/**
 * The once-key of an approval's effects (`<once-key>:<effect name>` in the ledger): one decision,
 * one run, whichever callback or reconciliation brought it. STORED in effect ids.
 */
export function approvalOnceKey(externalRequestId: string): string {
  return `approval:${externalRequestId}`;
}

export interface ConnectionState {
  connectionSessionId: string;
  subjectId: string;
  contextKey: string;
  status: ConnectionStatus;
  precedence: string;
}

export interface ApprovalState {
  externalRequestId: string;
  approvalRequestId: string | null;
  subjectId: string | null;
  contextKey: string | null;
  status: ApprovalStatus;
  precedence: string;
  decidedAt: string | null;
  decidedByEvent: string | null;
}

export function connectionPrecedence(status: ConnectionStatus): string {
  return CONNECTION_PRECEDENCE[status];
}

export function approvalPrecedence(status: ApprovalStatus): string {
  return APPROVAL_PRECEDENCE[status];
}

export function connectionFromCallback(event: NuvouchConnectionEvent): ConnectionState {
  const status = event.type.slice("nuvouch.connection.".length) as ConnectionStatus;
  return {
    connectionSessionId: event.data.connectionSessionId,
    subjectId: event.data.subjectId,
    contextKey: event.data.contextKey,
    status,
    precedence: connectionPrecedence(status),
  };
}

export function approvalFromCallback(event: NuvouchApprovalEvent, gatewayEventId: string): ApprovalState {
  const status = event.type.slice("nuvouch.approval.".length) as ApprovalStatus;
  return {
    externalRequestId: event.data.externalRequestId,
    approvalRequestId: event.data.approvalRequestId,
    subjectId: event.data.subjectId,
    contextKey: event.data.contextKey,
    status,
    precedence: approvalPrecedence(status),
    decidedAt: event.data.decidedAt ?? event.createdAt ?? null,
    decidedByEvent: gatewayEventId,
  };
}
