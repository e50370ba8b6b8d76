// `npm run bench:ingest`: requests per second through the whole gateway (verify, parse,
// dedupe, enqueue, log), in both dedupe modes, against a bare Hono worker that only reads the body
// and answers 202 and against a naive peer written "the tutorial way" (bench/naive: Hono, zod,
// WebCrypto HMAC over the body text, a KV read, queue.send, a KV write), all under ONE `wrangler dev`
// (one workerd, the same local KV/D1/Queues), driven alternately by wrk.
//
// How they are reached: with several -c configs, `wrangler dev` serves only the first worker over
// HTTP (the others only through service bindings, and it has no flag to route by `routes`). So the
// first config is a tiny router (bench/router) that forwards /edge/* to a second copy of the gateway
// configured with DEDUPE_MODE=edge (its own name and queues), /bare/* and /naive/* to those workers
// and everything else to the gateway with DEDUPE_MODE=kv, the same way for all. /direct/* is
// answered by the router itself: the cost of the dev plumbing alone.
//
// Isolation: the gateway is bundled once at the start (`wrangler deploy --dry-run`) and served
// from a temp dir, so edits to src/ during the run don't reload it; the dev registry lives in that
// temp dir too. wrangler dev is started as the e2e tests start it (e2e/support/dev-gateway.ts):
// throwaway state with the migrations applied, the dev-only secrets of .dev.vars.example. The
// developer's .dev.vars and .wrangler/state are never read or written. All traffic goes to
// 127.0.0.1. wrangler is stopped (its whole process group) at the end, on Ctrl-C and on errors.
//
// `npm run bench:ingest -- --check` starts it all and runs the smoke checks only: no measurement.
// `-- --help` lists the knobs.
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { type DevGateway, startDevGateway, withoutConsumers } from "../e2e/support/dev-gateway.ts";
import { ARMS, type Arm, machine, ms, ORDER, type Run, report } from "./lib/ingest-report.ts";
import { novaSignature, novaBody as paddedNovaBody } from "./lib/nova-deliveries.ts";
import { logSince, ROLES, type Role, settle, treeCpu } from "./lib/wrangler-dev.ts";
import { runWrk, stopWrk } from "./lib/wrk.ts";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const PORT = Number(process.env.BENCH_PORT ?? 8811);
const INSPECTOR_PORT = Number(process.env.BENCH_INSPECTOR_PORT ?? PORT + 1);
const DURATION_S = Number(process.env.BENCH_DURATION ?? 10);
const WARMUP_S = Number(process.env.BENCH_WARMUP ?? 5);
const ROUNDS = Math.max(3, Number(process.env.BENCH_ROUNDS ?? 3));
const THREADS = Number(process.env.BENCH_THREADS ?? 2);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);
const BODY_BYTES = Number(process.env.BENCH_BODY_BYTES ?? 1024);
/**
 * BENCH_GATEWAY_CONSUMERS=off drops the [[queues.consumers]] of both gateways and of the naive peer:
 * the ingest paths alone, without what their consumers cost the same workerd.
 */
const CONSUMERS = process.env.BENCH_GATEWAY_CONSUMERS !== "off";
const CHECK_ONLY = process.argv.includes("--check");
const WATCHDOG_MS = 14 * 60_000;
const BASE = `http://127.0.0.1:${PORT}`;
const WRANGLER = join(ROOT, "node_modules", "wrangler", "bin", "wrangler.js");

const HELP = `npm run bench:ingest [-- --check | --help]

  --check   start the workers and run the smoke checks, then stop: no measurement
  --help    this text

Knobs (environment): BENCH_DURATION (10 s), BENCH_WARMUP (5 s), BENCH_ROUNDS (3, at least 3),
BENCH_THREADS (2), BENCH_CONNECTIONS (32), BENCH_BODY_BYTES (1024), BENCH_PORT (8811),
BENCH_INSPECTOR_PORT (BENCH_PORT + 1), BENCH_GATEWAY_CONSUMERS=off (no queue consumers).
See bench/README.md.`;

if (process.argv.includes("--help")) {
  console.log(HELP);
  process.exit(0);
}

// ---------------------------------------------------------------- process management

let gateway: DevGateway | undefined;
let stopping = false;
let tmp: string | undefined;
let keepTmp = false;

/** Stops wrangler's whole process group, synchronously (it may run in process.on("exit")). */
function stopWrangler(): void {
  const pid = gateway?.pid;
  stopping = true;
  if (!pid) return;
  try {
    process.kill(-pid, "SIGTERM");
  } catch {
    return; // already gone
  }
  // Give workerd a moment, then make sure nothing of the group survives.
  const deadline = Date.now() + 5000;
  while (Date.now() < deadline) {
    try {
      process.kill(-pid, 0);
    } catch {
      return;
    }
    spawnSync("sleep", ["0.2"]);
  }
  try {
    process.kill(-pid, "SIGKILL");
  } catch {}
}

function cleanup(): void {
  stopWrk();
  stopWrangler();
  if (gateway && !keepTmp) rmSync(gateway.persistDir, { recursive: true, force: true });
  if (tmp && !keepTmp) rmSync(tmp, { recursive: true, force: true });
}

process.on("exit", cleanup);
for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
  process.on(signal, () => {
    console.error(`\n${signal}: stopping wrangler`);
    cleanup();
    process.exit(130);
  });
}
const watchdog = setTimeout(() => {
  console.error(`watchdog: bench still running after ${WATCHDOG_MS / 60_000} min, stopping`);
  keepTmp = true;
  cleanup();
  process.exit(1);
}, WATCHDOG_MS);
watchdog.unref();

function fail(message: string): never {
  keepTmp = true;
  console.error(`\nbench:ingest failed: ${message}`);
  if (tmp) console.error(`(wrangler log kept in ${tmp}${gateway ? `, state in ${gateway.persistDir}` : ""})`);
  cleanup();
  process.exit(1);
}

const sleep = (ms: number) => new Promise((resolve_) => setTimeout(resolve_, ms));

/** A wrangler.toml with `name = "value"` in its top-level [vars] (replaced, or added first). */
function withVar(toml: string, name: string, value: string): string {
  const line = `${name} = ${JSON.stringify(value)}`;
  const [head = "", ...rest] = toml.split(/^(?=\[env\.)/m);
  const pattern = new RegExp(`^${name}\\s*=.*$`, "m");
  const top = pattern.test(head) ? head.replace(pattern, line) : head.replace(/^\[vars\]\s*$/m, `[vars]\n${line}`);
  if (!top.includes(line)) fail(`could not set ${name} in the gateway's [vars]`);
  return [top, ...rest].join("");
}

/** What wrangler runs with here, beyond e2e/support/dev-gateway.ts's own (no metrics, CI, no colour). */
function wranglerEnv(registry: string): Record<string, string> {
  return {
    WRANGLER_SEND_METRICS: "false",
    WRANGLER_HIDE_BANNER: "true", // also skips the npm update check
    CLOUDFLARE_CF_FETCH_ENABLED: "false", // no request to workers.cloudflare.com for Request.cf
    WRANGLER_REGISTRY_PATH: registry, // don't show up in (or see) other dev sessions' registry
    WRANGLER_CI_DISABLE_CONFIG_WATCHING: "true",
    CLOUDFLARE_INCLUDE_PROCESS_ENV: "false",
  };
}

function runWrangler(args: string[], env: Record<string, string>, what: string): void {
  const result = spawnSync(process.execPath, [WRANGLER, ...args], {
    cwd: ROOT,
    env: {
      ...process.env,
      // The Node 22 that runs this script (node_modules/.bin/node under npm), for wrangler's children too.
      PATH: `${dirname(process.execPath)}:${join(ROOT, "node_modules", ".bin")}:${process.env.PATH ?? ""}`,
      ...env,
    },
    input: "y\n",
    encoding: "utf8",
  });
  if (result.status !== 0) fail(`${what} failed:\n${result.stdout}\n${result.stderr}`);
}

function portInUse(port: number): Promise<boolean> {
  return new Promise((resolve_) => {
    const socket = connect({ host: "127.0.0.1", port });
    socket.once("connect", () => {
      socket.destroy();
      resolve_(true);
    });
    socket.once("error", () => resolve_(false));
  });
}

// ---------------------------------------------------------------- deliveries

const novaBody = (eventId: string) => paddedNovaBody(eventId, BODY_BYTES);

/** One line per delivery: "<x-nova-signature>\t<body>", every eventId unique to this run. */
function writeDeliveries(file: string, count: number, secret: string, tag: string): void {
  const t = Math.floor(Date.now() / 1000);
  const lines: string[] = [];
  for (let i = 0; i < count; i++) {
    const body = novaBody(`evt_bench_${tag}_${String(i).padStart(7, "0")}`);
    lines.push(`${novaSignature(body, secret, t)}\t${body}`);
  }
  writeFileSync(file, `${lines.join("\n")}\n`);
}

async function post(path: string, body: string, signature: string): Promise<{ status: number; json: unknown }> {
  const response = await fetch(`${BASE}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-nova-signature": signature },
    body,
  });
  const text = await response.text();
  try {
    return { status: response.status, json: JSON.parse(text) };
  } catch {
    return { status: response.status, json: text };
  }
}

// ---------------------------------------------------------------- main

async function main(): Promise<void> {
  if (Number(process.versions.node.split(".")[0]) < 22) {
    fail(`wrangler needs Node ≥ 22; this is ${process.version}. Run it as \`npm run bench:ingest\`.`);
  }
  const wrkCheck = spawnSync("wrk", ["--version"], { encoding: "utf8" });
  if (wrkCheck.error) {
    fail("wrk is not installed. On Debian/Ubuntu: `sudo apt-get install -y wrk` (macOS: `brew install wrk`).");
  }
  if (await portInUse(PORT)) fail(`port ${PORT} is already in use; set BENCH_PORT to a free port`);
  if (await portInUse(INSPECTOR_PORT)) fail(`port ${INSPECTOR_PORT} is in use; set BENCH_INSPECTOR_PORT`);

  tmp = mkdtempSync(join(tmpdir(), "bench-ingest-"));
  const gatewayDir = join(tmp, "gateway");
  const deliveriesDir = join(tmp, "deliveries");
  mkdirSync(deliveriesDir);
  const log = join(tmp, "wrangler.log");
  const env = wranglerEnv(join(tmp, "registry"));
  const wranglerVersion = spawnSync(process.execPath, [WRANGLER, "--version"], {
    env: { ...process.env, ...env },
    encoding: "utf8",
  }).stdout.trim();

  console.log(`bench:ingest — ${new Date().toISOString()}`);
  console.log(
    `machine: ${machine()}, Node ${process.version}, wrangler ${wranglerVersion}, ${wrkCheck.stdout.split("\n")[0]}`,
  );
  const git = (...args: string[]) => spawnSync("git", args, { cwd: ROOT, encoding: "utf8" }).stdout?.trim() ?? "";
  const dirty = git("status", "--porcelain", "--", "src", "wrangler.toml", "migrations")
    ? " + uncommitted changes"
    : "";
  console.log(
    `gateway: commit ${git("rev-parse", "--short", "HEAD") || "unknown"}${dirty} (src/, wrangler.toml, migrations/)`,
  );
  if (!CONSUMERS)
    console.log("BENCH_GATEWAY_CONSUMERS=off: the gateways and the naive peer run without queue consumers");

  // 1. The gateway, bundled as it would deploy, served from the temp dir.
  console.log("building the gateway (wrangler deploy --dry-run) …");
  runWrangler(["deploy", "--dry-run", "--outdir", gatewayDir, "-c", "wrangler.toml"], env, "bundling the gateway");
  let config = readFileSync(join(ROOT, "wrangler.toml"), "utf8");
  if (!/^main\s*=.*$/m.test(config)) fail("wrangler.toml has no top-level `main`");
  if (!CONSUMERS) config = withoutConsumers(config);
  writeFileSync(
    join(gatewayDir, "wrangler.toml"),
    config
      .replace(/^main\s*=.*$/m, `main = ${JSON.stringify(join(gatewayDir, "index.js"))}\nno_bundle = true`)
      .replace(
        /^migrations_dir\s*=\s*"(.*)"$/m,
        (_, dir: string) => `migrations_dir = ${JSON.stringify(join(ROOT, dir))}`,
      ),
  );
  // The same gateway again with DEDUPE_MODE=edge, under its own name and queues (a queue has one
  // consumer), sharing the local D1 and KV. The first copy is set to kv, whatever wrangler.toml says.
  const gatewayConfig = readFileSync(join(gatewayDir, "wrangler.toml"), "utf8");
  writeFileSync(join(gatewayDir, "wrangler.toml"), withVar(gatewayConfig, "DEDUPE_MODE", "kv"));
  writeFileSync(
    join(gatewayDir, "wrangler-edge.toml"),
    withVar(gatewayConfig, "DEDUPE_MODE", "edge")
      .replace(/^name\s*=.*$/m, 'name = "edge-webhook-gateway-edge"')
      .replaceAll(/"webhook-events(-dlq)?"/g, '"webhook-events-edge$1"'),
  );
  // wrangler dev reads --env-file for the primary worker only (the gateways answer 401 without this):
  // they read the dev-only secrets beside their config.
  copyFileSync(join(ROOT, ".dev.vars.example"), join(gatewayDir, ".dev.vars"));
  let naiveConfig = "bench/naive/wrangler.toml";
  if (!CONSUMERS) {
    naiveConfig = join(tmp, "naive.toml");
    const naive = readFileSync(join(ROOT, "bench/naive/wrangler.toml"), "utf8");
    writeFileSync(
      naiveConfig,
      withoutConsumers(naive).replace(
        /^main\s*=.*$/m,
        `main = ${JSON.stringify(join(ROOT, "bench/naive/src/index.ts"))}`,
      ),
    );
  }
  // 2. One wrangler dev (migrations applied to its throwaway state first): the router (primary, gets
  // the port), both gateways, bare and naive.
  const others = [join(gatewayDir, "wrangler.toml"), join(gatewayDir, "wrangler-edge.toml")];
  others.push("bench/bare/wrangler.toml", naiveConfig);
  console.log(`starting wrangler dev: bench/router/wrangler.toml, ${others.join(", ").replaceAll(tmp, "$TMP")}`);
  try {
    gateway = await startDevGateway({
      primary: "bench/router/wrangler.toml",
      configs: others,
      port: PORT,
      inspectorPort: INSPECTOR_PORT,
      env,
      logFile: log,
    });
  } catch (error) {
    fail(error instanceof Error ? error.message.slice(-3000) : String(error));
  }
  const dev = gateway;
  void dev.exited.then(() => {
    if (!stopping) fail(`wrangler dev exited early:\n${readFileSync(log, "utf8").slice(-3000)}`);
  });
  const direct = await fetch(`${BASE}/direct/ping`, { method: "POST", body: "{}" });
  if (direct.status !== 202) fail(`the router answered /direct/ping with ${direct.status}`);
  const secret = dev.secrets.NOVA_WEBHOOK_SECRET;
  if (!secret) fail(".dev.vars.example has no NOVA_WEBHOOK_SECRET");

  // 3. Smoke checks: each path answers what docs/contract.md says, or the numbers mean nothing.
  const runTag = randomBytes(4).toString("hex");
  const now = () => Math.floor(Date.now() / 1000);
  const probe = novaBody(`evt_bench_${runTag}_probe`);
  const expect = (what: string, got: { status: number; json: unknown }, status: number, field?: string) => {
    const ok = got.status === status && (!field || (got.json as Record<string, unknown>)?.status === field);
    if (!ok)
      fail(`${what}: expected ${status}${field ? ` ${field}` : ""}, got ${got.status} ${JSON.stringify(got.json)}`);
  };
  /** Sends a delivery once (202 accepted), then until the gateway knows it (the dedupe mark is written in waitUntil). */
  const acceptThenRepeat = async (body: string, header: string, path = ARMS.full.path): Promise<void> => {
    expect(`valid delivery to ${path}`, await post(path, body, header), 202, "accepted");
    let dup = { status: 0, json: null as unknown };
    for (let i = 0; i < 50; i++) {
      dup = await post(path, body, header);
      if ((dup.json as Record<string, unknown>)?.status === "duplicate") break;
      await sleep(100);
    }
    expect("repeated delivery", dup, 200, "duplicate");
  };
  await acceptThenRepeat(probe, novaSignature(probe, secret, now()));
  await acceptThenRepeat(probe, novaSignature(probe, secret, now()), ARMS.edge.path);
  await acceptThenRepeat(probe, novaSignature(probe, secret, now()), ARMS.naive.path);
  expect(
    "naive peer, bad signature",
    await post(ARMS.naive.path, probe, novaSignature(probe, `${secret}x`, now())),
    401,
  );
  expect("bad signature", await post(ARMS.full.path, probe, novaSignature(probe, `${secret}x`, now())), 401);
  expect("bare worker", await post(ARMS.bare.path, probe, "unused"), 202, "accepted");
  console.log(
    "smoke checks passed: 202 accepted then 200 duplicate (gateway kv, gateway edge, naive), 401 on a bad signature, bare 202\n",
  );

  if (CHECK_ONLY) return;

  // 4. Runs. Valid-path deliveries are generated just before each run (fresh timestamps, ids
  // never used before); the list is sized from the warm-up rate so it doesn't wrap.
  let fileIndex = 0;
  let listSize = 4000;
  const prepare = async (arm: Arm): Promise<string> => {
    const file = join(deliveriesDir, `${fileIndex++}-${arm}.txt`);
    if (arm === "full" || arm === "edge" || arm === "naive" || arm === "bare" || arm === "direct") {
      writeDeliveries(file, listSize, secret, `${runTag}_${fileIndex}`);
    } else if (arm === "reject") {
      const body = novaBody(`evt_bench_${runTag}_reject`);
      writeFileSync(file, `${novaSignature(body, `${secret}_wrong`, now())}\t${body}\n`);
    } else {
      const body = novaBody(`evt_bench_${runTag}_dup_${fileIndex}`);
      const header = novaSignature(body, secret, now());
      await acceptThenRepeat(body, header);
      writeFileSync(file, `${header}\t${body}\n`);
    }
    return file;
  };
  const measure = async (arm: Arm, round: number, seconds: number): Promise<Run> => {
    const file = await prepare(arm);
    await settle(log);
    const load = readFileSync("/proc/loadavg", "utf8").trim();
    const offset = statSync(log).size;
    const cpuBefore = treeCpu(dev.pid, PORT);
    const result = await runWrk({
      base: BASE,
      path: ARMS[arm].path,
      deliveries: file,
      seconds,
      threads: THREADS,
      connections: CONNECTIONS,
    });
    const drainMs = await settle(log);
    const cpuAfter = treeCpu(dev.pid, PORT);
    const { outcomes, statuses } = logSince(log, offset);
    rmSync(file, { force: true });
    const rps = result.requests / (result.duration_us / 1e6);
    const answered = Object.values(statuses).reduce((a, b) => a + b, 0) || result.requests;
    const cpu =
      cpuBefore && cpuAfter
        ? (Object.fromEntries(ROLES.map((role) => [role, (cpuAfter[role] - cpuBefore[role]) / answered])) as Record<
            Role,
            number
          >)
        : undefined;
    return { ...result, arm, round, rps, load, drainMs, outcomes, statuses, cpu };
  };

  console.log(`warm-up: ${WARMUP_S} s on each arm`);
  let fastest = 0;
  for (const arm of ["full", "edge", "naive", "bare", "direct"] as Arm[]) {
    const run = await measure(arm, 0, WARMUP_S);
    fastest = Math.max(fastest, run.rps);
    console.log(`  ${arm.padEnd(9)} ${run.rps.toFixed(0)} req/s`);
  }
  listSize = Math.max(4000, Math.ceil(fastest * DURATION_S * 2));

  const runs: Run[] = [];
  for (let round = 1; round <= ROUNDS; round++) {
    for (const arm of ORDER) {
      const run = await measure(arm, round, DURATION_S);
      runs.push(run);
      console.log(
        `round ${round}  ${arm.padEnd(9)} ${run.rps.toFixed(0).padStart(6)} req/s  p50 ${ms(run.p50_us).padStart(9)}  p99 ${ms(run.p99_us).padStart(9)}  non-2xx ${run.non2xx}  drain ${(run.drainMs / 1000).toFixed(1)} s  load ${run.load.split(" ")[0]}`,
      );
    }
  }

  console.log("\narms:");
  for (const arm of ORDER) console.log(`  ${arm.padEnd(9)} ${BASE}${ARMS[arm].path}  ${ARMS[arm].what}`);
  const keepLog = report(runs, log, {
    rounds: ROUNDS,
    durationS: DURATION_S,
    threads: THREADS,
    connections: CONNECTIONS,
    bodyBytes: BODY_BYTES,
    consumers: CONSUMERS,
  });
  if (keepLog) keepTmp = true;
  console.log(
    "\nAll of it runs on this machine: wrk, wrangler's proxy, workerd and the local KV/D1/Queue simulators share the\n" +
      "CPUs, so absolute req/s are those of `wrangler dev` here, not of Cloudflare's edge; the ratios are the point.",
  );
}

try {
  await main();
} catch (error) {
  fail(error instanceof Error ? (error.stack ?? error.message) : String(error));
}
stopping = true;
await gateway?.stop();
cleanup();
process.exit(0);
