import type { Context, MiddlewareHandler } from "hono";
import { bearerAuth } from "hono/bearer-auth";
import { timingSafeEqual } from "hono/utils/buffer";
import { getConfig } from "../config";
import { errorBody } from "../http/errors";

const unauthorized = (c: Context) =>
  c.json(errorBody("unauthorized", "send Authorization: Bearer <ADMIN_API_TOKEN>"), 401);

const checkToken = bearerAuth<{ Bindings: Env }>({
  // Compared through hashes of both sides, so neither content nor length leaks by timing.
  verifyToken: (token, c) => timingSafeEqual(token, getConfig(c.env).ADMIN_API_TOKEN ?? ""),
  noAuthenticationHeader: { message: unauthorized },
  invalidAuthenticationHeader: { message: unauthorized },
  invalidToken: { message: unauthorized },
});

/** `/api/*` is never open: without ADMIN_API_TOKEN it answers 503, not 200. */
export const requireAdminToken: MiddlewareHandler<{ Bindings: Env }> = async (c, next) => {
  if (!getConfig(c.env).ADMIN_API_TOKEN) {
    return c.json(errorBody("admin_api_disabled", "set ADMIN_API_TOKEN to enable the operator API"), 503);
  }
  return checkToken(c, next);
};
