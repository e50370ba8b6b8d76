// Reading a running `wrangler dev` from outside (bench:ingest): what its log says since an offset,
// when it has gone quiet, and the CPU its process tree has used.
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";

const sleep = (ms: number) => new Promise((resolve_) => setTimeout(resolve_, ms));

/**
 * From the log since `offset`: the gateway's own outcome lines (one JSON line per delivery, see
 * src/log.ts) and wrangler's request lines ("POST /path 202 Accepted"), i.e. every status the
 * router answered, including errors that never reached the gateway's handler.
 */
export function logSince(
  log: string,
  offset: number,
): { outcomes: Record<string, number>; statuses: Record<string, number> } {
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
export async function settle(log: string, quietMs = 1000, maxMs = 20_000): Promise<number> {
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

/** workers: the workerd that runs the three workers and Miniflare's KV/D1/Queue simulators. */
export type Role = "workers" | "proxy" | "wrangler";
export const ROLES: Role[] = ["workers", "proxy", "wrangler"];
const CLOCK_TICKS = Number(spawnSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).stdout?.trim()) || 100;

/**
 * CPU time (ms) used so far by each process under `root`, summed by role; wrangler's proxy is the
 * workerd whose entry listens on `port`. Linux /proc only.
 */
export function treeCpu(root: number, port: number): Record<Role, number> | undefined {
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
      : p.cmd.includes(`entry=127.0.0.1:${port}`)
        ? "proxy"
        : "workers";
    totals[role] += p.ms;
  }
  return totals;
}
