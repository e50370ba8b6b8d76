// bench:ingest's arms, its runs and their report: medians over rounds, ratios against the bare
// worker and the naive peer, the targets of bench/README.md.

import { readFileSync } from "node:fs";
import { cpus, freemem, totalmem } from "node:os";
import { ROLES, type Role } from "./wrangler-dev.ts";
import type { WrkResult } from "./wrk.ts";

export type Arm = "full" | "edge" | "naive" | "bare" | "reject" | "duplicate" | "direct";
export const ARMS: Record<Arm, { path: string; what: string }> = {
  full: { path: "/webhooks/nova", what: "gateway (DEDUPE_MODE=kv), valid distinct Nova deliveries → 202" },
  edge: { path: "/edge/webhooks/nova", what: "gateway (DEDUPE_MODE=edge), same deliveries → 202" },
  naive: { path: "/naive/webhooks/nova", what: "naive peer (bench/naive), same deliveries → 202" },
  bare: { path: "/bare/webhooks/nova", what: "bare Hono worker, same deliveries → 202" },
  reject: { path: "/webhooks/nova", what: "gateway, bad signature → 401" },
  duplicate: { path: "/webhooks/nova", what: "gateway, one accepted delivery repeated → 200 duplicate" },
  direct: { path: "/direct/webhooks/nova", what: "router answers itself (plumbing only)" },
};
export const ORDER: Arm[] = ["full", "edge", "naive", "bare", "reject", "duplicate", "direct"];

export interface Run extends WrkResult {
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

export const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
};
export const ms = (us: number) => `${(us / 1000).toFixed(1)} ms`;

export function machine(): string {
  const model = readFileSync("/proc/cpuinfo", "utf8").match(/model name\s*:\s*(.*)/)?.[1] ?? cpus()[0]?.model;
  return `${cpus().length} CPUs (${model}), ${(totalmem() / 2 ** 30).toFixed(1)} GiB RAM (${(freemem() / 2 ** 30).toFixed(1)} free)`;
}

/** How the runs were made, for the report's headline. */
export interface Settings {
  rounds: number;
  durationS: number;
  threads: number;
  connections: number;
  bodyBytes: number;
  consumers: boolean;
}

/** Prints the results of every run; true when wrangler's log should be kept (valid deliveries were refused). */
export function report(runs: Run[], log: string, settings: Settings): boolean {
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
    `\nResults: median of ${settings.rounds} rounds (${settings.durationS} s each, wrk -t${settings.threads} -c${settings.connections}), ~${settings.bodyBytes} B Nova bodies${settings.consumers ? "" : ", queue consumers OFF"}`,
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
  if (validNon2xx > 0) console.log(`  wrangler's log is kept for a look at the non-2xx answers: ${log}`);
  console.log(`\nload average (1 min) at the start of each run: ${runs.map((r) => r.load.split(" ")[0]).join(" ")}`);
  return validNon2xx > 0;
}
