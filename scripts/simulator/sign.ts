// Signing exactly as docs/contract.md §2 describes it, with node:crypto, so the simulator never
// borrows the gateway's own WebCrypto code: a shared bug could not hide on both sides.
import { createHash, createHmac } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { ProviderName } from "./payloads.ts";

/** The Worker binding that holds each provider's comma-separated secrets (docs/contract.md §1). */
export const SECRET_BINDINGS: Record<ProviderName, string> = {
  nova: "NOVA_WEBHOOK_SECRET",
  nuvei: "NUVEI_WEBHOOK_SECRET",
  nuvouch: "NUVOUCH_CALLBACK_SECRET",
};

/** Nova (and, assumed, Nuvouch): `t=<unix seconds>,v1=hex(HMAC-SHA256(secret, "<t>.<raw body>"))`. */
export function timestampedSignature(body: Uint8Array, secret: string, t: number): string {
  const mac = createHmac("sha256", secret).update(`${t}.`).update(body).digest("hex");
  return `t=${t},v1=${mac}`;
}

/** Nuvei: D = base64(HMAC-SHA256(secret, H + T)), H the lowercase hex SHA-256 of the raw body. */
export function nuveiDigest(body: Uint8Array, secret: string, t: number): string {
  const h = createHash("sha256").update(body).digest("hex");
  return createHmac("sha256", secret).update(`${h}${t}`).digest("base64");
}

/** The signature headers a provider adds to `body`, signed at `t` (unix seconds). */
export function signatureHeaders(
  provider: ProviderName,
  body: Uint8Array,
  secret: string,
  t: number,
): Record<string, string> {
  switch (provider) {
    case "nova":
      return { "x-nova-signature": timestampedSignature(body, secret, t) };
    case "nuvouch":
      return { "x-nuvouch-signature": timestampedSignature(body, secret, t) };
    case "nuvei":
      return { "x-authentication-timestamp": String(t), "x-authentication-digest": nuveiDigest(body, secret, t) };
  }
}

/** The dotenv subset wrangler reads from `.dev.vars`: KEY=value, optional quotes, # comments. */
export function parseDevVars(text: string): Record<string, string> {
  const vars: Record<string, string> = {};
  for (const line of text.split(/\r?\n/)) {
    const match = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*?)\s*$/.exec(line);
    if (!match) continue;
    const [, name, raw = ""] = match;
    const quoted = /^(['"])(.*)\1$/.exec(raw);
    vars[name as string] = quoted ? (quoted[2] as string) : raw.replace(/\s+#.*$/, "");
  }
  return vars;
}

export interface LoadedSecrets {
  /** The file the secrets came from, for messages. */
  file: string;
  secrets: Record<ProviderName, string[]>;
}

/**
 * The secrets the gateway verifies with: `.dev.vars`, or `.dev.vars.example` before the first
 * `npm run dev` has copied it; or `secretsFile` (dotenv, or JSON such as a deployed
 * environment's `.secrets.<env>.json`) when given.
 */
export function loadSecrets(projectRoot: string, secretsFile?: string): LoadedSecrets {
  const candidates = secretsFile
    ? [secretsFile]
    : [".dev.vars", ".dev.vars.example"].map((name) => join(projectRoot, name));
  const file = candidates.find((path) => existsSync(path));
  if (secretsFile && !file) throw new Error(`no secrets file ${secretsFile}`);
  const text = file ? readFileSync(file, "utf8") : "";
  const vars: Record<string, unknown> = file?.endsWith(".json") ? JSON.parse(text) : parseDevVars(text);
  const list = (binding: string) =>
    String(vars[binding] ?? "")
      .split(",")
      .map((secret) => secret.trim())
      .filter((secret) => secret !== "");
  return {
    file: file ?? candidates[0] ?? ".dev.vars",
    secrets: {
      nova: list(SECRET_BINDINGS.nova),
      nuvei: list(SECRET_BINDINGS.nuvei),
      nuvouch: list(SECRET_BINDINGS.nuvouch),
    },
  };
}

/** A secret no configuration holds, for `--wrong-secret`. */
export const WRONG_SECRET = "simulator_wrong_secret_never_configured";
