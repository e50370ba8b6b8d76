// A stand-in for the `wrangler` CLI that plays a Cloudflare account kept in a JSON file
// (FAKE_WRANGLER_STATE) and appends every call to FAKE_WRANGLER_LOG, for the deploy test.
// It answers the commands scripts/deploy runs the way wrangler 4.156 does: the same output
// formats (a table for `queues list`, JSON for the --json commands, wrangler's error lines),
// automatic provisioning at deploy (a missing producer queue, D1 by name, KV by title), a
// consumer-only queue that must already exist, and secrets uploaded with the version.
import { appendFileSync, readFileSync, writeFileSync } from "node:fs";

export interface FakeEnvironment {
  worker: string;
  database: string;
  producerQueues: string[];
  consumerQueues: string[];
  kv: { binding: string; title: string }[];
}

export interface FakeAccount {
  /** By the value of `--env=` ("" is the top level). */
  environments: Record<string, FakeEnvironment>;
  /** The migration files wrangler would read from migrations_dir. */
  migrations: string[];
  queuePageSize: number;
  queues: string[];
  databases: { name: string; uuid: string; applied: string[] }[];
  kvNamespaces: { id: string; title: string; keys: string[] }[];
  workers: Record<string, { versions: number; secrets: Record<string, string>; kv: Record<string, string> }>;
  /** One entry per successful deploy: how many migrations its database had when the code went live. */
  deploys: { worker: string; migrationsApplied: number; secrets: string[] }[];
  /** Makes the next N deploys fail after provisioning, before the worker exists (an upload error). */
  failDeploysAfterProvisioning: number;
  nextId: number;
}

const statePath = process.env.FAKE_WRANGLER_STATE;
const logPath = process.env.FAKE_WRANGLER_LOG;
if (!statePath || !logPath) {
  console.error("fake wrangler: FAKE_WRANGLER_STATE and FAKE_WRANGLER_LOG must be set");
  process.exit(97);
}
const args = process.argv.slice(2);
appendFileSync(logPath, `${JSON.stringify(args)}\n`);
const account = JSON.parse(readFileSync(statePath, "utf8")) as FakeAccount;

const save = () => writeFileSync(statePath, JSON.stringify(account, null, 2));
const newId = () => `id${String(account.nextId++).padStart(4, "0")}`;
function fail(message: string): never {
  process.stderr.write(`✘ [ERROR] ${message}\n\n🪵  Logs were written to "/dev/null"\n`);
  process.exit(1);
}
function option(name: string): string | undefined {
  const inline = args.find((arg) => arg.startsWith(`${name}=`));
  if (inline !== undefined) return inline.slice(name.length + 1);
  const at = args.indexOf(name);
  return at >= 0 ? args[at + 1] : undefined;
}
function environment(): FakeEnvironment {
  const name = option("--env") ?? "";
  const found = account.environments[name];
  if (!found) fail(`No environment found in configuration with name "${name}".`);
  return found;
}
const positional = () => args.filter((arg) => !arg.startsWith("-"));

function table(rows: Record<string, string>[]): string {
  if (rows.length === 0) return "┌┐\n└┘";
  const head = Object.keys(rows[0] as object);
  const widths = head.map((key) => Math.max(key.length, ...rows.map((row) => (row[key] ?? "").length)) + 2);
  const line = (l: string, m: string, r: string) => l + widths.map((w) => "─".repeat(w)).join(m) + r;
  const row = (cells: string[]) => `│${cells.map((cell, i) => ` ${cell.padEnd((widths[i] ?? 2) - 2)} `).join("│")}│`;
  return [
    line("┌", "┬", "┐"),
    row(head),
    line("├", "┼", "┤"),
    ...rows.map((r) => row(head.map((key) => r[key] ?? ""))),
    line("└", "┴", "┘"),
  ].join("\n");
}

function deploy(): void {
  const env = environment();
  const worker = account.workers[env.worker];
  for (const queue of env.consumerQueues) {
    if (!account.queues.includes(queue))
      fail(`Queue "${queue}" does not exist. To create it, run: wrangler queues create ${queue}`);
  }
  for (const queue of env.producerQueues) if (!account.queues.includes(queue)) account.queues.push(queue);
  let database = account.databases.find((db) => db.name === env.database);
  if (!database) {
    database = { name: env.database, uuid: newId(), applied: [] };
    account.databases.push(database);
  }
  const kv: Record<string, string> = {};
  for (const { binding, title } of env.kv) {
    const inherited = worker?.kv[binding];
    if (inherited) {
      kv[binding] = inherited;
      continue;
    }
    if (account.kvNamespaces.some((namespace) => namespace.title === title)) {
      save();
      fail(
        `A request to the Cloudflare API (/accounts/x/storage/kv/namespaces) failed.\n  a namespace with this account ID and title already exists [code: 10014]`,
      );
    }
    const id = newId();
    account.kvNamespaces.push({ id, title, keys: [] });
    kv[binding] = id;
  }
  if (account.failDeploysAfterProvisioning > 0) {
    account.failDeploysAfterProvisioning--;
    save();
    fail("A request to the Cloudflare API (/accounts/x/workers/scripts/x) failed. Internal error [code: 10013]");
  }
  const file = option("--secrets-file");
  const uploaded = file ? (JSON.parse(readFileSync(file, "utf8")) as Record<string, string>) : {};
  const secrets = { ...(worker?.secrets ?? {}), ...uploaded };
  account.workers[env.worker] = { versions: (worker?.versions ?? 0) + 1, secrets, kv };
  account.deploys.push({
    worker: env.worker,
    migrationsApplied: database.applied.length,
    secrets: Object.keys(uploaded),
  });
  save();
  console.log(`Uploaded ${env.worker}\nDeployed ${env.worker} triggers\n  https://${env.worker}.example.workers.dev`);
}

const [group, command, ...rest] = positional();
switch (`${group} ${command}`) {
  case "queues list": {
    const page = Number(option("--page") ?? "1");
    const slice = account.queues.slice((page - 1) * account.queuePageSize, page * account.queuePageSize);
    console.log(
      table(
        slice.map((name) => ({
          id: `q-${name}`,
          name,
          created_on: "2026-11-23T00:00:00Z",
          modified_on: "2026-11-23T00:00:00Z",
          producers: "0",
          consumers: "0",
        })),
      ),
    );
    break;
  }
  case "queues create": {
    const name = rest[0] as string;
    if (account.queues.includes(name))
      fail(`A request to the Cloudflare API failed. Queue name already taken [code: 11009]`);
    account.queues.push(name);
    save();
    console.log(`Created queue ${name}.`);
    break;
  }
  case "d1 list":
    console.log(JSON.stringify(account.databases.map(({ name, uuid }) => ({ uuid, name, version: "production" }))));
    break;
  case "d1 create": {
    const name = rest[0] as string;
    if (account.databases.some((db) => db.name === name)) fail("A database with that name already exists");
    account.databases.push({ name, uuid: newId(), applied: [] });
    save();
    console.log(`✅ Successfully created DB '${name}'`);
    break;
  }
  case "d1 migrations": {
    if (rest[0] !== "apply" || !args.includes("--remote")) fail(`fake wrangler: unsupported ${args.join(" ")}`);
    const env = environment();
    const database = account.databases.find((db) => db.name === env.database);
    if (!database) fail(`Couldn't find a D1 DB with the name or binding '${rest[1]}' in your wrangler.toml file.`);
    const pending = account.migrations.filter((file) => !database.applied.includes(file));
    if (pending.length === 0) console.log("✅ No migrations to apply!");
    for (const file of pending) {
      database.applied.push(file);
      console.log(`│ ${file} │ ✅ │`);
    }
    save();
    break;
  }
  case "secret list": {
    const env = environment();
    const worker = account.workers[env.worker];
    const envName = option("--env");
    if (!worker)
      fail(
        `Worker "${env.worker}"${envName ? ` (env: ${envName})` : ""} not found.\nIf this is a new Worker, run \`wrangler deploy\` first to create it.`,
      );
    console.log(
      JSON.stringify(
        Object.keys(worker.secrets).map((name) => ({ name, type: "secret_text" })),
        null,
        "  ",
      ),
    );
    break;
  }
  case "kv namespace": {
    if (rest[0] === "list") {
      console.log(
        JSON.stringify(account.kvNamespaces.map(({ id, title }) => ({ id, title, supports_url_encoding: true }))),
      );
    } else if (rest[0] === "delete" && args.includes("--skip-confirmation")) {
      const id = option("--namespace-id");
      account.kvNamespaces = account.kvNamespaces.filter((namespace) => namespace.id !== id);
      save();
      console.log(`Deleted KV namespace ${id}.`);
    } else fail(`fake wrangler: unsupported ${args.join(" ")}`);
    break;
  }
  case "kv key": {
    const namespace = account.kvNamespaces.find((ns) => ns.id === option("--namespace-id"));
    if (rest[0] !== "list" || !args.includes("--remote") || !namespace)
      fail(`fake wrangler: unsupported ${args.join(" ")}`);
    console.log(JSON.stringify(namespace.keys.map((name) => ({ name }))));
    break;
  }
  default:
    if (group === "deploy") deploy();
    else fail(`fake wrangler: unsupported ${args.join(" ")}`);
}
