// The secrets file of one environment (`.secrets.<env>.json`, git-ignored): the only copy of
// the secrets the deploy generates, and where the provider secrets are pasted.
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { simulators } from "../../src/providers/simulators.node.ts";

/** Secrets the deploy makes up itself when neither the file nor the worker has them. */
export const GENERATED = {
  // 256 bits in base64url: within the bearer-token alphabet src/admin/auth.ts accepts.
  ADMIN_API_TOKEN: () => randomBytes(32).toString("base64url"),
  // Standard Webhooks' form: whsec_ + base64 of the key (docs/contract.md §6).
  FORWARD_SIGNING_SECRET: () => `whsec_${randomBytes(32).toString("base64")}`,
} as const;

/** Secrets only a provider can give; without one, that provider's deliveries are refused (401). */
export const FROM_PROVIDERS: readonly string[] = [
  ...Object.values(simulators).map((provider) => provider.secretBinding),
  "NUVOUCH_INTEGRATOR_API_KEY",
];

export class SecretsFileError extends Error {}

export function defaultSecretsFile(environment: string): string {
  return `.secrets.${environment}.json`;
}

/** The file's secrets, `{}` when it does not exist yet; refuses anything but names to non-empty strings. */
export function readSecretsFile(path: string): Record<string, string> {
  if (!existsSync(path)) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, "utf8"));
  } catch (error) {
    throw new SecretsFileError(`${path} is not valid JSON (${(error as Error).message})`);
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw new SecretsFileError(`${path} must hold one JSON object: {"NAME": "value", …}`);
  }
  for (const [name, value] of Object.entries(parsed)) {
    if (!/^[A-Z][A-Z0-9_]*$/.test(name)) throw new SecretsFileError(`${path}: "${name}" is not a secret name`);
    // An empty value would overwrite a secret set on the worker with nothing.
    if (typeof value !== "string" || value.trim() === "") {
      throw new SecretsFileError(`${path}: ${name} must be a non-empty string (remove the line to leave it unset)`);
    }
  }
  return parsed as Record<string, string>;
}

export function writeSecretsFile(path: string, secrets: Record<string, string>): void {
  writeFileSync(path, `${JSON.stringify(secrets, null, 2)}\n`, { mode: 0o600 });
}

/**
 * False only when git would commit the file: inside a work tree and not ignored. A file
 * outside any repository is fine.
 */
export function isIgnoredOrOutsideGit(path: string): boolean {
  const absolute = resolve(path);
  const check = spawnSync("git", ["check-ignore", "-q", absolute], { cwd: dirname(absolute), stdio: "ignore" });
  // 0: ignored; 1: not ignored; 128: not a repository (or git missing: ENOENT).
  return check.status !== 1;
}
