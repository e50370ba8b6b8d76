import { Hono } from "hono";
import { z } from "zod";
import type { Clock } from "../clock";
import { eventsInStatus, type ReplaySelection, replayCandidates } from "../events/query";
import { jsonError } from "../http/errors";
import { zodValidate } from "../http/validate";
import { log } from "../log";
import type { ProviderRegistry } from "../providers/registry";
import { BULK_REPLAY_STATUSES } from "../statuses";
import { actorOf, audit } from "./audit";
import { MAX_SEND_BATCH_MESSAGES, ReplayEnqueueError, replayEvents } from "./replay";

const instant = z.iso.datetime({ offset: true }).transform((value) => new Date(value).toISOString());

export const MAX_BULK_REPLAY = 1000;

const bulkReplayBody = (providerNames: readonly string[]) =>
  z
    .strictObject({
      status: z.enum(BULK_REPLAY_STATUSES),
      provider: z.enum(providerNames as [string, ...string[]]).optional(),
      since: instant.optional(),
      until: instant.optional(),
      limit: z.number().int().min(1).max(MAX_BULK_REPLAY).optional().default(100),
    })
    .refine((body) => body.since === undefined || body.until === undefined || body.since < body.until, {
      message: "since must be before until",
      path: ["since"],
    });

// Rows are loaded a page at a time, so a page of large payloads cannot exhaust the isolate's
// memory: at most 100 events and 4 MiB of what a replay reads of them (the payload, or a
// quarantined delivery's raw bytes), unless one event is larger and then alone.
export const MAX_PAGE_BYTES = 4 * 1024 * 1024;

function pages(candidates: { id: string; bytes: number }[]): string[][] {
  const result: string[][] = [];
  let page: string[] = [];
  let bytes = 0;
  for (const candidate of candidates) {
    if (page.length > 0 && (page.length === MAX_SEND_BATCH_MESSAGES || bytes + candidate.bytes > MAX_PAGE_BYTES)) {
      result.push(page);
      page = [];
      bytes = 0;
    }
    page.push(candidate.id);
    bytes += candidate.bytes;
  }
  if (page.length > 0) result.push(page);
  return result;
}

function describeSelection(selection: ReplaySelection): string {
  return [
    `${selection.status} events`,
    selection.provider ? `of ${selection.provider}` : "",
    selection.since ? `received from ${selection.since}` : "",
    selection.until ? `until ${selection.until}` : "",
    `(oldest ${selection.limit})`,
  ]
    .filter((part) => part !== "")
    .join(" ");
}

/**
 * `POST /api/events/replay {status, provider?, since?, until?, limit?}` → 202 `{"replayed":n}`:
 * the oldest `limit` matching events replayed a page at a time, the action audited. The
 * consumer's effects ledger keeps their effects at most once, as for a single replay. For
 * quarantined events the answer adds `stillQuarantined`, those re-read and kept; the least
 * recently re-read are picked first, so repeated replays move on past them (src/events/query.ts).
 */
export function bulkReplayApi(options: { now: Clock; providers: ProviderRegistry }) {
  const api = new Hono<{ Bindings: Env }>();
  api.post("/", zodValidate("json", bulkReplayBody(options.providers.names)), async (c) => {
    const body = c.req.valid("json");
    const selection: ReplaySelection = {
      status: body.status,
      limit: body.limit,
      ...(body.provider === undefined ? {} : { provider: body.provider }),
      ...(body.since === undefined ? {} : { since: body.since }),
      ...(body.until === undefined ? {} : { until: body.until }),
    };
    const db = c.env.DB;
    let replayed = 0;
    let stillQuarantined = 0;
    let failure: unknown;
    for (const ids of pages(await replayCandidates(db, selection))) {
      try {
        const result = await replayEvents(
          c.env,
          options.providers,
          await eventsInStatus(db, ids, selection.status),
          options.now(),
        );
        replayed += result.replayed;
        stillQuarantined += result.invalid.length;
      } catch (error) {
        if (error instanceof ReplayEnqueueError) replayed += error.replayed;
        failure = error;
        break;
      }
    }
    // Recorded even when nothing matched, or when the queue stopped it part way: the
    // operator did act, and the count says how far it got.
    const kept = selection.status === "quarantined" ? { stillQuarantined } : {};
    await audit(
      db,
      {
        action: "bulk_replay",
        target: describeSelection(selection),
        count: replayed,
        filters: { ...selection },
        ...kept,
        actor: actorOf(c.req.raw.headers),
      },
      options.now(),
    );
    if (failure instanceof ReplayEnqueueError) {
      log("error", "bulk replay stopped by the queue", { replayed, error: String(failure) });
      return jsonError(c, "enqueue_failed", `${replayed} events were queued before the queue refused`, {
        fields: { replayed },
      });
    }
    if (failure !== undefined) throw failure;
    log("info", "bulk replay queued", { replayed, ...kept, ...selection });
    return c.json({ replayed, ...kept }, 202);
  });

  return api;
}
