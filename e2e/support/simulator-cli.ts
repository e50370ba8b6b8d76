// Runs the simulator CLI (`npm run simulate`) as a user would, and reads its per-delivery
// output lines back, so an end-to-end test exercises the CLI itself and learns the ids it used.
import { execFile } from "node:child_process";
import { join, resolve } from "node:path";

const ROOT = resolve(import.meta.dirname, "../..");
// The project's Node 22, which strips the CLI's TypeScript types itself.
const NODE = join(ROOT, "node_modules/.bin/node");
const CLI = join(ROOT, "scripts/simulator/cli.ts");

/** One `#<seq> <status> <ms>ms <provider> <event> <key> …  <answer>` line of the CLI's output. */
export interface CliOutcome {
  seq: number;
  /** The HTTP status, or undefined when the delivery got no answer (`ERR`). */
  status: number | undefined;
  provider: string;
  event: string;
  /** Nova `eventId`, Nuvouch `id`, or Nuvei `tx=<transactionId>`. */
  key: string;
  /** The seq of the original this delivery re-sent byte-identical. */
  resendOf: number | undefined;
  answer: { status?: string; id?: string; error?: { code?: string } } | undefined;
}

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
  outcomes: CliOutcome[];
}

const LINE = /^#(\d+)\s+(\d{3}|ERR)\s+\d+ms\s+(\S+) (\S+) (\S+)(?: \(re-send of #(\d+)\))?(?: \[[^\]]*\])?\s+(.*)$/;

export function parseCliOutput(stdout: string): CliOutcome[] {
  const outcomes: CliOutcome[] = [];
  for (const line of stdout.split("\n")) {
    const match = LINE.exec(line);
    if (!match) continue;
    const [, seq, status, provider, event, key, resendOf, answer] = match;
    let parsed: CliOutcome["answer"];
    try {
      parsed = JSON.parse(answer ?? "") as CliOutcome["answer"];
    } catch {
      parsed = undefined;
    }
    outcomes.push({
      seq: Number(seq),
      status: status === "ERR" ? undefined : Number(status),
      provider: provider as string,
      event: event as string,
      key: key as string,
      resendOf: resendOf === undefined ? undefined : Number(resendOf),
      answer: parsed,
    });
  }
  return outcomes.sort((a, b) => a.seq - b.seq);
}

/** `node scripts/simulator/cli.ts <args>`, bounded in time; never throws on a non-zero exit. */
export function runSimulator(args: string[], timeoutMs = 120_000): Promise<CliRun> {
  return new Promise((done, fail) => {
    execFile(
      NODE,
      [CLI, ...args],
      { cwd: ROOT, timeout: timeoutMs, killSignal: "SIGKILL", maxBuffer: 16 * 1024 * 1024, encoding: "utf8" },
      (error, stdout, stderr) => {
        if (error && typeof error.code !== "number") {
          fail(new Error(`simulator did not finish (${error.message}):\n${stdout}\n${stderr}`));
          return;
        }
        done({ code: error ? (error.code as number) : 0, stdout, stderr, outcomes: parseCliOutput(stdout) });
      },
    );
  });
}
