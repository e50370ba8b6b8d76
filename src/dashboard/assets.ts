// The dashboard's browser code as the Worker serves it. scripts/build-dashboard.ts bundles
// src/dashboard/client/ into build/dashboard/ (wrangler's `[build]` step, and vitest.config.ts);
// the `[[rules]]` of wrangler.toml import those files as text.
import style from "../../build/dashboard/dashboard.bundle.css";
import script from "../../build/dashboard/dashboard.bundle.js";

export interface Asset {
  /** Named by content, so it can be cached for good. */
  path: string;
  /** Subresource Integrity: the page loads exactly these bytes or nothing. */
  integrity: string;
  body: string;
  contentType: string;
}

async function describe(stem: string, ext: string, body: string, contentType: string): Promise<Asset> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-384", new TextEncoder().encode(body)));
  const tag = Array.from(digest.subarray(0, 8), (b) => b.toString(16).padStart(2, "0")).join("");
  return {
    path: `/dashboard/${stem}.${tag}.${ext}`,
    integrity: `sha384-${btoa(String.fromCharCode(...digest))}`,
    body,
    contentType,
  };
}

let assets: { script: Asset; style: Asset } | undefined;

/** Hashed once per isolate. */
export async function dashboardAssets(): Promise<{ script: Asset; style: Asset }> {
  assets ??= {
    script: await describe("client", "js", script, "text/javascript; charset=utf-8"),
    style: await describe("client", "css", style, "text/css; charset=utf-8"),
  };
  return assets;
}
