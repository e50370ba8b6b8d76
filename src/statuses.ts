// Every status the operator API shows (docs/contract.md §7), one list each. Imports nothing, so
// the dashboard's browser code and the tools share it with the gateway. The CHECK constraints of
// migrations/ list the same values.

/** An event's status. */
export const EVENT_STATUSES = ["processed", "retrying", "dead", "quarantined"] as const;
export type EventStatus = (typeof EVENT_STATUSES)[number];

/** The statuses a bulk replay (`POST /api/events/replay`) picks events by. */
export const BULK_REPLAY_STATUSES = ["dead", "quarantined"] as const satisfies readonly EventStatus[];
export type BulkReplayStatus = (typeof BULK_REPLAY_STATUSES)[number];

/** An effect's status in the ledger. */
export const EFFECT_STATUSES = ["pending", "running", "done", "failed", "dead"] as const;
export type EffectStatus = (typeof EFFECT_STATUSES)[number];

/** How one attempt at an effect ended. */
export const ATTEMPT_OUTCOMES = ["done", "failed", "timeout"] as const;
export type AttemptOutcome = (typeof ATTEMPT_OUTCOMES)[number];
