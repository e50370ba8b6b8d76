// `npm run dev [-- wrangler dev args]`: dev-only secrets on first run, local D1
// migrations, the fake Nuvouch API, then `wrangler dev` with local KV, D1 and Queues
// (the queue consumer included).
import { spawn, spawnSync } from "node:child_process";
import { copyFileSync, existsSync } from "node:fs";

const env = { ...process.env, WRANGLER_SEND_METRICS: "false" };

if (!existsSync(".dev.vars")) {
  copyFileSync(".dev.vars.example", ".dev.vars");
  console.log("Created .dev.vars from .dev.vars.example (dev-only secrets, never real ones).");
}

const passThrough = process.argv.slice(2);
const flagValue = (flag) => {
  const i = passThrough.findIndex((arg) => arg === flag || arg.startsWith(`${flag}=`));
  if (i < 0) return undefined;
  return passThrough[i].includes("=") ? passThrough[i].split("=")[1] : passThrough[i + 1];
};
const persist = flagValue("--persist-to");
const migrate = spawnSync(
  "wrangler",
  ["d1", "migrations", "apply", "DB", "--local", ...(persist ? ["--persist-to", persist] : [])],
  {
    env,
    input: "y\n",
    stdio: ["pipe", "inherit", "inherit"],
  },
);
if (migrate.status !== 0) process.exit(migrate.status ?? 1);

const children = [];
if (process.env.FAKE_NUVOUCH !== "0") {
  const gateway = `http://127.0.0.1:${flagValue("--port") ?? "8787"}`;
  children.push(spawn("node", ["scripts/fake-nuvouch/cli.ts", "--gateway", gateway], { env, stdio: "inherit" }));
}
const dev = spawn("wrangler", ["dev", ...passThrough], { env, stdio: "inherit" });
children.push(dev);
const stop = () => {
  for (const child of children) child.kill("SIGTERM");
};
process.on("SIGINT", stop);
process.on("SIGTERM", stop);
dev.on("exit", (code) => {
  stop();
  process.exit(code ?? 0);
});
