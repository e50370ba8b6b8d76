/**
 * One JSON object per line, the shape Workers Logs indexes. Callers pass identifiers and
 * outcomes only: never a secret, a signature header or a body.
 */
export function log(level: "info" | "warn" | "error", message: string, fields: Record<string, unknown> = {}): void {
  const line = JSON.stringify({ level, message, ...fields });
  if (level === "error") console.error(line);
  else if (level === "warn") console.warn(line);
  else console.log(line);
}

const warnedOnce = new Set<string>();

/** For conditions that hold for every request until someone changes config. */
export function warnOnce(key: string, message: string, fields: Record<string, unknown> = {}): void {
  if (warnedOnce.has(key)) return;
  warnedOnce.add(key);
  log("warn", message, fields);
}
