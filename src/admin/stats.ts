import { Hono } from "hono";
import { z } from "zod";
import type { Clock } from "../clock";
import { eventCountsByBucket, STATS_WINDOWS, type StatsWindow } from "../events/stats";
import { zodValidate } from "../http/validate";
import type { ProviderRegistry } from "../providers/registry";

const StatsQuery = z.object({
  window: z
    .enum(Object.keys(STATS_WINDOWS) as [StatsWindow, ...StatsWindow[]])
    .optional()
    .default("1h"),
  /** The window's end (exclusive), default now; lets an operator look back at an incident. */
  end: z.iso.datetime().optional(),
});

/**
 * `GET /api/stats?window=15m|1h|6h|24h&end=<ISO>`: events received in the window, counted per
 * provider and time bucket with their current status. Failed = `retrying` + `dead`; `quarantined`
 * (kept, not parsed) is counted beside them.
 * Mounted inside the operator API, so it is behind the same bearer token.
 */
export function statsApi(options: { now: Clock; providers: ProviderRegistry }) {
  const api = new Hono<{ Bindings: Env }>();
  api.get("/", zodValidate("query", StatsQuery), async (c) => {
    const query = c.req.valid("query");
    const { minutes, bucketMinutes } = STATS_WINDOWS[query.window];
    const bucketMs = bucketMinutes * 60_000;
    const endMs = query.end === undefined ? options.now() : Date.parse(query.end);
    // Whole buckets: `end` rounded up to a bucket boundary, so the current bucket is included.
    const to = Math.ceil(endMs / bucketMs) * bucketMs;
    const from = to - minutes * 60_000;
    const bucketSeconds = bucketMs / 1000;
    const results = await eventCountsByBucket(c.env.DB, {
      from: new Date(from).toISOString(),
      to: new Date(to).toISOString(),
      bucketSeconds,
    });

    const empty = () => ({ total: 0, retrying: 0, dead: 0, quarantined: 0 });
    const totals = new Map(options.providers.names.map((name) => [name, empty()]));
    const buckets = results.map((row) => {
      const sum = totals.get(row.provider) ?? empty();
      sum.total += row.total;
      sum.retrying += row.retrying;
      sum.dead += row.dead;
      sum.quarantined += row.quarantined;
      totals.set(row.provider, sum);
      return {
        start: new Date(row.bucket * 1000).toISOString(),
        provider: row.provider,
        total: row.total,
        retrying: row.retrying,
        dead: row.dead,
        quarantined: row.quarantined,
      };
    });
    return c.json({
      window: query.window,
      from: new Date(from).toISOString(),
      to: new Date(to).toISOString(),
      bucketSeconds,
      buckets,
      providers: [...totals].map(([provider, sum]) => ({
        provider,
        ...sum,
        failureRate: sum.total === 0 ? 0 : (sum.retrying + sum.dead) / sum.total,
      })),
    });
  });
  return api;
}
