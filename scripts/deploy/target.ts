// What one environment of wrangler.toml deploys to, read with wrangler's own config reader
// so that the deploy script and `wrangler deploy` can never disagree about a name.
import { readdirSync } from "node:fs";
import { resolve } from "node:path";
import { unstable_readConfig } from "wrangler";

export const ENVIRONMENTS = ["staging", "production"] as const;
export type Environment = (typeof ENVIRONMENTS)[number];

export interface Target {
  environment: Environment;
  /** The `--env` flag for every wrangler command: production is the top level (`--env=`). */
  envFlag: string;
  worker: string;
  /** Every queue the worker produces to or consumes, dead-letter queues included. */
  queues: string[];
  database: { binding: string; name: string; migrations: string[] };
  /** KV bindings without an id: `wrangler deploy` provisions them as `<worker>-<binding>`. */
  kvNamespaces: { binding: string; title: string }[];
  /**
   * The names bound from Cloudflare Secrets Store (`[[secrets_store_secrets]]`): the worker reads
   * these from the store, so the deploy neither generates nor uploads a Worker secret of that name.
   */
  storeSecrets: string[];
}

export function isEnvironment(value: string | undefined): value is Environment {
  return (ENVIRONMENTS as readonly string[]).includes(value ?? "");
}

/** Wrangler's name for a KV namespace it provisions (auto-provisioned-name.ts in wrangler). */
export function provisionedTitle(worker: string, binding: string): string {
  return `${worker}-${binding.toLowerCase().replaceAll("_", "-")}`;
}

export function readTarget(environment: Environment, configPath = "wrangler.toml"): Target {
  const config = unstable_readConfig(
    { config: configPath, env: environment === "production" ? undefined : environment },
    { hideWarnings: true },
  );
  if (!config.name) throw new Error(`${configPath} names no worker`);
  const queues = new Set<string>();
  for (const producer of config.queues.producers ?? []) queues.add(producer.queue);
  for (const consumer of config.queues.consumers ?? []) {
    queues.add(consumer.queue);
    if (consumer.dead_letter_queue) queues.add(consumer.dead_letter_queue);
  }
  const [database, ...others] = config.d1_databases;
  if (!database?.database_name || others.length > 0) {
    throw new Error(`${configPath} (${environment}) must have exactly one D1 database, with a database_name`);
  }
  const migrationsDir = resolve(configPath, "..", database.migrations_dir ?? "migrations");
  const worker = config.name;
  return {
    environment,
    envFlag: `--env=${environment === "production" ? "" : environment}`,
    worker,
    queues: [...queues],
    database: {
      binding: database.binding,
      name: database.database_name,
      migrations: readdirSync(migrationsDir)
        .filter((file) => file.endsWith(".sql"))
        .sort(),
    },
    kvNamespaces: (config.kv_namespaces as { binding: string; id?: string }[])
      .filter((namespace) => !namespace.id)
      .map((namespace) => ({ binding: namespace.binding, title: provisionedTitle(worker, namespace.binding) })),
    storeSecrets: (config.secrets_store_secrets as { binding: string }[]).map((secret) => secret.binding),
  };
}
