import { Hono } from "hono";
import { z } from "zod";
import { pageLimit, zodValidate } from "../http/validate";
import { log } from "../log";

// The operator action log (`audit_log`): every replay, single or bulk, with what it matched.

export type AuditAction = "replay" | "bulk_replay";

/**
 * Who acted. The operator API has one bearer token, so what tells callers apart is kept: their
 * address (CF-Connecting-IP), their User-Agent, and the name they give in `X-Operator`, if any.
 */
export interface Actor {
  ip: string | null;
  userAgent: string | null;
  operator?: string;
}

export const MAX_USER_AGENT_CHARS = 200;
export const MAX_OPERATOR_CHARS = 64;
const MAX_IP_CHARS = 64;

/** Visible ASCII and spaces only (anything else becomes "?"), trimmed, at most `max` characters; null when empty. */
function bounded(value: string | null | undefined, max: number): string | null {
  const text = (value ?? "")
    .replace(/[^\x20-\x7e]/g, "?")
    .trim()
    .slice(0, max)
    .trimEnd();
  return text === "" ? null : text;
}

/** The actor of a request to the operator API. */
export function actorOf(headers: Headers): Actor {
  const operator = bounded(headers.get("x-operator"), MAX_OPERATOR_CHARS);
  return {
    ip: bounded(headers.get("cf-connecting-ip"), MAX_IP_CHARS),
    userAgent: bounded(headers.get("user-agent"), MAX_USER_AGENT_CHARS),
    ...(operator === null ? {} : { operator }),
  };
}

export interface AuditEntry {
  action: AuditAction;
  /** The event id of a single replay; a description of a bulk replay's selection. */
  target: string;
  count: number;
  filters?: Record<string, unknown>;
  /** A bulk replay of quarantined events: how many were re-read and stayed quarantined. */
  stillQuarantined?: number;
  actor: Actor;
}

/**
 * Records an action that has already happened (its replays are queued): a failure to record
 * it is logged, never answered as an error that would invite the operator to do it twice.
 */
export async function audit(db: D1Database, entry: AuditEntry, nowMs: number): Promise<void> {
  try {
    await db
      .prepare(
        `INSERT INTO audit_log (at, action, target, count, filters, still_quarantined, actor)
         VALUES (?, ?, ?, ?, ?, ?, ?)`,
      )
      .bind(
        new Date(nowMs).toISOString(),
        entry.action,
        entry.target,
        entry.count,
        entry.filters === undefined ? null : JSON.stringify(entry.filters),
        entry.stillQuarantined ?? null,
        JSON.stringify(entry.actor),
      )
      .run();
  } catch (error) {
    log("error", "operator action not audited", { ...entry, error: String(error) });
  }
}

interface AuditRow {
  at: string;
  action: AuditAction;
  target: string;
  count: number;
  filters: string | null;
  still_quarantined: number | null;
  actor: string | null;
}

/** Newest first: ids only grow, while two actions may share a millisecond. */
export async function listAudit(db: D1Database, limit: number) {
  const { results } = await db
    .prepare(
      "SELECT at, action, target, count, filters, still_quarantined, actor FROM audit_log ORDER BY id DESC LIMIT ?",
    )
    .bind(limit)
    .all<AuditRow>();
  return results.map((row) => ({
    at: row.at,
    action: row.action,
    target: row.target,
    count: row.count,
    ...(row.filters === null ? {} : { filters: JSON.parse(row.filters) as Record<string, unknown> }),
    ...(row.still_quarantined === null ? {} : { stillQuarantined: row.still_quarantined }),
    actor: row.actor === null ? null : (JSON.parse(row.actor) as Actor),
  }));
}

const AuditQuery = z.object({
  limit: pageLimit(),
});

/** `GET /api/audit?limit=` → `{"actions":[{at,action,target,count,filters?,stillQuarantined?,actor}]}`, newest first. */
export function auditApi() {
  const api = new Hono<{ Bindings: Env }>();
  api.get("/", zodValidate("query", AuditQuery), async (c) =>
    c.json({ actions: await listAudit(c.env.DB, c.req.valid("query").limit) }),
  );
  return api;
}
