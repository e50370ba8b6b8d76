// Bundles the dashboard's browser code (src/dashboard/client/) with esbuild into
// build/dashboard/, which the Worker imports as text (the `[[rules]]` in wrangler.toml) and
// serves. Run by wrangler's `[build]` step before `wrangler dev`/`deploy` and by vitest.config.ts.
import { resolve } from "node:path";
import { build } from "esbuild";

const ROOT = resolve(import.meta.dirname, "..");
export const DASHBOARD_OUT_DIR = resolve(ROOT, "build/dashboard");

export async function buildDashboard(): Promise<void> {
  await build({
    absWorkingDir: ROOT,
    entryPoints: [
      { in: "src/dashboard/client/main.ts", out: "dashboard.bundle" },
      { in: "src/dashboard/client/dashboard.css", out: "dashboard.bundle" },
    ],
    outdir: DASHBOARD_OUT_DIR,
    bundle: true,
    format: "iife",
    platform: "browser",
    target: "es2022",
    minify: false,
    sourcemap: false,
    legalComments: "none",
    logLevel: "warning",
  });
}

if (import.meta.main) await buildDashboard();
