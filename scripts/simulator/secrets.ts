// The secrets the simulator signs with, and the operator token its operator steps send.
import { existsSync, readFileSync } from "node:fs";
import { PROVIDER_NAMES, type ProviderName, simulators } from "../../src/providers/simulators.node.ts";
import { localDevVars, readDevVars, secretList } from "../lib/dev-vars.ts";

export interface LoadedSecrets {
  /** The file the secrets came from, for messages. */
  file: string;
  secrets: Record<ProviderName, string[]>;
  /** ADMIN_API_TOKEN, for the operator API calls of a scenario's steps. */
  adminToken: string | undefined;
}

/**
 * The secrets the gateway verifies with: `.dev.vars`, or `.dev.vars.example` before the first
 * `npm run dev` has copied it; or `secretsFile` (dotenv, or JSON such as a deployed
 * environment's `.secrets.<env>.json`) when given.
 */
export function loadSecrets(projectRoot: string, secretsFile?: string): LoadedSecrets {
  let loaded: { file: string; vars: Record<string, unknown> };
  if (secretsFile === undefined) loaded = localDevVars(projectRoot);
  else if (!existsSync(secretsFile)) throw new Error(`no secrets file ${secretsFile}`);
  else if (secretsFile.endsWith(".json"))
    loaded = { file: secretsFile, vars: JSON.parse(readFileSync(secretsFile, "utf8")) };
  else loaded = { file: secretsFile, vars: readDevVars(secretsFile) };
  const { file, vars } = loaded;
  const secrets = Object.fromEntries(
    PROVIDER_NAMES.map((provider) => [provider, secretList(vars[simulators[provider].secretBinding])]),
  ) as Record<ProviderName, string[]>;
  const adminToken = typeof vars.ADMIN_API_TOKEN === "string" ? vars.ADMIN_API_TOKEN.trim() || undefined : undefined;
  return { file, secrets, adminToken };
}

/** A secret no configuration holds, for `--wrong-secret`. */
export const WRONG_SECRET = "simulator_wrong_secret_never_configured";
