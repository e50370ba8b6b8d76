import type { Context, MiddlewareHandler } from "hono";
import { bearerAuth } from "hono/bearer-auth";
import { timingSafeEqual } from "hono/utils/buffer";
import type { Clock } from "../clock";
import { jsonError } from "../http/errors";
import { readSecret } from "../secrets";

const unauthorized = (c: Context) => jsonError(c, "unauthorized", "send Authorization: Bearer <ADMIN_API_TOKEN>");

// What a bearer token may contain (RFC 6750 b64token, as hono's bearerAuth checks it): a
// configured token outside it could never be presented, so it is reported, not ignored.
const BEARER_TOKEN = /^[A-Za-z0-9._~+/-]+=*$/;

/** `/api/*` is never open: without ADMIN_API_TOKEN it answers 503, not 200. */
export function requireAdminToken(now: Clock): MiddlewareHandler<{ Bindings: Env }> {
  const checkToken = bearerAuth<{ Bindings: Env }>({
    // Compared through hashes of both sides, so neither content nor length leaks by timing.
    verifyToken: async (token, c) => timingSafeEqual(token, (await readSecret(c.env, "ADMIN_API_TOKEN", now())) ?? ""),
    noAuthenticationHeader: { message: unauthorized },
    invalidAuthenticationHeader: { message: unauthorized },
    invalidToken: { message: unauthorized },
  });
  return async (c, next) => {
    const token = await readSecret(c.env, "ADMIN_API_TOKEN", now());
    if (!token) {
      return jsonError(c, "admin_api_disabled", "set ADMIN_API_TOKEN to enable the operator API");
    }
    if (!BEARER_TOKEN.test(token)) {
      return jsonError(c, "admin_api_misconfigured", "ADMIN_API_TOKEN may hold only letters, digits and - . _ ~ + / =");
    }
    return checkToken(c, next);
  };
}
