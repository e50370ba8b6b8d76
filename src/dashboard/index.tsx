import { Hono } from "hono";
import { STATS_WINDOWS } from "../events/stats";
import { jsonError } from "../http/errors";
import type { ProviderRegistry } from "../providers/registry";
import { dashboardAssets } from "./assets";
import { DashboardPage } from "./page";

/** 128 random bits, base64: a fresh CSP nonce for every response. */
function newNonce(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return btoa(String.fromCharCode(...bytes));
}

/**
 * Only the page's own nonce'd script and stylesheet (served files, checked by their integrity
 * hash) run; it talks only to this origin; DOM sinks that parse HTML are refused (Trusted Types).
 */
export function contentSecurityPolicy(nonce: string): string {
  return [
    "default-src 'none'",
    `script-src 'nonce-${nonce}'`,
    `style-src 'nonce-${nonce}'`,
    "connect-src 'self'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
    "require-trusted-types-for 'script'",
    "trusted-types 'none'",
  ].join("; ");
}

const COMMON_HEADERS = {
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
};

/**
 * The operator dashboard, `GET /dashboard`: a static page without auth and without data. Its
 * script asks the operator for the ADMIN_API_TOKEN and uses the operator API (`/api/*`).
 */
export function dashboard(options: { providers: ProviderRegistry }) {
  const page = new Hono();
  page.get("/", async (c) => {
    const nonce = newNonce();
    const { script, style } = await dashboardAssets();
    const html = DashboardPage({
      nonce,
      script,
      style,
      providers: options.providers.names,
      windows: Object.keys(STATS_WINDOWS),
    });
    return c.html(`<!doctype html>${html}`, 200, {
      ...COMMON_HEADERS,
      "content-security-policy": contentSecurityPolicy(nonce),
      "cache-control": "no-store",
      "x-frame-options": "DENY",
    });
  });
  page.get("/:file", async (c) => {
    const path = c.req.path;
    const asset = Object.values(await dashboardAssets()).find((a) => a.path === path);
    if (!asset) return jsonError(c, "not_found");
    return c.body(asset.body, 200, {
      ...COMMON_HEADERS,
      "content-type": asset.contentType,
      "cache-control": "public, max-age=31536000, immutable",
    });
  });
  return page;
}
