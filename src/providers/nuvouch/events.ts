// The Nuvouch callback types of docs/contract.md §4. Another type is recorded and forwarded, and
// reaches `nuvouch:*` and `*` handlers only. No imports: the simulator reads it too.
export const CONNECTION_EVENT_TYPES = [
  "nuvouch.connection.accepted",
  "nuvouch.connection.revoked",
  "nuvouch.connection.expired",
] as const;

export const APPROVAL_EVENT_TYPES = [
  "nuvouch.approval.approved",
  "nuvouch.approval.denied",
  "nuvouch.approval.expired",
  "nuvouch.approval.cancelled",
] as const;
