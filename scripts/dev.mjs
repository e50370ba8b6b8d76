// `npm run dev [-- wrangler dev args]`: dev-only secrets on first run, local D1
// migrations, then `wrangler dev` with local KV, D1 and Queues (consumer included).
import { spawnSync } from "node:child_process";
import { copyFileSync, existsSync } from "node:fs";

const wrangler = (args, options = {}) =>
  spawnSync("wrangler", args, {
    stdio: "inherit",
    env: { ...process.env, WRANGLER_SEND_METRICS: "false" },
    ...options,
  });

if (!existsSync(".dev.vars")) {
  copyFileSync(".dev.vars.example", ".dev.vars");
  console.log("Created .dev.vars from .dev.vars.example (dev-only secrets, never real ones).");
}

const passThrough = process.argv.slice(2);
const persist = passThrough.filter((arg, i) => arg.startsWith("--persist-to") || passThrough[i - 1] === "--persist-to");
const migrate = wrangler(["d1", "migrations", "apply", "DB", "--local", ...persist], {
  input: "y\n",
  stdio: ["pipe", "inherit", "inherit"],
});
if (migrate.status !== 0) process.exit(migrate.status ?? 1);

const dev = wrangler(["dev", ...passThrough]);
process.exit(dev.status ?? 0);
