// The one reader of dotenv files for the tools (the simulator, the fake Nuvouch, the end-to-end
// tests), with node:util's parser: the format wrangler reads `.dev.vars` in.
import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseEnv } from "node:util";

export const PROJECT_ROOT = resolve(import.meta.dirname, "../..");

/** A dotenv file's variables; `{}` when there is no such file. */
export function readDevVars(file: string): Record<string, string> {
  if (!existsSync(file)) return {};
  const vars: Record<string, string> = {};
  for (const [name, value] of Object.entries(parseEnv(readFileSync(file, "utf8")))) {
    if (value !== undefined) vars[name] = value;
  }
  return vars;
}

/** The local dev vars: `.dev.vars`, or `.dev.vars.example` before the first `npm run dev` copied it. */
export function localDevVars(root = PROJECT_ROOT): { file: string; vars: Record<string, string> } {
  const file = [".dev.vars", ".dev.vars.example"].map((name) => join(root, name)).find((path) => existsSync(path));
  return file ? { file, vars: readDevVars(file) } : { file: join(root, ".dev.vars"), vars: {} };
}

/** A `*_SECRET` may hold several comma-separated secrets during a rotation. */
export function secretList(value: unknown): string[] {
  return String(value ?? "")
    .split(",")
    .map((secret) => secret.trim())
    .filter((secret) => secret !== "");
}
