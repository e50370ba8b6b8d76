import { Hono } from "hono";
import { rejectionsApi } from "./rejections";

/**
 * What an operator needs beyond the event list (contract §7), mounted inside the operator
 * API, behind its bearer token.
 */
export function operationsApi(options: { now: () => number }) {
  const api = new Hono<{ Bindings: Env }>();
  api.route("/rejections", rejectionsApi(options));
  return api;
}
