// `npm run dev [-- wrangler dev args]`: dev-only secrets on first run, local D1
// migrations, the fake Nuvouch API, then `wrangler dev` with local KV, D1 and Queues
// (the queue consumer included).
//
// The ports live here and nowhere else: the gateway's is `--port` (default 8787), the fake's
// FAKE_NUVOUCH_PORT (default 8790). The gateway is told where the fake is with
// `--var NUVOUCH_API_BASE_URL:…`, which wins over `.dev.vars`, so no file needs editing.
import { spawn, spawnSync } from "node:child_process";
import { copyFileSync, existsSync } from "node:fs";
import { createServer } from "node:net";

const env = { ...process.env, WRANGLER_SEND_METRICS: "false" };
const passThrough = process.argv.slice(2);
const flagValue = (flag) => {
  const i = passThrough.findIndex((arg) => arg === flag || arg.startsWith(`${flag}=`));
  if (i < 0) return undefined;
  return passThrough[i].includes("=") ? passThrough[i].split("=")[1] : passThrough[i + 1];
};

const stop = (message) => {
  console.error(`npm run dev: ${message}`);
  process.exit(1);
};
const portOf = (value, name) => {
  const port = Number(value);
  if (!Number.isInteger(port) || port < 1 || port > 65535) stop(`${name} must be a port number, not "${value}"`);
  return port;
};
const gatewayPort = portOf(flagValue("--port") ?? "8787", "--port");
const withFake = process.env.FAKE_NUVOUCH !== "0";
const fakePort = portOf(process.env.FAKE_NUVOUCH_PORT ?? "8790", "FAKE_NUVOUCH_PORT");
if (withFake && fakePort === gatewayPort) stop(`the gateway and the fake Nuvouch API both want port ${gatewayPort}`);

/** Resolves to the listen error's code, or null once the port could be bound (and released). */
const tryListen = (port, host) =>
  new Promise((done) => {
    const probe = createServer();
    probe.once("error", (error) => done(error.code ?? "error"));
    probe.listen(port, host, () => probe.close(() => done(null)));
  });

// Before anything starts: a busy port would otherwise end in wrangler's stack trace, with the
// fake (or the gateway) left running alone.
const host = flagValue("--ip") ?? "127.0.0.1";
for (const [port, what, how] of [
  [gatewayPort, "the gateway", "npm run dev -- --port N"],
  ...(withFake ? [[fakePort, "the fake Nuvouch API", "FAKE_NUVOUCH_PORT=M npm run dev"]] : []),
]) {
  const problem = await tryListen(port, what === "the gateway" ? host : "127.0.0.1");
  if (problem === "EADDRINUSE")
    stop(`port ${port} for ${what} is already in use (another npm run dev?); pick another: ${how}`);
  if (problem) stop(`cannot listen on port ${port} for ${what} (${problem})`);
}

if (!existsSync(".dev.vars")) {
  copyFileSync(".dev.vars.example", ".dev.vars");
  console.log("Created .dev.vars from .dev.vars.example (dev-only secrets, never real ones).");
}

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
const devArgs = ["dev", ...(flagValue("--port") ? [] : ["--port", String(gatewayPort)]), ...passThrough];
if (withFake) {
  const fakeArgs = ["--port", String(fakePort), "--gateway", `http://127.0.0.1:${gatewayPort}`];
  children.push(spawn("node", ["scripts/fake-nuvouch/cli.ts", ...fakeArgs], { env, stdio: "inherit" }));
  devArgs.push("--var", `NUVOUCH_API_BASE_URL:http://127.0.0.1:${fakePort}`);
}
const dev = spawn("wrangler", devArgs, { env, stdio: "inherit" });
children.push(dev);
const stopChildren = () => {
  for (const child of children) child.kill("SIGTERM");
};
process.on("SIGINT", stopChildren);
process.on("SIGTERM", stopChildren);
dev.on("exit", (code) => {
  stopChildren();
  process.exit(code ?? 0);
});
