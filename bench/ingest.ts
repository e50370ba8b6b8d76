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
// from a temp dir, so edits to src/ during the run don't reload it; state (--persist-to), the
// dev registry and the gateway's .dev.vars (copied from .dev.vars.example) live in that temp
// dir too. The developer's .dev.vars and .wrangler/state are never read or written. All
// traffic goes to 127.0.0.1. wrangler is stopped (its whole process group) at the end, on
// Ctrl-C and on errors.
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { createHmac, randomBytes } from "node:crypto";
import {
  closeSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { connect } from "node:net";
import { cpus, freemem, tmpdir, totalmem } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseEnv } from "node:util";

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
const WATCHDOG_MS = 14 * 60_000;
const BASE = `http://127.0.0.1:${PORT}`;
const WRANGLER = join(ROOT, "node_modules", "wrangler", "bin", "wrangler.js");
const LUA = join(ROOT, "bench", "wrk", "deliveries.lua");

type Arm = "full" | "edge" | "naive" | "bare" | "reject" | "duplicate" | "direct";
const ARMS: Record<Arm, { path: string; what: string }> = {
  full: { path: "/webhooks/nova", what: "gateway (DEDUPE_MODE=kv), valid distinct Nova deliveries → 202" },
  edge: { path: "/edge/webhooks/nova", what: "gateway (DEDUPE_MODE=edge), same deliveries → 202" },
  naive: { path: "/naive/webhooks/nova", what: "naive peer (bench/naive), same deliveries → 202" },
  bare: { path: "/bare/webhooks/nova", what: "bare Hono worker, same deliveries → 202" },
  reject: { path: "/webhooks/nova", what: "gateway, bad signature → 401" },
  duplicate: { path: "/webhooks/nova", what: "gateway, one accepted delivery repeated → 200 duplicate" },
  direct: { path: "/direct/webhooks/nova", what: "router answers itself (plumbing only)" },
};
const ORDER: Arm[] = ["full", "edge", "naive", "bare", "reject", "duplicate", "direct"];

interface WrkResult {
  requests: number;
  duration_us: number;
  connect_errors: number;
  read_errors: number;
  write_errors: number;
  non2xx: number;
  timeouts: number;
  p50_us: number;
  p90_us: number;
  p99_us: number;
  max_us: number;
  wrapped: number;
}

interface Run extends WrkResult {
  arm: Arm;
  round: number;
  rps: number;
  load: string;
  /** How long the log kept growing after wrk stopped: in-flight requests and the queue consumer draining. */
  drainMs: number;
  outcomes: Record<string, number>;
  statuses: Record<string, number>;
  /** CPU ms per answered request, by process of the wrangler tree, the drain after the run included. */
  cpu: Record<Role, number> | undefined;
}

// ---------------------------------------------------------------- process management

let wrangler: ChildProcess | undefined;
let wrk: ChildProcess | undefined;
let tmp: string | undefined;
let keepTmp = false;

function stopWrangler(): void {
  const child = wrangler;
  wrangler = undefined;
  if (!child?.pid || child.exitCode !== null) return;
  try {
    process.kill(-child.pid, "SIGTERM");
  } catch {}
  // Give workerd a moment, then make sure nothing of the group survives.
  const deadline = Date.now() + 5000;
  while (Date.now() < deadline) {
    try {
      process.kill(-child.pid, 0);
    } catch {
      return;
    }
    spawnSync("sleep", ["0.2"]);
  }
  try {
    process.kill(-child.pid, "SIGKILL");
  } catch {}
}

function cleanup(): void {
  if (wrk?.pid && wrk.exitCode === null) wrk.kill("SIGTERM");
  stopWrangler();
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
  if (tmp) console.error(`(wrangler log and state kept in ${tmp})`);
  cleanup();
  process.exit(1);
}

const sleep = (ms: number) => new Promise((resolve_) => setTimeout(resolve_, ms));

/** A wrangler.toml without its [[queues.consumers]] tables (each up to the next table header). */
function withoutConsumers(toml: string): string {
  let skipping = false;
  return toml
    .split("\n")
    .filter((line) => {
      if (/^\s*\[/.test(line)) skipping = /^\s*\[\[queues\.consumers\]\]/.test(line);
      return !skipping;
    })
    .join("\n");
}

/** A wrangler.toml with `name = "value"` in its top-level [vars] (replaced, or added first). */
function withVar(toml: string, name: string, value: string): string {
  const line = `${name} = ${JSON.stringify(value)}`;
  const [head = "", ...rest] = toml.split(/^(?=\[env\.)/m);
  const pattern = new RegExp(`^${name}\\s*=.*$`, "m");
  const top = pattern.test(head) ? head.replace(pattern, line) : head.replace(/^\[vars\]\s*$/m, `[vars]\n${line}`);
  if (!top.includes(line)) fail(`could not set ${name} in the gateway's [vars]`);
  return [top, ...rest].join("");
}

function wranglerEnv(registry: string): NodeJS.ProcessEnv {
  return {
    ...process.env,
    // The Node 22 that runs this script (node_modules/.bin/node under npm), for wrangler's children too.
    PATH: `${dirname(process.execPath)}:${join(ROOT, "node_modules", ".bin")}:${process.env.PATH ?? ""}`,
    WRANGLER_SEND_METRICS: "false",
    WRANGLER_HIDE_BANNER: "true", // also skips the npm update check
    CLOUDFLARE_CF_FETCH_ENABLED: "false", // no request to workers.cloudflare.com for Request.cf
    WRANGLER_REGISTRY_PATH: registry, // don't show up in (or see) other dev sessions' registry
    WRANGLER_CI_DISABLE_CONFIG_WATCHING: "true",
    CLOUDFLARE_INCLUDE_PROCESS_ENV: "false",
  };
}

function runWrangler(args: string[], env: NodeJS.ProcessEnv, what: string): void {
  const result = spawnSync(process.execPath, [WRANGLER, ...args], { cwd: ROOT, env, input: "y\n", encoding: "utf8" });
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

function novaBody(eventId: string): string {
  const event = {
    eventId,
    type: "payment.succeeded",
    occurredAt: new Date().toISOString(),
    version: 1,
    data: {
      paymentId: `pay_${eventId.slice(-12)}`,
      amount: 1999,
      currency: "EUR",
      customer: { id: "cus_bench", email: "someone@example.com" },
      note: "",
    },
  };
  const text = JSON.stringify(event);
  event.data.note = "x".repeat(Math.max(0, BODY_BYTES - text.length));
  return JSON.stringify(event);
}

function novaHeader(body: string, secret: string, t: number): string {
  return `t=${t},v1=${createHmac("sha256", secret).update(`${t}.`).update(body).digest("hex")}`;
}

/** One line per delivery: "<x-nova-signature>\t<body>", every eventId unique to this run. */
function writeDeliveries(file: string, count: number, secret: string, tag: string): void {
  const t = Math.floor(Date.now() / 1000);
  const lines: string[] = [];
  for (let i = 0; i < count; i++) {
    const body = novaBody(`evt_bench_${tag}_${String(i).padStart(7, "0")}`);
    lines.push(`${novaHeader(body, secret, t)}\t${body}`);
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

// ---------------------------------------------------------------- wrk

function runWrk(arm: Arm, deliveries: string, seconds: number): Promise<WrkResult> {
  return new Promise((resolve_, reject) => {
    const args = ["-t", String(THREADS), "-c", String(CONNECTIONS), "-d", `${seconds}s`, "--timeout", "5s"];
    args.push("-s", LUA, `${BASE}${ARMS[arm].path}`);
    const child = spawn("wrk", args, {
      env: {
        ...process.env,
        BENCH_DELIVERIES: deliveries,
        BENCH_PATH: ARMS[arm].path,
        BENCH_HEADER: "x-nova-signature",
        BENCH_THREADS: String(THREADS),
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    wrk = child;
    let out = "";
    child.stdout?.on("data", (chunk) => {
      out += chunk;
    });
    child.stderr?.on("data", (chunk) => {
      out += chunk;
    });
    child.on("error", reject);
    child.on("close", (code) => {
      wrk = undefined;
      const line = out.split("\n").find((l) => l.startsWith("BENCH_RESULT "));
      if (code !== 0 || !line) return reject(new Error(`wrk exited with ${code}:\n${out}`));
      resolve_(JSON.parse(line.slice("BENCH_RESULT ".length)) as WrkResult);
    });
  });
}

/**
 * From the log since `offset`: the gateway's own outcome lines (one JSON line per delivery, see
 * src/log.ts) and wrangler's request lines ("POST /path 202 Accepted"), i.e. every status the
 * router answered, including errors that never reached the gateway's handler.
 */
function logSince(log: string, offset: number): { outcomes: Record<string, number>; statuses: Record<string, number> } {
  const text = readFileSync(log).subarray(offset).toString("utf8");
  const outcomes: Record<string, number> = {};
  for (const match of text.matchAll(/"message":"delivery".*?"outcome":"([a-z_]+)","status":(\d+)/g)) {
    const key = `${match[2]} ${match[1]}`;
    outcomes[key] = (outcomes[key] ?? 0) + 1;
  }
  const statuses: Record<string, number> = {};
  for (const match of text.matchAll(/\[wrangler:info\] POST \S+ (\d{3})/g)) {
    statuses[match[1] as string] = (statuses[match[1] as string] ?? 0) + 1;
  }
  return { outcomes, statuses };
}

/**
 * Waits until the log has been quiet for `quietMs` (wrangler's request lines and the queue
 * consumer's "event processed" lines have stopped), at most `maxMs`. Returns how long after the
 * call the log last grew (0: it was already quiet).
 */
async function settle(log: string, quietMs = 1000, maxMs = 20_000): Promise<number> {
  const started = Date.now();
  let size = statSync(log).size;
  let since = Date.now();
  while (Date.now() - started < maxMs) {
    await sleep(250);
    const now = statSync(log).size;
    if (now !== size) {
      size = now;
      since = Date.now();
    } else if (Date.now() - since >= quietMs) break;
  }
  return Math.max(0, since - started);
}

// ---------------------------------------------------------------- CPU per process

/** workers: the workerd that runs the three workers and Miniflare's KV/D1/Queue simulators. */
type Role = "workers" | "proxy" | "wrangler";
const ROLES: Role[] = ["workers", "proxy", "wrangler"];
const CLOCK_TICKS = Number(spawnSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).stdout?.trim()) || 100;

/** CPU time (ms) used so far by each process under `root`, summed by role. Linux /proc only. */
function treeCpu(root: number): Record<Role, number> | undefined {
  if (!existsSync("/proc/self/stat")) return undefined;
  const procs = new Map<number, { ppid: number; ms: number; cmd: string }>();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      const ticks = Number(fields[11]) + Number(fields[12]); // utime + stime
      const cmd = readFileSync(`/proc/${entry}/cmdline`, "utf8").replaceAll("\0", " ");
      procs.set(Number(entry), { ppid: Number(fields[1]), ms: (ticks * 1000) / CLOCK_TICKS, cmd });
    } catch {} // gone meanwhile
  }
  const totals: Record<Role, number> = { workers: 0, proxy: 0, wrangler: 0 };
  const tree = new Set([root]);
  for (let grew = true; grew; ) {
    grew = false;
    for (const [pid, p] of procs) {
      if (!tree.has(pid) && tree.has(p.ppid)) {
        tree.add(pid);
        grew = true;
      }
    }
  }
  for (const pid of tree) {
    const p = procs.get(pid);
    if (!p) continue;
    const role: Role = !p.cmd.includes("workerd")
      ? "wrangler"
      : p.cmd.includes(`entry=127.0.0.1:${PORT}`)
        ? "proxy"
        : "workers";
    totals[role] += p.ms;
  }
  return totals;
}

// ---------------------------------------------------------------- reporting

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
};
const ms = (us: number) => `${(us / 1000).toFixed(1)} ms`;

function machine(): string {
  const model = readFileSync("/proc/cpuinfo", "utf8").match(/model name\s*:\s*(.*)/)?.[1] ?? cpus()[0]?.model;
  return `${cpus().length} CPUs (${model}), ${(totalmem() / 2 ** 30).toFixed(1)} GiB RAM (${(freemem() / 2 ** 30).toFixed(1)} free)`;
}

function report(runs: Run[], log: string): void {
  const byArm = (arm: Arm) => runs.filter((r) => r.arm === arm);
  const rps = (arm: Arm) => median(byArm(arm).map((r) => r.rps));
  const sum = (list: Run[], pick: (r: Run) => number) => list.reduce((total, r) => total + pick(r), 0);
  const merge = (list: Run[], pick: (r: Run) => Record<string, number>) => {
    const merged: Record<string, number> = {};
    for (const r of list) for (const [k, v] of Object.entries(pick(r))) merged[k] = (merged[k] ?? 0) + v;
    return Object.entries(merged)
      .map(([k, v]) => `${k}: ${v}`)
      .join(", ");
  };
  console.log(
    `\nResults: median of ${ROUNDS} rounds (${DURATION_S} s each, wrk -t${THREADS} -c${CONNECTIONS}), ~${BODY_BYTES} B Nova bodies${CONSUMERS ? "" : ", queue consumers OFF"}`,
  );
  const widths = [10, 7, 22, 9, 9, 8, 7];
  const row = (cells: string[]) =>
    console.log(
      cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] as number) : c.padStart(widths[i] as number))).join("  "),
    );
  row(["arm", "req/s", "req/s per round", "p50", "p99", "non-2xx", "errors"]);
  for (const arm of ORDER) {
    const list = byArm(arm);
    row([
      arm,
      rps(arm).toFixed(0),
      list.map((r) => r.rps.toFixed(0)).join(" / "),
      ms(median(list.map((r) => r.p50_us))),
      ms(median(list.map((r) => r.p99_us))),
      String(sum(list, (r) => r.non2xx)),
      String(sum(list, (r) => r.connect_errors + r.read_errors + r.write_errors + r.timeouts)),
    ]);
  }
  console.log("(p50/p99: median over rounds; non-2xx and errors (socket errors + timeouts): totals over rounds)");
  console.log(
    "\nAnswers over all rounds, from wrangler's log (HTTP status per request; the gateway's own outcome lines):",
  );
  for (const arm of ORDER) {
    const list = byArm(arm);
    const outcomes = merge(list, (r) => r.outcomes);
    console.log(
      `  ${arm.padEnd(9)} HTTP ${merge(list, (r) => r.statuses) || "-"}${outcomes ? `   gateway ${outcomes}` : ""}`,
    );
  }

  if (runs.every((r) => r.cpu)) {
    console.log(
      "\nCPU per answered request (ms, median over rounds; the queue consumer's work after the run included):",
    );
    console.log(
      `  ${"arm".padEnd(9)} ${"workers".padStart(8)} ${"proxy".padStart(8)} ${"wrangler".padStart(8)} ${"total".padStart(8)}`,
    );
    for (const arm of ORDER) {
      const list = byArm(arm);
      const cell = (role: Role) => median(list.map((r) => r.cpu?.[role] ?? 0));
      const total = median(list.map((r) => ROLES.reduce((t, role) => t + (r.cpu?.[role] ?? 0), 0)));
      console.log(
        `  ${arm.padEnd(9)} ${ROLES.map((role) => cell(role).toFixed(2).padStart(8)).join(" ")} ${total.toFixed(2).padStart(8)}`,
      );
    }
    console.log(
      "  (workers: the workerd running router, gateway, bare and Miniflare's KV/D1/Queue simulators; proxy: wrangler's\n" +
        "   proxy workerd; wrangler: its Node process, which also prints every log line. wrk's own CPU is not counted.)",
    );
  }

  const bare = rps("bare");
  const full = rps("full") / bare;
  const reject = rps("reject") / bare;
  const validArms = byArm("full").concat(byArm("edge"), byArm("naive"));
  const validNon2xx = sum(validArms, (r) => r.non2xx);
  const rejectNon401 = sum(byArm("reject"), (r) => r.requests - r.non2xx);
  const wrapped = sum(validArms, (r) => r.wrapped);
  const verdict = (ok: boolean) => (ok ? "met" : "MISSED");
  console.log("\nRatios (median req/s) and targets:");
  const naive = rps("naive");
  console.log(
    `  full / naive      ${(rps("full") / naive).toFixed(2)}x   target ≥ 1.0x    ${verdict(rps("full") >= naive)}`,
  );
  console.log(
    `  edge / naive      ${(rps("edge") / naive).toFixed(2)}x   target ≥ 1.0x    ${verdict(rps("edge") >= naive)}`,
  );
  console.log(`  full / bare       ${full.toFixed(2)}x   target ≥ 0.85x   ${verdict(full >= 0.85)}`);
  console.log(`  edge / bare       ${(rps("edge") / bare).toFixed(2)}x   (no target)`);
  console.log(`  naive / bare      ${(naive / bare).toFixed(2)}x   (no target)`);
  console.log(`  reject / bare     ${reject.toFixed(2)}x   target ≥ 0.95x   ${verdict(reject >= 0.95)}`);
  console.log(`  duplicate / bare  ${(rps("duplicate") / bare).toFixed(2)}x   (no target)`);
  console.log(
    `  direct / bare     ${(rps("direct") / bare).toFixed(2)}x   (router alone: the ceiling of this dev setup)`,
  );
  console.log(`  non-2xx for valid deliveries: ${validNon2xx}   target 0   ${verdict(validNon2xx === 0)}`);
  console.log(`  reject path answers that were 2xx/3xx (should be 0): ${rejectNon401}`);
  if (wrapped > 0)
    console.log(`  WARNING: the delivery list wrapped ${wrapped} times: later deliveries were duplicates`);
  if (validNon2xx > 0) {
    keepTmp = true;
    console.log(`  wrangler's log is kept for a look at the non-2xx answers: ${log}`);
  }
  console.log(`\nload average (1 min) at the start of each run: ${runs.map((r) => r.load.split(" ")[0]).join(" ")}`);
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
  const state = join(tmp, "state");
  const gatewayDir = join(tmp, "gateway");
  const deliveriesDir = join(tmp, "deliveries");
  mkdirSync(deliveriesDir);
  const log = join(tmp, "wrangler.log");
  const env = wranglerEnv(join(tmp, "registry"));
  const wranglerVersion = spawnSync(process.execPath, [WRANGLER, "--version"], { env, encoding: "utf8" }).stdout.trim();

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

  // 1. The gateway, bundled as it would deploy, served from the temp dir with the dev-only secrets.
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
  const secret = parseEnv(readFileSync(join(ROOT, ".dev.vars.example"), "utf8")).NOVA_WEBHOOK_SECRET;
  if (!secret) fail(".dev.vars.example has no NOVA_WEBHOOK_SECRET");

  // 2. Local D1 migrations into the temp state only.
  console.log("applying D1 migrations to the temp state …");
  runWrangler(
    ["d1", "migrations", "apply", "DB", "--local", "--persist-to", state, "-c", "wrangler.toml"],
    env,
    "d1 migrations apply",
  );

  // 3. One wrangler dev: router (primary, gets the port), gateway, bare.
  const devArgs = [
    "dev",
    ...["-c", "bench/router/wrangler.toml", "-c", join(gatewayDir, "wrangler.toml")],
    ...["-c", join(gatewayDir, "wrangler-edge.toml"), "-c", "bench/bare/wrangler.toml", "-c", naiveConfig],
    ...["--ip", "127.0.0.1", "--port", String(PORT), "--inspector-port", String(INSPECTOR_PORT)],
    ...["--persist-to", state, "--show-interactive-dev-session=false"],
  ];
  const logFd = openSync(log, "a");
  console.log(`starting: wrangler ${devArgs.join(" ").replaceAll(tmp, "$TMP")}`);
  wrangler = spawn(process.execPath, [WRANGLER, ...devArgs], {
    cwd: ROOT,
    env,
    detached: true, // its own process group, so the whole tree (workerd included) can be stopped
    stdio: ["ignore", logFd, logFd],
  });
  closeSync(logFd);
  wrangler.on("exit", (code) => {
    if (wrangler) fail(`wrangler dev exited early (${code}):\n${readFileSync(log, "utf8").slice(-3000)}`);
  });
  const readyBy = Date.now() + 120_000;
  for (;;) {
    try {
      const [health, direct] = await Promise.all([
        fetch(`${BASE}/healthz`),
        fetch(`${BASE}/direct/ping`, { method: "POST", body: "{}" }),
      ]);
      if (health.status === 200 && direct.status === 202) break;
    } catch {}
    if (Date.now() > readyBy) fail(`wrangler dev not ready after 120 s:\n${readFileSync(log, "utf8").slice(-3000)}`);
    await sleep(500);
  }

  // 4. Smoke checks: each path answers what docs/contract.md says, or the numbers mean nothing.
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
  await acceptThenRepeat(probe, novaHeader(probe, secret, now()));
  await acceptThenRepeat(probe, novaHeader(probe, secret, now()), ARMS.edge.path);
  await acceptThenRepeat(probe, novaHeader(probe, secret, now()), ARMS.naive.path);
  expect("naive peer, bad signature", await post(ARMS.naive.path, probe, novaHeader(probe, `${secret}x`, now())), 401);
  expect("bad signature", await post(ARMS.full.path, probe, novaHeader(probe, `${secret}x`, now())), 401);
  expect("bare worker", await post(ARMS.bare.path, probe, "unused"), 202, "accepted");
  console.log(
    "smoke checks passed: 202 accepted then 200 duplicate (gateway kv, gateway edge, naive), 401 on a bad signature, bare 202\n",
  );

  // 5. Runs. Valid-path deliveries are generated just before each run (fresh timestamps, ids
  // never used before); the list is sized from the warm-up rate so it doesn't wrap.
  let fileIndex = 0;
  let listSize = 4000;
  const prepare = async (arm: Arm): Promise<string> => {
    const file = join(deliveriesDir, `${fileIndex++}-${arm}.txt`);
    if (arm === "full" || arm === "edge" || arm === "naive" || arm === "bare" || arm === "direct") {
      writeDeliveries(file, listSize, secret, `${runTag}_${fileIndex}`);
    } else if (arm === "reject") {
      const body = novaBody(`evt_bench_${runTag}_reject`);
      writeFileSync(file, `${novaHeader(body, `${secret}_wrong`, now())}\t${body}\n`);
    } else {
      const body = novaBody(`evt_bench_${runTag}_dup_${fileIndex}`);
      const header = novaHeader(body, secret, now());
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
    const cpuBefore = wrangler?.pid ? treeCpu(wrangler.pid) : undefined;
    const result = await runWrk(arm, file, seconds);
    const drainMs = await settle(log);
    const cpuAfter = wrangler?.pid ? treeCpu(wrangler.pid) : undefined;
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
  report(runs, log);
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
cleanup();
process.exit(0);
