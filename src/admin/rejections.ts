import { Hono } from "hono";
import { z } from "zod";
import type { Clock } from "../clock";
import { zodValidate } from "../http/validate";
import { listRejections } from "../monitor/rejections";

const REJECTION_WINDOWS = { "15m": 15, "1h": 60, "24h": 1440 } as const;
type RejectionWindow = keyof typeof REJECTION_WINDOWS;

const RejectionsQuery = z.object({
  window: z
    .enum(Object.keys(REJECTION_WINDOWS) as [RejectionWindow, ...RejectionWindow[]])
    .optional()
    .default("1h"),
});

/**
 * `GET /api/rejections?window=15m|1h|24h`: refused deliveries per provider, code and status
 * (src/monitor/rejections.ts). Counts lag by at most an isolate's flush interval.
 */
export function rejectionsApi(options: { now: Clock }) {
  const api = new Hono<{ Bindings: Env }>();
  api.get("/", zodValidate("query", RejectionsQuery), async (c) => {
    const { window } = c.req.valid("query");
    return c.json({ rejections: await listRejections(c.env.DB, REJECTION_WINDOWS[window], options.now()) });
  });
  return api;
}
