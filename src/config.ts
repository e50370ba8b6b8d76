import { z } from "zod";
import type { SecretBinding } from "./providers/types";

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

/** Env vars as the worker uses them: typed, defaulted, and refused loudly when malformed. */
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
  // Empty: keep processed events forever. A number of days (at least 7) enables the purge.
  EVENT_RETENTION_DAYS: z
    .string()
    .optional()
    .transform((value) => (value?.trim() ? Number(value.trim()) : undefined))
    .pipe(z.number().int().min(1).optional()),
  FORWARD_TIMEOUT_MS: optionalInt(10_000, 1, 60_000),
  NUVOUCH_API_BASE_URL: optionalText.pipe(z.url().optional()).transform((url) => url ?? "https://api.nuvouch.com"),
  FORWARD_URL: optionalText.pipe(z.url().optional()),
  FORWARD_SIGNING_SECRET: optionalText,
  ADMIN_API_TOKEN: optionalText,
  NUVOUCH_INTEGRATOR_API_KEY: optionalText,
});

export type Config = z.output<typeof ConfigSchema>;

const cache = new WeakMap<object, Config>();

export function getConfig(env: Env): Config {
  let config = cache.get(env);
  if (!config) {
    config = ConfigSchema.parse(env);
    cache.set(env, config);
  }
  return config;
}

/** A `*_SECRET` may hold several comma-separated secrets during a rotation. */
export function secretsOf(env: Env, binding: SecretBinding): string[] {
  const raw = (env as unknown as Record<string, unknown>)[binding];
  if (typeof raw !== "string") return [];
  return raw
    .split(",")
    .map((secret) => secret.trim())
    .filter((secret) => secret !== "");
}
