// Starts the real gateway under `wrangler dev` on a free loopback port, with its own
// throwaway local state, the dev-only secrets of .dev.vars.example, and local D1
// migrations applied: what `npm run dev` does, isolated for a test (and for bench:ingest
// and bench:drain, which serve other workers beside it).
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { readDevVars } from "../../scripts/lib/dev-vars.ts";

const ROOT = resolve(import.meta.dirname, "../..");
const WRANGLER = join(ROOT, "node_modules/.bin/wrangler");

export interface DevGateway {
  url: string;
  /** The throwaway local state folder (`--persist-to`), e.g. for `wrangler d1 execute`. */
  persistDir: string;
  /** The dev-only secrets the gateway was started with. */
  secrets: Record<string, string>;
  /** Everything wrangler dev printed so far (the worker's JSON logs included). */
  logs: () => string;
  /** The wrangler process, leader of its own process group (workerd included). */
  pid: number;
  /** Settles when wrangler exits, stopped or not. */
  exited: Promise<void>;
  stop: () => Promise<void>;
}

export interface DevGatewayOptions {
  /** `--var`s, over wrangler.toml's [vars], for every worker served. */
  vars?: Record<string, string>;
  /** The config wrangler dev serves over HTTP; default the gateway's wrangler.toml (derived as below). */
  primary?: string;
  /** More workers, after the primary: reached through its service bindings. */
  configs?: string[];
  /** The main queue's max_retries for this gateway (wrangler.toml's otherwise): 0 dead-letters on the first failure. */
  queueMaxRetries?: number;
  /** false: wrangler.toml without its [[queues.consumers]], the ingest path alone. This and
   * queueMaxRetries derive the default primary; a caller with its own primary derives its configs. */
  consumers?: boolean;
  /** Default: a free loopback port. */
  port?: number;
  inspectorPort?: number;
  /** More environment for wrangler (e.g. its own registry path). */
  env?: Record<string, string>;
  /** Appends wrangler's output to this file instead of keeping it in memory: for long, loud runs. */
  logFile?: string;
}

export function devSecrets(): Record<string, string> {
  return readDevVars(join(ROOT, ".dev.vars.example"));
}

export function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() =>
        typeof address === "object" && address ? resolvePort(address.port) : reject(new Error("no port")),
      );
    });
  });
}

/** A wrangler.toml without its [[queues.consumers]] tables (each up to the next table header). */
export function withoutConsumers(toml: string): string {
  let skipping = false;
  return toml
    .split("\n")
    .filter((line) => {
      if (/^\s*\[/.test(line)) skipping = /^\s*\[\[queues\.consumers\]\]/.test(line);
      return !skipping;
    })
    .join("\n");
}

/**
 * wrangler.toml with the main queue's `max_retries` replaced (so a test can dead-letter an
 * event in one attempt instead of 2.4 h of backoff) or without consumers, its paths made
 * absolute so that it works from `dir`; written there, and its path returned.
 */
function derivedConfig(dir: string, options: { queueMaxRetries?: number; consumers?: boolean }): string {
  let toml = readFileSync(join(ROOT, "wrangler.toml"), "utf8");
  if (options.queueMaxRetries !== undefined) {
    // The first consumer block is the main queue's (the DLQ's follows it).
    const retries = toml.replace(/^max_retries = \d+$/m, `max_retries = ${options.queueMaxRetries}`);
    if (retries === toml) throw new Error("wrangler.toml: no max_retries to replace");
    toml = retries;
  }
  if (options.consumers === false) toml = withoutConsumers(toml);
  const absolute = toml
    .replace(/^main = "(.+)"$/gm, (_, path: string) => `main = ${JSON.stringify(join(ROOT, path))}`)
    .replace(/^migrations_dir = "(.+)"$/gm, (_, path: string) => `migrations_dir = ${JSON.stringify(join(ROOT, path))}`)
    .replace(/^watch_dir = "(.+)"$/gm, (_, path: string) => `watch_dir = ${JSON.stringify(join(ROOT, path))}`)
    .replace(
      /^command = "node (.+)"$/gm,
      (_, path: string) => `command = ${JSON.stringify(`node ${join(ROOT, path)}`)}`,
    );
  const file = join(dir, "wrangler.toml");
  writeFileSync(file, absolute);
  return file;
}

export async function startDevGateway(options: DevGatewayOptions = {}): Promise<DevGateway> {
  const port = options.port ?? (await freePort());
  const persist = mkdtempSync(join(tmpdir(), "gateway-e2e-"));
  // Beside the state, not in the state folder wrangler owns.
  const config =
    options.primary === undefined && (options.queueMaxRetries !== undefined || options.consumers === false)
      ? derivedConfig(mkdtempSync(join(tmpdir(), "gateway-e2e-config-")), options)
      : undefined;
  const primary = options.primary ?? config;
  // node_modules/.bin first: its node is the Node 22 wrangler needs, whoever started us.
  const env = {
    ...process.env,
    PATH: `${join(ROOT, "node_modules/.bin")}:${process.env.PATH ?? ""}`,
    WRANGLER_SEND_METRICS: "false",
    CI: "true",
    NO_COLOR: "1",
    ...options.env,
  };
  const migrate = spawnSync(WRANGLER, ["d1", "migrations", "apply", "DB", "--local", "--persist-to", persist], {
    cwd: ROOT,
    env,
    encoding: "utf8",
  });
  if (migrate.status !== 0) throw new Error(`migrations failed:\n${migrate.stdout}\n${migrate.stderr}`);

  const vars = Object.entries(options.vars ?? {}).flatMap(([key, value]) => ["--var", `${key}:${value}`]);
  const configs = (options.configs ?? []).flatMap((config) => ["-c", config]);
  const logFd = options.logFile === undefined ? undefined : openSync(options.logFile, "a");
  const child: ChildProcess = spawn(
    WRANGLER,
    [
      "dev",
      ...(configs.length || primary ? ["-c", primary ?? "wrangler.toml", ...configs] : []),
      "--ip",
      "127.0.0.1",
      "--port",
      String(port),
      ...(options.inspectorPort === undefined ? [] : ["--inspector-port", String(options.inspectorPort)]),
      "--persist-to",
      persist,
      "--env-file",
      // Absolute: wrangler reads it beside the config, which may be a derived one elsewhere.
      join(ROOT, ".dev.vars.example"),
      "--show-interactive-dev-session=false",
      ...vars,
    ],
    { cwd: ROOT, env, detached: true, stdio: ["ignore", logFd ?? "pipe", logFd ?? "pipe"] },
  );
  if (logFd !== undefined) closeSync(logFd);
  let output = "";
  child.stdout?.on("data", (chunk) => (output += chunk));
  child.stderr?.on("data", (chunk) => (output += chunk));
  const logs = () => (options.logFile ? readFileSync(options.logFile, "utf8") : output);
  const exited = new Promise<void>((done) => child.once("exit", () => done()));

  const stop = async () => {
    if (child.exitCode === null && child.pid) {
      try {
        process.kill(-child.pid, "SIGTERM");
      } catch {
        // already gone
      }
      const timer = setTimeout(() => child.pid && process.kill(-child.pid, "SIGKILL"), 5000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(persist, { recursive: true, force: true });
    if (config) rmSync(dirname(config), { recursive: true, force: true });
  };

  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 90_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`wrangler dev exited early:\n${logs()}`);
    try {
      if ((await fetch(`${url}/healthz`)).ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`wrangler dev did not answer /healthz within 90 s:\n${logs()}`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  if (!child.pid) throw new Error("wrangler dev has no pid");
  return { url, persistDir: persist, secrets: devSecrets(), logs, pid: child.pid, exited, stop };
}

/** Polls until `check` returns a value (not undefined) or the time runs out. */
export async function eventually<T>(
  check: () => Promise<T | undefined>,
  timeoutMs = 30_000,
  label = "condition",
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${label}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}
