// `bench:cpu`'s "no delivery log line" variant: esbuild puts this module in place of src/log.ts for the
// gateway's modules, so a refused delivery costs what it would with no log line per request at all
// (the best an aggregator of refusals can do). Every other log line is written as before.
import { warnOnce, log as writeLog } from "../../src/log";

export { warnOnce };

export function log(level: "info" | "warn" | "error", message: string, fields: Record<string, unknown> = {}): void {
  if (message === "delivery") return;
  writeLog(level, message, fields);
}
