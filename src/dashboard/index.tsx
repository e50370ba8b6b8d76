import { Hono } from "hono";
import { STATS_WINDOWS } from "../admin/stats";
import { providerNames } from "../providers/registry";
import { DashboardPage } from "./page";

/** 128 random bits, base64: a fresh CSP nonce for every response. */
function newNonce(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return btoa(String.fromCharCode(...bytes));
}

/** Only the page's own nonce'd <script> and <style> run, and it talks only to this origin. */
export function contentSecurityPolicy(nonce: string): string {
  return [
    "default-src 'none'",
    `script-src 'nonce-${nonce}'`,
    `style-src 'nonce-${nonce}'`,
    "connect-src 'self'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join("; ");
}

/**
 * The operator dashboard, `GET /dashboard`: a static page without auth and without data. Its
 * script asks the operator for the ADMIN_API_TOKEN and uses the operator API (`/api/*`).
 */
export function dashboard() {
  const page = new Hono();
  page.get("/", (c) => {
    const nonce = newNonce();
    const html = DashboardPage({ nonce, providers: providerNames, windows: Object.keys(STATS_WINDOWS) });
    return c.html(`<!doctype html>${html}`, 200, {
      "content-security-policy": contentSecurityPolicy(nonce),
      "cache-control": "no-store",
      "x-content-type-options": "nosniff",
      "referrer-policy": "no-referrer",
      "x-frame-options": "DENY",
    });
  });
  return page;
}
