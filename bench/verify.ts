// `npm run bench:verify`: what one signature verification costs, for the gateway's
// verifiers against node:crypto (the floor: createHmac + timingSafeEqual, synchronous) and
// the `standardwebhooks` package, at 1 KB, 16 KB and 100 KB bodies, in two runtimes:
//   - Node (this process), as the issue asks;
//   - workerd through Miniflare, the runtime the gateway actually runs in (the same cases,
//     bundled into a worker with nodejs_compat so node:crypto is available there too).
//
// Method: each case is calibrated to a batch of ~BATCH_MS, warmed up, then every round runs
// one batch of every case, in an order rotated per round (interleaved, so drift and GC hit
// all cases alike); tables show the median over ROUNDS rounds. Prints numbers only: the
// targets are printed next to them, nothing fails on timing.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { build } from "esbuild";
import { convertV4MiniflareOptions, Miniflare } from "miniflare";
import type * as CasesModule from "./lib/verify-cases.ts";

const BENCH = dirname(fileURLToPath(import.meta.url));
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 15);
const BATCH_MS = Number(process.env.BENCH_BATCH_MS ?? 50);
/** Issue 14: within 1.2x of the node:crypto floor in workerd (Node's WebCrypto cannot get there, see bench/README.md). */
const TARGET_RATIO = 1.2;

type Cases = typeof CasesModule;

interface CaseInfo {
  label: string;
  scheme: "nova" | "nuvei";
  floor: boolean;
  gateway: boolean;
}

interface Runtime {
  name: string;
  cases: CaseInfo[];
  sizes: number[];
  /** Milliseconds for `n` back-to-back verifications of case `index` at `size`. */
  batch(size: number, index: number, n: number): Promise<number>;
  close(): Promise<void>;
}

/** bench/lib/verify-cases.ts with the gateway's src/ (extensionless imports) bundled in. */
async function bundle(entry: string, platform: "node" | "neutral"): Promise<string> {
  const result = await build({
    entryPoints: [join(BENCH, "lib", entry)],
    bundle: true,
    format: "esm",
    platform,
    mainFields: ["module", "main"],
    external: ["node:*"],
    write: false,
    logLevel: "warning",
  });
  const text = result.outputFiles[0]?.text;
  if (!text) throw new Error(`esbuild produced nothing for ${entry}`);
  return text;
}

async function nodeRuntime(): Promise<Runtime> {
  const dir = mkdtempSync(join(tmpdir(), "bench-verify-"));
  const file = join(dir, "verify-cases.mjs");
  writeFileSync(file, await bundle("verify-cases.ts", "node"));
  let lib: Cases;
  try {
    lib = (await import(pathToFileURL(file).href)) as Cases;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  await lib.checkCorrectness();
  const cases = new Map(lib.SIZES.map((size) => [size, lib.createCases(size)]));
  const first = cases.get(lib.SIZES[0] as number) ?? [];
  return {
    name: `Node ${process.version}`,
    sizes: lib.SIZES,
    cases: first.map((c) => ({ label: c.label, scheme: c.scheme, floor: !!c.floor, gateway: !!c.gateway })),
    batch: (size, index, n) => {
      const c = cases.get(size)?.[index];
      if (!c) throw new Error(`no case ${index} at ${size}`);
      return lib.runBatch(c, n, () => performance.now());
    },
    close: async () => {},
  };
}

async function workerdRuntime(info: CaseInfo[], sizes: number[]): Promise<Runtime> {
  const mf = new Miniflare(
    convertV4MiniflareOptions({
      host: "127.0.0.1",
      port: 0,
      cf: false, // no request to workers.cloudflare.com for a Request.cf object
      workers: [
        {
          name: "bench-verify",
          modules: true,
          script: await bundle("verify-worker.ts", "neutral"),
          compatibilityDate: "2026-11-01",
          compatibilityFlags: ["nodejs_compat"],
        },
      ],
    }),
  );
  const call = async (path: string): Promise<Record<string, unknown>> => {
    const response = await mf.dispatchFetch(`http://bench.local${path}`);
    const json = (await response.json()) as Record<string, unknown>;
    if (!response.ok) throw new Error(`workerd: ${String(json.error)}`);
    return json;
  };
  await call("/check");
  return {
    name: "workerd (Miniflare, nodejs_compat for the node:crypto floor)",
    sizes,
    cases: info,
    batch: async (size, index, n) => Number((await call(`/batch?size=${size}&case=${index}&n=${n}`)).ms),
    close: () => mf.dispose(),
  };
}

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
};

interface Entry {
  size: number;
  index: number;
  info: CaseInfo;
  n: number;
  samples: number[];
}

/** Returns ns/op samples for every (size, case). */
async function measure(runtime: Runtime): Promise<Entry[]> {
  const entries: Entry[] = runtime.sizes.flatMap((size) =>
    runtime.cases.map((info, index) => ({ size, index, info, n: 0, samples: [] })),
  );
  // Calibration doubles as warm-up (JIT, key cache, lazy crypto init); then one more warm-up pass.
  for (const entry of entries) {
    let n = 4;
    for (;;) {
      const ms = await runtime.batch(entry.size, entry.index, n);
      // workerd's clock may be coarse (1 ms): grow until the batch is long enough to read.
      if (ms >= BATCH_MS * 0.25 || n >= 1 << 22) {
        entry.n = Math.max(4, Math.round((n * BATCH_MS) / Math.max(ms, 0.001)));
        break;
      }
      n *= 4;
    }
  }
  for (const entry of entries) await runtime.batch(entry.size, entry.index, entry.n);
  for (let round = 0; round < ROUNDS; round++) {
    for (let i = 0; i < entries.length; i++) {
      const entry = entries[(i + round * 5) % entries.length] as Entry;
      entry.samples.push(((await runtime.batch(entry.size, entry.index, entry.n)) * 1e6) / entry.n);
    }
  }
  return entries;
}

const SCHEMES = { nova: "Nova / Nuvouch (t=…,v1=hex)", nuvei: "Nuvei (base64 HMAC of sha256hex+T)" };

function report(runtime: Runtime, entries: Entry[]): string[] {
  const verdicts: string[] = [];
  console.log(`\n=== ${runtime.name} ===`);
  const cols = [66, 11, 11, 9, 8];
  const line = (cells: string[]) =>
    console.log(
      cells.map((cell, i) => (i === 0 ? cell.padEnd(cols[0] as number) : cell.padStart(cols[i] as number))).join(" "),
    );
  for (const size of runtime.sizes) {
    console.log(`\nbody ${size / 1024} KB`);
    line(["verifier", "per op", "ops/s", "vs floor", "spread"]);
    for (const scheme of ["nova", "nuvei"] as const) {
      const rows = entries.filter((e) => e.size === size && e.info.scheme === scheme);
      const floor = median(rows.find((e) => e.info.floor)?.samples ?? []);
      console.log(`  ${SCHEMES[scheme]}`);
      for (const row of rows) {
        const ns = median(row.samples);
        const ratio = ns / floor;
        const spread = (Math.max(...row.samples) - Math.min(...row.samples)) / 2 / ns;
        line([
          `    ${row.info.label}`,
          ns >= 100_000 ? `${(ns / 1000).toFixed(0)} µs` : `${(ns / 1000).toFixed(2)} µs`,
          Math.round(1e9 / ns).toLocaleString("en-US"),
          `${ratio.toFixed(2)}x`,
          `±${(spread * 100).toFixed(0)}%`,
        ]);
        if (row.info.gateway) {
          verdicts.push(
            `  ${runtime.name.split(" ")[0]?.padEnd(8)} ${`${size / 1024} KB`.padStart(6)}  ${row.info.label.padEnd(36)} ${`${ratio.toFixed(2)}x`.padStart(7)}  ${ratio <= TARGET_RATIO ? "within target" : "MISSES target"}`,
          );
        }
      }
    }
  }
  return verdicts;
}

async function main(): Promise<void> {
  console.log(`bench:verify — ${cpus().length} CPUs (${cpus()[0]?.model ?? "unknown"})`);
  console.log(
    `${ROUNDS} interleaved rounds of ~${BATCH_MS} ms batches per case; medians shown. One caller, each verification awaited in turn.`,
  );
  const verdicts: string[] = [];
  const node = await nodeRuntime();
  verdicts.push(...report(node, await measure(node)));
  const workerd = await workerdRuntime(node.cases, node.sizes);
  try {
    verdicts.push(...report(workerd, await measure(workerd)));
  } finally {
    await workerd.close();
  }
  console.log(`\ntarget: each gateway verifier within ${TARGET_RATIO}x of the node:crypto floor of its scheme`);
  for (const verdict of verdicts) console.log(verdict);
  console.log(
    "\nvs floor: median per-op time over the node:crypto floor of the same scheme, in the same runtime.\n" +
      "spread: half the min–max range over rounds, relative to the median.",
  );
}

await main();
