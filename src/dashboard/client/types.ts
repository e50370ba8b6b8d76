// The operator API's answers as the dashboard reads them (docs/contract.md §7). Fields added in
// contract v2 are optional: an older gateway leaves them out and the page hides what they feed.

import type { BulkReplayStatus, EventStatus } from "../../statuses";

export interface ApiEvent {
  id: string;
  provider: string;
  type: string;
  dedupeKey: string;
  status: EventStatus;
  receivedAt: string;
  occurredAt: string | null;
  attempts: number;
  lastError: string | null;
}

export interface EventPage {
  events: ApiEvent[];
  nextCursor: string | null;
}

export interface Attempt {
  at: string;
  outcome: string;
  error?: string | null;
  durationMs?: number | null;
  httpStatus?: number | null;
  responseBody?: string | null;
  target?: string | null;
}

export interface Effect {
  id?: number | string;
  name: string;
  status: string;
  attempts: number;
  lastError: string | null;
  nextRetryAt?: string | null;
  history?: Attempt[];
}

export interface Conflicts {
  count: number;
  lastBodySha256: string | null;
  lastAt: string | null;
}

export interface RawBody {
  encoding: string;
  contentType: string | null;
  text: string;
}

export interface EventDetail extends ApiEvent {
  updatedAt?: string;
  payload?: unknown;
  rawBody?: RawBody | null;
  conflicts?: Conflicts | null;
  effects?: Effect[];
}

export interface StatsBucket {
  start: string;
  provider: string;
  total: number;
  retrying: number;
  dead: number;
}

export interface ProviderStats {
  provider: string;
  total: number;
  retrying: number;
  dead: number;
  failureRate: number;
}

export interface Stats {
  window: string;
  from: string;
  to: string;
  bucketSeconds: number;
  buckets: StatsBucket[];
  providers: ProviderStats[];
}

export interface Rejection {
  provider: string;
  code: string;
  status?: number;
  count: number;
  lastAt: string | null;
  lastReason: string | null;
}

export interface Rejections {
  rejections: Rejection[];
}

/** The statuses `POST /api/events/replay` accepts. */
export type BulkStatus = BulkReplayStatus;

export interface BulkReplayAnswer {
  replayed: number;
}
