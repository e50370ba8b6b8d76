// A field longer than this is cut: a provider controls some logged values (a type, a reason), and one
// 100 KB string must not ride on every log line.
const MAX_FIELD_LENGTH = 300;

function bounded(value: unknown): unknown {
  return typeof value === "string" && value.length > MAX_FIELD_LENGTH
    ? `${value.slice(0, MAX_FIELD_LENGTH)}…(${value.length} chars)`
    : value;
}

/**
 * One JSON object per line, the shape Workers Logs indexes. Callers pass identifiers and
 * outcomes only: never a secret, a signature header or a body.
 */
export function log(level: "info" | "warn" | "error", message: string, fields: Record<string, unknown> = {}): void {
  const record: Record<string, unknown> = { level, message };
  for (const [key, value] of Object.entries(fields)) record[key] = bounded(value);
  const line = JSON.stringify(record);
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
