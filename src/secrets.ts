import { log } from "./log";

/**
 * Every secret the gateway reads. Each may be a Worker secret (a string in `env`, `.dev.vars`
 * locally) or a Cloudflare Secrets Store binding of the same name (`[[secrets_store_secrets]]`,
 * the "secret manager" of the Nuvouch document), read with `await env.NAME.get()`.
 */
export type SecretName =
  | "NUVOUCH_INTEGRATOR_API_KEY"
  | "ADMIN_API_TOKEN"
  | "FORWARD_SIGNING_SECRET"
  // A provider's signing secrets (its `secretBinding`).
  | `${string}_SECRET`;

interface SecretsStoreBinding {
  get(): Promise<string>;
}

function isStoreBinding(value: unknown): value is SecretsStoreBinding {
  return typeof value === "object" && value !== null && typeof (value as SecretsStoreBinding).get === "function";
}

/**
 * How long a value read from the store is reused by this isolate: a rotation in the store takes
 * effect within this, without a deploy, and a busy isolate reads the store twice a minute at most.
 */
export const SECRET_CACHE_MS = 30_000;

const cache = new WeakMap<object, { until: number; value: Promise<string | undefined> }>();

/** The secret's value, trimmed; undefined when it is unset, empty, or the store has none. */
export function readSecret(env: Env, name: SecretName, nowMs: number): Promise<string | undefined> {
  const raw = (env as unknown as Record<string, unknown>)[name];
  if (typeof raw === "string") return Promise.resolve(raw.trim() || undefined);
  if (!isStoreBinding(raw)) return Promise.resolve(undefined);
  const cached = cache.get(raw);
  if (cached && cached.until > nowMs) return cached.value;
  const value = raw.get().then(
    (text) => text.trim() || undefined,
    (error: unknown) => {
      // Not cached: the next request asks the store again.
      cache.delete(raw);
      log("error", "secrets store read failed", { name, error: String(error) });
      return undefined;
    },
  );
  cache.set(raw, { until: nowMs + SECRET_CACHE_MS, value });
  return value;
}

/** A `*_SECRET` may hold several comma-separated secrets during a rotation, from either source. */
export async function readSecretList(env: Env, name: SecretName, nowMs: number): Promise<string[]> {
  const value = await readSecret(env, name, nowMs);
  if (value === undefined) return [];
  return value
    .split(",")
    .map((secret) => secret.trim())
    .filter((secret) => secret !== "");
}
