import { z } from "zod";

/** The shortest EVENT_RETENTION_DAYS: an event's dedupe key is kept well past every provider's retry window. */
export const MIN_EVENT_RETENTION_DAYS = 7;

const optionalInt = (fallback: number, min: number, max = Number.MAX_SAFE_INTEGER) =>
  z
    .string()
    .optional()
    .transform((value) => (value === undefined || value.trim() === "" ? String(fallback) : value))
    .transform(Number)
    .pipe(z.number().int().min(min).max(max));

const optionalText = z
  .string()
  .optional()
  .transform((value) => (value?.trim() ? value.trim() : undefined));

/**
 * Env vars as the worker uses them: typed, defaulted, and refused loudly when malformed. No
 * secret is here: any may be a Secrets Store binding, so every one is read with `readSecret`
 * (src/secrets.ts).
 */
const ConfigSchema = z.object({
  SIGNATURE_TOLERANCE_SECONDS: optionalInt(300, 0),
  MAX_BODY_BYTES: optionalInt(1024 * 1024, 1),
  // KV's minimum TTL is 60 s; the default outlives Nova's 24 h retry window with margin.
  DEDUPE_TTL_SECONDS: optionalInt(72 * 3600, 60),
  // How ingest recognises a retry before queueing it: "kv" (the default, as the design card
  // says: a KV read and write per delivery) or "edge" (Cache API + D1 read, no KV cost, opt-in).
  // See src/ingest/dedupe.ts.
  DEDUPE_MODE: z
    .string()
    .optional()
    .transform((value) => value?.trim() || "kv")
    .pipe(z.enum(["edge", "kv"])),
  // Both stay well under the effect lease (2 min, src/effects/ledger.ts), so a lease outlives
  // any attempt that is still running.
  EFFECT_TIMEOUT_MS: optionalInt(30_000, 1, 60_000),
  // Empty: keep processed events forever. A number of days, at least 7, enables the purge: fewer
  // would forget dedupe keys inside a provider's retry window (Nova retries for 24 h).
  EVENT_RETENTION_DAYS: z
    .string()
    .optional()
    .transform((value) => (value?.trim() ? Number(value.trim()) : undefined))
    .pipe(z.number().int().min(MIN_EVENT_RETENTION_DAYS).optional()),
  FORWARD_TIMEOUT_MS: optionalInt(10_000, 1, 60_000),
  RECONCILE_AFTER_SECONDS: optionalInt(900, 0),
  NUVOUCH_API_BASE_URL: optionalText.pipe(z.url().optional()).transform((url) => url ?? "https://api.nuvouch.com"),
  FORWARD_URL: optionalText.pipe(z.url().optional()),
  // Alerts are signed like forwards, with FORWARD_SIGNING_SECRET (src/alerts/outbox.ts).
  ALERT_URL: optionalText.pipe(z.url().optional()),
});

export type Config = z.output<typeof ConfigSchema>;

const cache = new WeakMap<object, Config>();

/** Set as a Worker secret (a non-empty string) or as a Secrets Store binding (read later, with get()). */
function secretIsSet(env: Env, name: string): boolean {
  const value = (env as unknown as Record<string, unknown>)[name];
  return typeof value === "string" ? value.trim() !== "" : typeof value === "object" && value !== null;
}

/** Env vars as the worker uses them, and settings that only make sense together refused loudly. */
export function getConfig(env: Env): Config {
  let config = cache.get(env);
  if (!config) {
    config = ConfigSchema.parse(env);
    // Forwards and alerts are signed with FORWARD_SIGNING_SECRET: a destination without it would
    // send unsigned requests, or none (docs/contract.md §1).
    for (const url of ["FORWARD_URL", "ALERT_URL"] as const) {
      if (config[url] !== undefined && !secretIsSet(env, "FORWARD_SIGNING_SECRET")) {
        throw new Error(`configuration: ${url} is set but FORWARD_SIGNING_SECRET, which signs what it sends, is not`);
      }
    }
    cache.set(env, config);
  }
  return config;
}
