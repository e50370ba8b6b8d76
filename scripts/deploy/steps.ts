// `npm run deploy -- --env staging|production`: the order of a first deploy and of every
// later one (docs/contract.md §10, README "Environments and deploy").
//
//  1. secrets   what the worker already has; generate ADMIN_API_TOKEN and the whsec_
//               forwarding secret into the git-ignored file when neither has them, unless
//               wrangler.toml binds that name from Secrets Store (which the file may not hold)
//  2. KV        before a first deploy only: clear an empty namespace a failed first deploy left,
//               which wrangler would otherwise try, and fail, to create again
//  3. queues    create the queues and the dead-letter queue that are missing (provisioning
//               creates no consumer-only queue, and the deploy fails on a missing one)
//  4. D1        create the database by name when missing, so that…
//  5. migrate   …the schema is complete before any code runs: on an empty account the first
//               version never serves against a missing table, and later a new schema is in
//               place before the code that needs it (migrations only ever add)
//  6. deploy    the code, with the secrets from the file in the same version; provisions KV
//               (inherited on later deploys) and finds D1 by name
//
// Every step first looks, then changes only what is missing: a second run creates, applies
// and generates nothing, and only uploads the code again.
import { FROM_PROVIDERS, GENERATED, isIgnoredOrOutsideGit, readSecretsFile, writeSecretsFile } from "./secrets.ts";
import type { Target } from "./target.ts";
import {
  commandLine,
  expectSuccess,
  isWorkerNotFound,
  parseJson,
  queueNamesFromTable,
  StepFailed,
  type Wrangler,
} from "./wrangler.ts";

export interface DeployOptions {
  target: Target;
  secretsFile: string;
  wrangler: Wrangler;
  log: (line: string) => void;
}

const STEP_COUNT = 6;
// A generous bound on `wrangler queues list` pages, so a misbehaving listing cannot loop forever.
const MAX_QUEUE_PAGES = 100;

const cmd = {
  secretList: (t: Target) => ["secret", "list", t.envFlag, "--format", "json"],
  kvList: () => ["kv", "namespace", "list"],
  kvKeys: (id: string) => ["kv", "key", "list", "--namespace-id", id, "--remote"],
  kvDelete: (id: string) => ["kv", "namespace", "delete", "--namespace-id", id, "--skip-confirmation"],
  queueList: (t: Target, page: number) => ["queues", "list", t.envFlag, ...(page > 1 ? ["--page", String(page)] : [])],
  queueCreate: (t: Target, name: string) => ["queues", "create", name, t.envFlag],
  d1List: (t: Target) => ["d1", "list", "--json", t.envFlag],
  d1Create: (t: Target) => ["d1", "create", t.database.name, t.envFlag],
  migrate: (t: Target) => ["d1", "migrations", "apply", t.database.binding, "--remote", t.envFlag],
  deploy: (t: Target, secretsFile: string | null) => [
    "deploy",
    t.envFlag,
    ...(secretsFile ? ["--secrets-file", secretsFile] : []),
  ],
};

export function deploy({ target, secretsFile, wrangler, log }: DeployOptions): void {
  const step = (n: number, title: string) => log(`\n[${n}/${STEP_COUNT}] ${title}`);
  log(`Deploying ${target.environment}: worker ${target.worker}`);
  const fileSecrets = readLocalSecrets(secretsFile, target);

  step(1, `secrets (${secretsFile})`);
  if (target.storeSecrets.length > 0) {
    log(`  from Secrets Store ([[secrets_store_secrets]]): ${target.storeSecrets.join(", ")}; not generated here`);
  }
  const onWorker = secretsOnWorker(target, wrangler);
  const workerExists = onWorker !== null;
  if (!workerExists) log(`  worker ${target.worker} is not deployed yet: this is its first deploy`);
  for (const name of target.storeSecrets.filter((bound) => onWorker?.has(bound))) {
    log(
      `  ${name} is also a Worker secret, which clashes with its store binding: wrangler secret delete ${name} ${target.envFlag}`,
    );
  }
  const generated: string[] = [];
  for (const [name, generate] of Object.entries(GENERATED)) {
    if (fileSecrets[name] !== undefined || target.storeSecrets.includes(name)) continue;
    if (onWorker?.has(name)) {
      log(`  ${name}: already set on the worker, kept (it is not in ${secretsFile})`);
      continue;
    }
    fileSecrets[name] = generate();
    generated.push(name);
  }
  if (generated.length > 0) {
    writeSecretsFile(secretsFile, fileSecrets);
    log(`  generated ${generated.join(" and ")}: written to ${secretsFile} (git-ignored; it is the only copy)`);
  }
  const unset = FROM_PROVIDERS.filter(
    (name) => fileSecrets[name] === undefined && !onWorker?.has(name) && !target.storeSecrets.includes(name),
  );
  if (unset.length > 0) {
    log(`  not set yet: ${unset.join(", ")}; copy them from the providers' dashboards into ${secretsFile}`);
    log("  and deploy again (until then a provider without its secret is refused with 401)");
  }

  step(2, "KV namespaces (provisioned by wrangler deploy)");
  if (workerExists) log("  the worker's own namespaces are inherited: nothing to check");
  else clearLeftoverNamespaces(target, wrangler, log);

  step(3, "queues");
  const existing = listQueues(target, wrangler);
  const missing = target.queues.filter((name) => !existing.has(name));
  for (const name of missing) wrangler.run(cmd.queueCreate(target, name));
  if (missing.length === 0) log(`  all present: ${target.queues.join(", ")}`);

  step(4, `D1 database ${target.database.name}`);
  const databases = readJson<{ name: string }[]>(wrangler, cmd.d1List(target));
  if (databases.some((db) => db.name === target.database.name)) log("  present");
  else wrangler.run(cmd.d1Create(target));

  step(5, "D1 migrations (only those not applied yet)");
  wrangler.run(cmd.migrate(target));

  step(6, "deploy");
  wrangler.run(cmd.deploy(target, Object.keys(fileSecrets).length > 0 ? secretsFile : null));
  log(`\nDeployed ${target.environment}. Providers call the worker URL wrangler printed above, plus`);
  log("/webhooks/nova, /webhooks/nuvei or /webhooks/nuvouch (README, Environments and deploy).");
}

/** What `deploy` would run, printed without running anything or touching the network. */
export function describeDeploy({ target, secretsFile, log }: Omit<DeployOptions, "wrangler">): void {
  const fileSecrets = readLocalSecrets(secretsFile, target);
  const $ = (args: string[], note = "") => log(`  $ ${commandLine(args)}${note ? `   # ${note}` : ""}`);
  log(`Dry run for ${target.environment}: worker ${target.worker}. Nothing below is run.`);
  log(`\n[1/${STEP_COUNT}] secrets (${secretsFile})`);
  $(cmd.secretList(target), "which secrets the worker has; fails if it was never deployed");
  const toGenerate = Object.keys(GENERATED).filter(
    (name) => fileSecrets[name] === undefined && !target.storeSecrets.includes(name),
  );
  log(
    toGenerate.length > 0
      ? `  then generate ${toGenerate.join(" and ")} into ${secretsFile}, unless the worker already has them`
      : "  nothing to generate",
  );
  if (target.storeSecrets.length > 0) log(`  from Secrets Store: ${target.storeSecrets.join(", ")}`);
  log(`\n[2/${STEP_COUNT}] KV namespaces, before a first deploy only`);
  $(
    cmd.kvList(),
    `a namespace named ${target.kvNamespaces.map((kv) => kv.title).join(", ") || "-"} left by a failed first deploy?`,
  );
  $(cmd.kvKeys("<id>"), "only if so: its keys");
  $(cmd.kvDelete("<id>"), "only if so and empty (deploy creates it again)");
  log(`\n[3/${STEP_COUNT}] queues`);
  $(cmd.queueList(target, 1), "and further pages with --page N");
  for (const name of target.queues) $(cmd.queueCreate(target, name), "if missing");
  log(`\n[4/${STEP_COUNT}] D1 database`);
  $(cmd.d1List(target));
  $(cmd.d1Create(target), "if missing");
  log(`\n[5/${STEP_COUNT}] D1 migrations`);
  $(cmd.migrate(target), `applies those of ${target.database.migrations.join(", ")} not applied yet`);
  log(`\n[6/${STEP_COUNT}] deploy`);
  $(
    cmd.deploy(target, secretsFile),
    `provisions KV ${target.kvNamespaces.map((kv) => kv.title).join(", ")} on a first deploy`,
  );
}

const readJson = <T>(wrangler: Wrangler, args: string[]): T =>
  parseJson<T>(args, expectSuccess(args, wrangler.read(args)));

/** The names of the worker's secrets, or null when the worker was never deployed. */
function secretsOnWorker(target: Target, wrangler: Wrangler): Set<string> | null {
  const args = cmd.secretList(target);
  const listed = wrangler.read(args);
  if (isWorkerNotFound(listed)) return null;
  return new Set(parseJson<{ name: string }[]>(args, expectSuccess(args, listed)).map((secret) => secret.name));
}

function readLocalSecrets(secretsFile: string, target: Target): Record<string, string> {
  if (!isIgnoredOrOutsideGit(secretsFile)) {
    throw new StepFailed(`${secretsFile} is not git-ignored: add it to .gitignore before it holds a secret`);
  }
  const secrets = readSecretsFile(secretsFile);
  // Uploaded as a Worker secret, it would clash with the store binding of the same name.
  const bound = Object.keys(secrets).filter((name) => target.storeSecrets.includes(name));
  if (bound.length > 0) {
    throw new StepFailed(
      `${secretsFile} holds ${bound.join(", ")}, which wrangler.toml binds from Secrets Store: remove it from the file`,
    );
  }
  return secrets;
}

function listQueues(target: Target, wrangler: Wrangler): Set<string> {
  const names = new Set<string>();
  for (let page = 1; page <= MAX_QUEUE_PAGES; page++) {
    const args = cmd.queueList(target, page);
    const found = queueNamesFromTable(expectSuccess(args, wrangler.read(args)));
    for (const name of found) names.add(name);
    if (found.length === 0 || target.queues.every((name) => names.has(name))) break;
  }
  return names;
}

/**
 * A first deploy that failed after wrangler created a KV namespace leaves it behind, and the
 * next attempt would fail creating it again (titles are unique). An empty one is removed;
 * one holding keys is never touched.
 */
function clearLeftoverNamespaces(target: Target, wrangler: Wrangler, log: (line: string) => void): void {
  if (target.kvNamespaces.length === 0) return;
  const namespaces = readJson<{ id: string; title: string }[]>(wrangler, cmd.kvList());
  for (const { title } of target.kvNamespaces) {
    const leftover = namespaces.find((namespace) => namespace.title === title);
    if (!leftover) {
      log(`  ${title}: none yet, the deploy creates it`);
      continue;
    }
    const keys = readJson<unknown[]>(wrangler, cmd.kvKeys(leftover.id));
    if (keys.length > 0) {
      throw new StepFailed(
        `KV namespace ${title} (${leftover.id}) exists and holds keys, but no worker ${target.worker} does: ` +
          "rename it (wrangler kv namespace rename) or delete it, then deploy again",
      );
    }
    log(`  ${title}: left empty by a failed first deploy, removed so that the deploy can create it`);
    wrangler.run(cmd.kvDelete(leftover.id));
  }
}
