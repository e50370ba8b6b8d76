import type { Context, MiddlewareHandler } from "hono";
import { bearerAuth } from "hono/bearer-auth";
import { timingSafeEqual } from "hono/utils/buffer";
import type { Clock } from "../clock";
import { jsonError } from "../http/errors";
import { readSecretList } from "../secrets";

const unauthorized = (c: Context) => jsonError(c, "unauthorized", "send Authorization: Bearer <ADMIN_API_TOKEN>");

// What a bearer token may contain (RFC 6750 b64token, as hono's bearerAuth checks it): a
// configured token outside it could never be presented, so it is reported, not ignored.
const BEARER_TOKEN = /^[A-Za-z0-9._~+/-]+=*$/;

/**
 * `/api/*` is never open: without ADMIN_API_TOKEN it answers 503, not 200. Like a `*_SECRET`, the
 * token may hold several comma-separated tokens while it is rotated (a comma is never part of a
 * bearer token); any of them is accepted.
 */
export function requireAdminToken(now: Clock): MiddlewareHandler<{ Bindings: Env }> {
  const checkToken = bearerAuth<{ Bindings: Env }>({
    // Compared through hashes of both sides, so neither content nor length leaks by timing.
    verifyToken: async (token, c) => {
      let valid = false;
      // Every configured token is compared, so the time taken does not tell which one matched.
      for (const expected of await readSecretList(c.env, "ADMIN_API_TOKEN", now())) {
        if (await timingSafeEqual(token, expected)) valid = true;
      }
      return valid;
    },
    noAuthenticationHeader: { message: unauthorized },
    invalidAuthenticationHeader: { message: unauthorized },
    invalidToken: { message: unauthorized },
  });
  return async (c, next) => {
    const tokens = await readSecretList(c.env, "ADMIN_API_TOKEN", now());
    if (tokens.length === 0) {
      return jsonError(c, "admin_api_disabled", "set ADMIN_API_TOKEN to enable the operator API");
    }
    if (!tokens.every((token) => BEARER_TOKEN.test(token))) {
      return jsonError(
        c,
        "admin_api_misconfigured",
        "ADMIN_API_TOKEN may hold only letters, digits and - . _ ~ + / = (and commas between tokens)",
      );
    }
    return checkToken(c, next);
  };
}
