// Runs the `wrangler` found on PATH (npm scripts put the project's own first; the deploy
// test puts a stub there) and reads the few outputs the deploy needs.
import { spawnSync } from "node:child_process";
import { stripVTControlCharacters as stripAnsi } from "node:util";

export interface WranglerResult {
  status: number;
  stdout: string;
  stderr: string;
}

export class StepFailed extends Error {}

export interface Wrangler {
  /** Runs a command whose output is read, not shown. */
  read(args: string[]): WranglerResult;
  /** Runs a command with its output shown; throws StepFailed when it fails. */
  run(args: string[]): void;
}

export const commandLine = (args: string[]) => `wrangler ${args.join(" ")}`;

export function wranglerOnPath(log: (line: string) => void): Wrangler {
  // stdin is never a terminal: wrangler then asks nothing and never writes provisioned ids
  // back into wrangler.toml, which must stay free of account-specific ids.
  const env = { ...process.env, WRANGLER_SEND_METRICS: "false" };
  return {
    read(args) {
      log(`  $ ${commandLine(args)}`);
      const result = spawnSync("wrangler", args, { env, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
      if (result.error) throw new StepFailed(`could not run wrangler: ${result.error.message}`);
      return { status: result.status ?? 1, stdout: result.stdout, stderr: result.stderr };
    },
    run(args) {
      log(`  $ ${commandLine(args)}`);
      const result = spawnSync("wrangler", args, { env, stdio: ["ignore", "inherit", "inherit"] });
      if (result.error) throw new StepFailed(`could not run wrangler: ${result.error.message}`);
      if (result.status !== 0) throw new StepFailed(`\`${commandLine(args)}\` failed (exit ${result.status})`);
    },
  };
}

/** Throws StepFailed with wrangler's own last error line when a read failed. */
export function expectSuccess(args: string[], result: WranglerResult): string {
  if (result.status === 0) return result.stdout;
  const reason = lastErrorLine(result);
  throw new StepFailed(`\`${commandLine(args)}\` failed (exit ${result.status})${reason ? `: ${reason}` : ""}`);
}

function lastErrorLine(result: WranglerResult): string {
  const lines = stripAnsi(`${result.stderr}\n${result.stdout}`)
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line !== "" && !line.startsWith("🪵"));
  return lines.find((line) => line.includes("[ERROR]"))?.replace(/^✘\s*\[ERROR\]\s*/, "") ?? lines.at(-1) ?? "";
}

/** JSON printed by a `--json` / `--format json` command (wrangler prints no banner then). */
export function parseJson<T>(args: string[], stdout: string): T {
  const start = stdout.search(/[[{]/);
  try {
    return JSON.parse(stdout.slice(Math.max(start, 0))) as T;
  } catch {
    throw new StepFailed(`\`${commandLine(args)}\` printed no JSON: ${stdout.slice(0, 200)}`);
  }
}

/**
 * The `name` column of the table `wrangler queues list` prints (it has no JSON output):
 * a header row, then one row per queue, cells separated by `│`.
 */
export function queueNamesFromTable(stdout: string): string[] {
  const rows = stripAnsi(stdout)
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line.startsWith("│"))
    .map((line) =>
      line
        .slice(1, line.endsWith("│") ? -1 : undefined)
        .split("│")
        .map((cell) => cell.trim()),
    );
  const [header, ...data] = rows;
  const column = header?.indexOf("name") ?? -1;
  if (header && column < 0) throw new StepFailed(`unexpected \`wrangler queues list\` output: ${header.join(" | ")}`);
  return data.map((row) => row[column] ?? "").filter((name) => name !== "");
}

/** `wrangler secret list` on a worker that was never deployed. */
export function isWorkerNotFound(result: WranglerResult): boolean {
  return (
    result.status !== 0 && /Worker "[^"]+"(?: \(env: [^)]*\))? not found/.test(stripAnsi(result.stderr + result.stdout))
  );
}
