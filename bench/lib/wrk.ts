// wrk, driven by bench/wrk/deliveries.lua, which prints one BENCH_RESULT line of JSON (bench:ingest).
import { type ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";
import { PROJECT_ROOT } from "../../scripts/lib/dev-vars.ts";

const LUA = join(PROJECT_ROOT, "bench", "wrk", "deliveries.lua");

let running: ChildProcess | undefined;

/** Stops the wrk that is running, if one is. */
export function stopWrk(): void {
  if (running?.pid && running.exitCode === null) running.kill("SIGTERM");
}

export interface WrkResult {
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

/**
 * wrk for `seconds` against `base` + `path`, sending the deliveries of the file `deliveries`
 * (bench/wrk/deliveries.lua: one "<x-nova-signature>\t<body>" line each, in turn).
 */
export function runWrk(options: {
  base: string;
  path: string;
  deliveries: string;
  seconds: number;
  threads: number;
  connections: number;
}): Promise<WrkResult> {
  const { base, path, deliveries, seconds, threads, connections } = options;
  return new Promise((resolve_, reject) => {
    const args = ["-t", String(threads), "-c", String(connections), "-d", `${seconds}s`, "--timeout", "5s"];
    args.push("-s", LUA, `${base}${path}`);
    const child = spawn("wrk", args, {
      env: {
        ...process.env,
        BENCH_DELIVERIES: deliveries,
        BENCH_PATH: path,
        BENCH_HEADER: "x-nova-signature",
        BENCH_THREADS: String(threads),
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    running = child;
    let out = "";
    child.stdout?.on("data", (chunk) => {
      out += chunk;
    });
    child.stderr?.on("data", (chunk) => {
      out += chunk;
    });
    child.on("error", reject);
    child.on("close", (code) => {
      running = undefined;
      const line = out.split("\n").find((l) => l.startsWith("BENCH_RESULT "));
      if (code !== 0 || !line) return reject(new Error(`wrk exited with ${code}:\n${out}`));
      resolve_(JSON.parse(line.slice("BENCH_RESULT ".length)) as WrkResult);
    });
  });
}
