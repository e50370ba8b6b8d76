import { Hono } from "hono";
import type { Clock } from "../clock";
import type { ProviderRegistry } from "../providers/registry";
import { auditApi } from "./audit";
import { bulkReplayApi } from "./bulk-replay";
import { rejectionsApi } from "./rejections";

/**
 * What an operator needs beyond the event list (docs/contract.md §7): refused deliveries, bulk
 * replay and the audit list. Mounted inside the operator API, behind its bearer token.
 */
export function operationsApi(options: { now: Clock; providers: ProviderRegistry }) {
  const api = new Hono<{ Bindings: Env }>();
  api.route("/rejections", rejectionsApi(options));
  api.route("/events/replay", bulkReplayApi(options));
  api.route("/audit", auditApi());
  return api;
}
