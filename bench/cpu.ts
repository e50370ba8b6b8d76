// `npm run bench:cpu`: the gateway's own CPU per delivery, as production bills it.
//
// Production bills the CPU time of the worker's isolate, not of KV, D1 or Queues, which run elsewhere.
// Under `wrangler dev` Miniflare's simulators of those run in the same workerd process, so its CPU
// says little (bench/README.md, bench:ingest). Here the gateway, bundled with esbuild from src/index.ts
// as wrangler bundles it, runs in workerd (Miniflare) behind in-memory bindings that answer at once
// (bench/lib/memory-bindings.ts), and so does a bare Hono worker (bench/bare), under the same harness
// (bench/lib/cpu-harness.ts). A Node client sends a bounded number of requests straight to each worker's
// own socket (127.0.0.1, no Miniflare entry worker and no Node hop), and the CPU time the workerd process
// used meanwhile (utime + stime, /proc/<pid>/stat) is divided by the requests answered.
//
// Arms: accepted (distinct valid Nova deliveries → 202), duplicate (one accepted delivery repeated →
// 200), refused (a well-formed signature with the wrong MAC → 401), at 1 KB and 16 KB; both dedupe
// modes; the gateway without its per-delivery log line (what a refusal costs without it); the bare
// worker (Hono, reads the body, 202); and a floor worker that answers without reading anything: the
// runtime's own HTTP work, which production does not bill to the worker.
//
// Then a CPU profile of the main arms through workerd's inspector (Chrome DevTools protocol over a
// WebSocket), attributed to source files through the bundle's source map: where the difference goes.
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { Agent, request } from "node:http";
import { SourceMap } from "node:module";
import { cpus, tmpdir, totalmem } from "node:os";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { build, type Plugin } from "esbuild";
import { convertV4MiniflareOptions, Miniflare } from "miniflare";
import { buildDashboard } from "../scripts/build-dashboard.ts";
import { devVarsExample, novaBody, novaSignature as sign } from "./lib/nova-deliveries.ts";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const BENCH = join(ROOT, "bench");
const ROUNDS = Math.max(3, Number(process.env.BENCH_ROUNDS ?? 5));
/** Requests per measured run (per arm and round); 16 KB arms send half as many. */
const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 4000);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 8);
const RUN_LIMIT_S = 30;
const PROFILE = process.env.BENCH_PROFILE !== "off";
const PROFILE_OUT = process.env.BENCH_PROFILE_OUT;
/** BENCH_MEASURE=off: profiles only. */
const MEASURE = process.env.BENCH_MEASURE !== "off";
const WATCHDOG_MS = 12 * 60_000;
const SIZES = [1024, 16 * 1024];
const TARGETS = { accepted: 1.5, duplicate: 1.3, refused: 1.2 } as const;
const CLOCK_TICKS = Number(spawnSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).stdout?.trim()) || 100;

// ---------------------------------------------------------------- workers

type WorkerName = "floor" | "bare" | "gateway" | "gateway-edge" | "gateway-nolog";
type Path = "accepted" | "duplicate" | "refused";

const WORKERS: Record<WorkerName, { what: string }> = {
  floor: { what: "answers 202 without reading the request: the runtime's HTTP work only" },
  bare: { what: "Hono, reads the body, answers 202 (bench/bare)" },
  gateway: { what: "the gateway, DEDUPE_MODE=kv (the default)" },
  "gateway-edge": { what: "the gateway, DEDUPE_MODE=edge" },
  "gateway-nolog": { what: "the gateway, kv, without the per-delivery log line" },
};

interface Arm {
  worker: WorkerName;
  path: Path;
  size: number;
  status: number;
}

const ARMS: Arm[] = SIZES.flatMap((size) => [
  { worker: "floor", path: "accepted", size, status: 202 },
  { worker: "bare", path: "accepted", size, status: 202 },
  { worker: "gateway", path: "accepted", size, status: 202 },
  { worker: "gateway", path: "duplicate", size, status: 200 },
  { worker: "gateway", path: "refused", size, status: 401 },
  { worker: "gateway-edge", path: "accepted", size, status: 202 },
  { worker: "gateway-edge", path: "duplicate", size, status: 200 },
  { worker: "gateway-nolog", path: "accepted", size, status: 202 },
  { worker: "gateway-nolog", path: "refused", size, status: 401 },
]);
const armName = (arm: Arm) => `${arm.worker} ${arm.path} ${arm.size / 1024} KB`;

/** The `[vars]` of wrangler.toml (flat `KEY = "value"` lines) and the dev secrets of .dev.vars.example. */
function gatewayBindings(): Record<string, string> {
  const toml = readFileSync(join(ROOT, "wrangler.toml"), "utf8");
  const section = toml.split(/^\[vars\]\s*$/m)[1]?.split(/^\[/m)[0] ?? "";
  const vars: Record<string, string> = {};
  for (const match of section.matchAll(/^(\w+)\s*=\s*"(.*)"\s*$/gm)) vars[match[1] as string] = match[2] as string;
  return { ...vars, ...devVarsExample() };
}

interface Bundle {
  code: string;
  map: SourceMap;
}

/** The harness around a target, bundled by esbuild as wrangler bundles a worker (ESM, workerd conditions). */
async function bundle(name: WorkerName, outFile: string): Promise<Bundle> {
  const entry =
    name === "floor"
      ? join(BENCH, "lib", "floor-worker.ts")
      : name === "bare"
        ? join(BENCH, "bare", "src", "index.ts")
        : join(ROOT, "src", "index.ts");
  const quietLog = join(BENCH, "lib", "quiet-log.ts");
  const srcLog = join(ROOT, "src", "log.ts");
  const plugin: Plugin = {
    name: "bench-cpu",
    setup(b) {
      b.onResolve({ filter: /^bench:target$/ }, () => ({ path: entry }));
      // wrangler.toml's [[rules]]: the dashboard's bundled client is imported as text.
      b.onLoad({ filter: /\.bundle\.(js|css)$/ }, (args) => ({
        contents: readFileSync(args.path, "utf8"),
        loader: "text",
      }));
      if (name === "gateway-nolog") {
        b.onResolve({ filter: /(^|\/)log$/ }, (args) => {
          if (args.importer === quietLog) return undefined;
          return resolve(args.resolveDir, `${args.path}.ts`) === srcLog ? { path: quietLog } : undefined;
        });
      }
    },
  };
  const result = await build({
    entryPoints: [join(BENCH, "lib", "cpu-harness.ts")],
    bundle: true,
    format: "esm",
    platform: "browser",
    conditions: ["workerd", "worker", "browser"],
    target: "es2024",
    external: ["cloudflare:*", "node:*"],
    sourcemap: "external",
    sourcesContent: false,
    outfile: outFile,
    write: false,
    logLevel: "warning",
    plugins: [plugin],
  });
  const code = result.outputFiles.find((f) => f.path.endsWith(".mjs"))?.text;
  const map = result.outputFiles.find((f) => f.path.endsWith(".map"))?.text;
  if (!code || !map) throw new Error(`esbuild produced no bundle for ${name}`);
  const payload = JSON.parse(map);
  // Sources relative to the repository, whatever directory the bundle was written for.
  payload.sources = payload.sources.map((s: string) => relative(ROOT, resolve(dirname(outFile), s)));
  return { code, map: new SourceMap(payload) };
}

async function startWorkers(
  bundles: Map<WorkerName, Bundle>,
  options: { inspectorPort?: number; logLines: { count: number } },
): Promise<{ mf: Miniflare; urls: Map<WorkerName, string> }> {
  const bindings = gatewayBindings();
  const names = [...bundles.keys()];
  const mf = new Miniflare(
    convertV4MiniflareOptions({
      host: "127.0.0.1",
      port: 0,
      cf: false,
      ...(options.inspectorPort ? { inspectorPort: options.inspectorPort, inspectorHost: "127.0.0.1" } : {}),
      handleStructuredLogs: () => {
        options.logLines.count++;
      },
      workers: names.map((name) => ({
        name,
        // A virtual path (never written): workerd wants module paths under the working directory.
        modules: [{ type: "ESModule", path: join(ROOT, `${name}.bench.mjs`), contents: bundles.get(name)?.code }],
        compatibilityDate: "2026-11-01",
        bindings: name.startsWith("gateway")
          ? { ...bindings, DEDUPE_MODE: name === "gateway-edge" ? "edge" : "kv" }
          : {},
        unsafeDirectSockets: [{ host: "127.0.0.1", port: 0 }],
        ...(options.inspectorPort ? { unsafeInspectorProxy: true } : {}),
      })),
    }),
  );
  await mf.ready;
  const urls = new Map<WorkerName, string>();
  for (const name of names) urls.set(name, (await mf.unsafeGetDirectURL(name)).origin);
  return { mf, urls };
}

/** The workerd process Miniflare started: a child of this process. */
function workerdPid(): number {
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      if (ppid !== process.pid) continue;
      if (readFileSync(`/proc/${entry}/cmdline`, "utf8").includes("workerd")) return Number(entry);
    } catch {}
  }
  throw new Error("no workerd child process found");
}

/** utime + stime of a process (or one of its threads), in ms. */
function cpuMs(pid: number, task?: number): number {
  const stat = readFileSync(task === undefined ? `/proc/${pid}/stat` : `/proc/${pid}/task/${task}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS;
}

// ---------------------------------------------------------------- deliveries

const SECRET = devVarsExample().NOVA_WEBHOOK_SECRET ?? "";
const runTag = randomBytes(4).toString("hex");
let serial = 0;

interface Delivery {
  header: string;
  body: Buffer;
}

/** `count` deliveries for an arm, signed now: distinct for the accepted path, else one repeated. */
async function deliveries(arm: Arm, count: number, url: string): Promise<Delivery[]> {
  const tag = `${runTag}_${serial++}`;
  if (arm.path === "accepted") {
    return Array.from({ length: count }, (_, i) => {
      const body = novaBody(`evt_cpu_${tag}_${String(i).padStart(6, "0")}`, arm.size);
      return { header: sign(body, SECRET), body: Buffer.from(body) };
    });
  }
  const body = novaBody(`evt_cpu_${tag}_one`, arm.size);
  const header = sign(body, arm.path === "refused" ? `${SECRET}_wrong` : SECRET);
  if (arm.path === "duplicate") {
    // Accepted once, so that every measured request is a duplicate.
    const first = await fetch(`${url}/webhooks/nova`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-nova-signature": header },
      body,
    });
    if (first.status !== 202) throw new Error(`${armName(arm)}: the first delivery got ${first.status}`);
    await first.arrayBuffer();
  }
  return Array.from({ length: count }, () => ({ header, body: Buffer.from(body) }));
}

// ---------------------------------------------------------------- load

interface LoadResult {
  requests: number;
  ms: number;
  statuses: Record<string, number>;
  errors: number;
}

/**
 * Sends exactly `deliveries.length` requests (or fewer, if RUN_LIMIT_S passes first) over
 * CONNECTIONS keep-alive connections, as fast as they are answered. A Node client rather than wrk:
 * wrk cannot stop after a count before its duration is over. Its CPU is not workerd's.
 */
async function load(url: string, list: Delivery[]): Promise<LoadResult> {
  const { hostname, port } = new URL(url);
  const agent = new Agent({ keepAlive: true, maxSockets: CONNECTIONS });
  const deadline = Date.now() + RUN_LIMIT_S * 1000;
  const statuses: Record<string, number> = {};
  let next = 0;
  let errors = 0;
  const post = (d: Delivery) =>
    new Promise<number>((resolve_, reject) => {
      const req = request(
        {
          agent,
          host: hostname,
          port,
          method: "POST",
          path: "/webhooks/nova",
          headers: {
            "content-type": "application/json",
            "content-length": d.body.byteLength,
            "x-nova-signature": d.header,
          },
        },
        (res) => {
          res.resume();
          res.on("end", () => resolve_(res.statusCode ?? 0));
          res.on("error", reject);
        },
      );
      req.on("error", reject);
      req.end(d.body);
    });
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CONNECTIONS }, async () => {
      while (next < list.length && Date.now() < deadline) {
        const d = list[next++] as Delivery;
        try {
          const status = await post(d);
          statuses[status] = (statuses[status] ?? 0) + 1;
        } catch {
          errors++;
        }
      }
    }),
  );
  const ms = performance.now() - started;
  agent.destroy();
  return { requests: next, ms, statuses, errors };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Sample {
  cpuUs: number;
  mainThreadUs: number;
  requests: number;
  rps: number;
  logLines: number;
}

async function runArm(
  arm: Arm,
  url: string,
  pid: number,
  requests: number,
  logLines: { count: number },
): Promise<Sample> {
  const list = await deliveries(arm, requests, url);
  await sleep(200);
  const logsBefore = logLines.count;
  const before = cpuMs(pid);
  const mainBefore = cpuMs(pid, pid);
  const result = await load(url, list);
  // In-flight requests and waitUntil work (the dedupe mark) finish; then read the clock.
  await sleep(300);
  const after = cpuMs(pid);
  const mainAfter = cpuMs(pid, pid);
  const wrong = Object.entries(result.statuses).filter(([status]) => Number(status) !== arm.status);
  if (wrong.length > 0 || result.errors > 0 || result.requests < requests) {
    throw new Error(
      `${armName(arm)}: expected ${requests} × ${arm.status}, got ${JSON.stringify(result.statuses)} and ${result.errors} errors`,
    );
  }
  return {
    cpuUs: ((after - before) * 1000) / result.requests,
    mainThreadUs: ((mainAfter - mainBefore) * 1000) / result.requests,
    requests: result.requests,
    rps: result.requests / (result.ms / 1000),
    logLines: (logLines.count - logsBefore) / result.requests,
  };
}

// ---------------------------------------------------------------- profiles

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

class Inspector {
  #ws: WebSocket;
  #next = 1;
  #pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private constructor(ws: WebSocket) {
    this.#ws = ws;
    ws.addEventListener("message", (event) => {
      const message = JSON.parse(String(event.data));
      const pending = message.id !== undefined ? this.#pending.get(message.id) : undefined;
      if (!pending) return;
      this.#pending.delete(message.id);
      if (message.error) pending.reject(new Error(JSON.stringify(message.error)));
      else pending.resolve(message.result);
    });
  }
  static open(url: string): Promise<Inspector> {
    return new Promise((resolve_, reject) => {
      // Miniflare's inspector proxy wants an Origin it allows (Node's WebSocket sends none by default);
      // undici's WebSocket takes headers as an extension of the browser API.
      const init = { headers: { origin: "http://localhost" } } as unknown as string[];
      const ws = new WebSocket(url, init);
      ws.addEventListener("open", () => resolve_(new Inspector(ws)));
      ws.addEventListener("error", () => reject(new Error(`cannot open ${url}`)));
    });
  }
  send<T>(method: string, params: Record<string, unknown> = {}): Promise<T> {
    const id = this.#next++;
    this.#ws.send(JSON.stringify({ id, method, params }));
    return new Promise((resolve_, reject) => {
      const timer = setTimeout(() => reject(new Error(`inspector: no answer to ${method}`)), 30_000);
      this.#pending.set(id, {
        resolve: (value) => {
          clearTimeout(timer);
          resolve_(value as T);
        },
        reject,
      });
    });
  }
  close(): void {
    this.#ws.close();
  }
}

/** Where a profile frame's code comes from: a file of src/, a package, the harness, or the runtime. */
function originOf(frame: ProfileNode["callFrame"], map: SourceMap | undefined): { file: string; where: string } {
  if (!frame.url) {
    // Runtime code: a Web API implemented natively (Response, crypto.subtle.verify, console.log …),
    // V8's own "(program)" and "(garbage collector)", or native work with no JS frame at all.
    const name = frame.functionName;
    const file = !name ? "(runtime, no JS frame)" : name.startsWith("(") ? name : `runtime: ${name}`;
    return { file, where: file };
  }
  const entry = map?.findEntry(frame.lineNumber, frame.columnNumber) as
    | { originalSource?: string; originalLine?: number }
    | undefined;
  const source = entry?.originalSource ?? frame.url;
  const pkg = source.match(/node_modules\/((?:@[^/]+\/)?[^/]+)/)?.[1];
  const file = pkg ?? source;
  return { file, where: `${frame.functionName || "(anonymous)"} ${source}:${(entry?.originalLine ?? 0) + 1}` };
}

interface ProfileSummary {
  /** Samples with code running (not idle). */
  samples: number;
  /** Share of those samples, by where the leaf frame's code comes from. */
  self: Map<string, number>;
  /** Share of those samples with this function (ours) or package somewhere on the stack. */
  inclusive: Map<string, number>;
}

/**
 * Shares of samples, not sums of their time deltas: on a busy 2-CPU machine the sampler thread falls
 * behind (deltas of 0.3 ms to 300 ms instead of 50 µs), and one long delta would pin a descheduled
 * stretch on whatever frame happened to be on top. Shares times the measured CPU give microseconds.
 */
function summarize(profile: Profile, map: SourceMap | undefined): ProfileSummary {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const origin = new Map(profile.nodes.map((node) => [node.id, originOf(node.callFrame, map)]));
  const self = new Map<string, number>();
  const inclusive = new Map<string, number>();
  let samples = 0;
  for (const id of profile.samples) {
    const node = byId.get(id);
    if (!node || node.callFrame.functionName === "(idle)") continue;
    samples++;
    const leaf = origin.get(id)?.file ?? "?";
    self.set(leaf, (self.get(leaf) ?? 0) + 1);
    const seen = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const o = origin.get(at);
      if (!o) continue;
      const key = o.file.startsWith("src/") ? o.where : o.file;
      if (!seen.has(key)) {
        seen.add(key);
        inclusive.set(key, (inclusive.get(key) ?? 0) + 1);
      }
    }
  }
  const share = (m: Map<string, number>) => new Map([...m].map(([k, v]) => [k, v / Math.max(1, samples)]));
  return { samples, self: share(self), inclusive: share(inclusive) };
}

// ---------------------------------------------------------------- report

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
};
const us = (v: number) => `${v.toFixed(0)} µs`;

function machine(): string {
  const model = readFileSync("/proc/cpuinfo", "utf8").match(/model name\s*:\s*(.*)/)?.[1] ?? cpus()[0]?.model;
  return `${cpus().length} CPUs (${model}), ${(totalmem() / 2 ** 30).toFixed(1)} GiB RAM, Linux ${readFileSync("/proc/sys/kernel/osrelease", "utf8").trim()}`;
}

const loadavg = () => readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ");

// ---------------------------------------------------------------- main

let mfRunning: Miniflare | undefined;
let tmp: string | undefined;

async function cleanup(): Promise<void> {
  const mf = mfRunning;
  mfRunning = undefined;
  await mf?.dispose().catch(() => {});
  if (tmp) rmSync(tmp, { recursive: true, force: true });
}
for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
  process.on(signal, async () => {
    console.error(`\n${signal}: stopping`);
    await cleanup();
    process.exit(130);
  });
}
setTimeout(async () => {
  console.error(`watchdog: still running after ${WATCHDOG_MS / 60_000} min, stopping`);
  await cleanup();
  process.exit(1);
}, WATCHDOG_MS).unref();

async function measureAll(bundles: Map<WorkerName, Bundle>): Promise<Map<string, Sample[]>> {
  const logLines = { count: 0 };
  const { mf, urls } = await startWorkers(bundles, { logLines });
  mfRunning = mf;
  const pid = workerdPid();
  const url = (arm: Arm) => urls.get(arm.worker) as string;
  const count = (arm: Arm) => (arm.size > 4096 ? REQUESTS / 2 : REQUESTS);

  // Idle: what workerd uses with nothing to do (timers, GC), to know what the runs carry.
  const idleBefore = cpuMs(pid);
  await sleep(2000);
  const idleMsPerS = (cpuMs(pid) - idleBefore) / 2;
  console.log(`workerd pid ${pid}; idle CPU ${idleMsPerS.toFixed(1)} ms/s`);

  console.log("warm-up: every arm once");
  for (const arm of ARMS) await runArm(arm, url(arm), pid, count(arm) / 2, logLines);

  const samples = new Map<string, Sample[]>(ARMS.map((arm) => [armName(arm), []]));
  for (let round = 1; round <= ROUNDS; round++) {
    // Rotated per round, so that drift hits every arm alike.
    const order = ARMS.map((_, i) => ARMS[(i + round * 3) % ARMS.length] as Arm);
    const line: string[] = [];
    for (const arm of order) {
      const sample = await runArm(arm, url(arm), pid, count(arm), logLines);
      samples.get(armName(arm))?.push(sample);
      line.push(`${arm.worker}/${arm.path[0]}/${arm.size / 1024}K ${sample.cpuUs.toFixed(0)}`);
    }
    console.log(`round ${round} (load ${loadavg()}): ${line.join("  ")}`);
  }
  const stats = (await (await fetch(`${urls.get("gateway")}/__bench/stats`)).json()) as Record<string, number>;
  console.log(`gateway (kv) bindings after the runs: ${JSON.stringify(stats)}`);
  await mf.dispose();
  mfRunning = undefined;
  return samples;
}

async function profileAll(bundles: Map<WorkerName, Bundle>) {
  console.log("\nprofiling (workerd inspector, 50 µs sampling) …");
  const inspectorPort = 9229 + Math.floor(Math.random() * 500);
  const { mf, urls } = await startWorkers(bundles, { inspectorPort, logLines: { count: 0 } });
  mfRunning = mf;
  const pid = workerdPid();
  const results: { arm: Arm; summary: ProfileSummary; cpuUs: number; mainThreadUs: number }[] = [];
  const profiled: Arm[] = [
    { worker: "floor", path: "accepted", size: 1024, status: 202 },
    { worker: "bare", path: "accepted", size: 1024, status: 202 },
    { worker: "gateway", path: "accepted", size: 1024, status: 202 },
    { worker: "gateway", path: "duplicate", size: 1024, status: 200 },
    { worker: "gateway", path: "refused", size: 1024, status: 401 },
  ];
  for (const arm of profiled) {
    const url = urls.get(arm.worker) as string;
    await runArm(arm, url, pid, REQUESTS / 2, { count: 0 }); // warm-up
    const inspector = await Inspector.open(`ws://127.0.0.1:${inspectorPort}/${arm.worker}`);
    await inspector.send("Profiler.enable");
    await inspector.send("Profiler.setSamplingInterval", { interval: 50 });
    await inspector.send("Profiler.start");
    const sample = await runArm(arm, url, pid, REQUESTS, { count: 0 });
    const { profile } = await inspector.send<{ profile: Profile }>("Profiler.stop");
    inspector.close();
    // BENCH_PROFILE_OUT=<dir>: keep each profile, for Chrome DevTools' Performance panel.
    if (PROFILE_OUT) {
      mkdirSync(PROFILE_OUT, { recursive: true });
      writeFileSync(join(PROFILE_OUT, `${armName(arm).replaceAll(" ", "-")}.cpuprofile`), JSON.stringify(profile));
    }
    results.push({
      arm,
      summary: summarize(profile, bundles.get(arm.worker)?.map),
      cpuUs: sample.cpuUs,
      mainThreadUs: sample.mainThreadUs,
    });
  }
  await mf.dispose();
  mfRunning = undefined;
  return results;
}

async function main(): Promise<void> {
  tmp = mkdtempSync(join(tmpdir(), "bench-cpu-"));
  const git = (...args: string[]) => spawnSync("git", args, { cwd: ROOT, encoding: "utf8" }).stdout?.trim() ?? "";
  const dirty = git("status", "--porcelain", "--", "src") ? " + uncommitted changes in src/" : "";
  console.log(`bench:cpu — ${new Date().toISOString()}`);
  console.log(`machine: ${machine()}; Node ${process.version}; load average ${loadavg()}`);
  console.log(`gateway: commit ${git("rev-parse", "--short", "HEAD")}${dirty}`);
  console.log(
    `${ROUNDS} rounds; per arm and round ${REQUESTS} requests (${REQUESTS / 2} at 16 KB), ${CONNECTIONS} keep-alive connections, straight to each worker's socket`,
  );

  await buildDashboard();
  const bundles = new Map<WorkerName, Bundle>();
  for (const name of Object.keys(WORKERS) as WorkerName[])
    bundles.set(name, await bundle(name, join(tmp, `${name}.mjs`)));

  if (MEASURE) report(await measureAll(bundles));
  if (PROFILE) reportProfiles(await profileAll(bundles));
  console.log(`\nload average at the end: ${loadavg()}`);
}

function report(samples: Map<string, Sample[]>): void {
  const cpu = (arm: Arm) => median(samples.get(armName(arm))?.map((s) => s.cpuUs) ?? []);
  const field = (arm: Arm, pick: (s: Sample) => number) => median(samples.get(armName(arm))?.map(pick) ?? []);

  console.log("\nworkers:");
  for (const [name, w] of Object.entries(WORKERS)) console.log(`  ${name.padEnd(14)} ${w.what}`);
  for (const size of SIZES) {
    const at = (worker: WorkerName, path: Path) =>
      ARMS.find((a) => a.worker === worker && a.path === path && a.size === size) as Arm;
    const bare = cpu(at("bare", "accepted"));
    const floor = cpu(at("floor", "accepted"));
    console.log(`\n${size / 1024} KB Nova bodies: workerd CPU per request (median of ${ROUNDS} rounds)`);
    const widths = [28, 8, 9, 7, 8, 7, 10];
    const row = (cells: string[], verdict = "") =>
      console.log(
        `  ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[0] as number) : c.padStart(widths[i] as number))).join(" ")}  ${verdict}`,
      );
    row(["arm", "CPU", "main thr", "req/s", "logs/req", "× bare", "net × bare"], "target");
    for (const arm of ARMS.filter((a) => a.size === size)) {
      const value = cpu(arm);
      const target = arm.worker.startsWith("gateway") ? TARGETS[arm.path] : undefined;
      const ratio = value / bare;
      const net = (value - floor) / (bare - floor);
      const verdict =
        target === undefined
          ? ""
          : `≤ ${target}x: ${ratio <= target ? "met" : "MISSED"} (net: ${net <= target ? "met" : "MISSED"})`;
      row(
        [
          `${arm.worker} ${arm.path}`,
          us(value),
          us(field(arm, (s) => s.mainThreadUs)),
          field(arm, (s) => s.rps).toFixed(0),
          field(arm, (s) => s.logLines).toFixed(2),
          `${ratio.toFixed(2)}x`,
          arm.worker === "floor" ? "" : `${net.toFixed(2)}x`,
        ],
        verdict,
      );
    }
    const refused = cpu(at("gateway", "refused"));
    const quiet = cpu(at("gateway-nolog", "refused"));
    // Refusals are counted, not logged (src/ingest/refusals.ts): when the refused arm printed no line,
    // the no-log build runs the same code on it, and the two differ by this run's noise only.
    const refusedLogs = field(at("gateway", "refused"), (s) => s.logLines);
    console.log(
      refusedLogs === 0
        ? `  refused: no log line per request (refusals are counted); the no-log build runs the same code there, so ${us(Math.abs(refused - quiet))} between the two is noise; refused ${(refused / bare).toFixed(2)}x and ${(quiet / bare).toFixed(2)}x bare`
        : `  the per-delivery log line on a refusal: ${us(refused - quiet)} of ${us(refused)} (${(((refused - quiet) / refused) * 100).toFixed(0)} %); refused without it ${(quiet / bare).toFixed(2)}x bare`,
    );
  }
  console.log(
    "\nCPU: utime+stime of the workerd process per answered request; main thr: its main thread alone (the isolate's).\n" +
      "net × bare: (arm − floor) / (bare − floor), the floor being the runtime's HTTP work, which production does not bill.",
  );
}

function reportProfiles(results: Awaited<ReturnType<typeof profileAll>>): void {
  const line = (v: number, k: string) => `    ${v.toFixed(1).padStart(6)} µs  ${k}`;
  const top = (m: Map<string, number>, scale: number, n: number, keep: (k: string) => boolean = () => true) =>
    [...m]
      .filter(([k]) => keep(k))
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([k, v]) => line(v * scale, k))
      .join("\n");
  console.log(
    "\nshares of the profile's samples × the isolate thread's CPU per request (with the profiler on, which costs some):",
  );
  for (const { arm, summary, cpuUs, mainThreadUs } of results) {
    console.log(
      `\n${armName(arm)}: ${us(mainThreadUs)} main thread (${us(cpuUs)} process) per request, ${summary.samples} samples`,
    );
    console.log(`  self, by origin:\n${top(summary.self, mainThreadUs, 14)}`);
    if (arm.worker.startsWith("gateway"))
      console.log(
        `  inclusive, our functions:\n${top(summary.inclusive, mainThreadUs, 18, (k) => k.includes(" src/"))}`,
      );
  }
  // Where the gateway's extra CPU over the bare worker goes, by origin.
  const bare = results.find((r) => r.arm.worker === "bare");
  if (!bare) return;
  const scaled = (r: (typeof results)[number]) => new Map([...r.summary.self].map(([k, v]) => [k, v * r.mainThreadUs]));
  const base = scaled(bare);
  for (const r of results.filter((x) => x.arm.worker.startsWith("gateway"))) {
    const mine = scaled(r);
    const keys = new Set([...mine.keys(), ...base.keys()]);
    const diff = new Map([...keys].map((k) => [k, (mine.get(k) ?? 0) - (base.get(k) ?? 0)]));
    console.log(
      `\n${armName(r.arm)} minus bare: ${us(r.mainThreadUs - bare.mainThreadUs)} per request; the largest differences:\n${[
        ...diff,
      ]
        .sort((a, b) => Math.abs(b[1]) - Math.abs(a[1]))
        .slice(0, 12)
        .map(([k, v]) => line(v, k))
        .join("\n")}`,
    );
  }
}

try {
  await main();
} catch (error) {
  console.error(`\nbench:cpu failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  await cleanup();
  process.exit(1);
}
await cleanup();
process.exit(0);
