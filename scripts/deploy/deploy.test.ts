// The deploy script against a stub `wrangler` on PATH (./fake-wrangler.ts) that plays an
// account: empty, already set up, partly set up. Run with the other script tests
// (`npm run test:scripts`), or alone: `node --test scripts/deploy/*.test.ts` with Node 22.
// Offline: nothing here reaches Cloudflare.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { after, describe, it } from "node:test";
import { Webhook } from "standardwebhooks";
import { unstable_readConfig } from "wrangler";
import type { FakeAccount } from "./fake-wrangler.ts";
import { isIgnoredOrOutsideGit } from "./secrets.ts";
import { readTarget, type Target } from "./target.ts";
import { queueNamesFromTable } from "./wrangler.ts";

const ROOT = resolve(import.meta.dirname, "../..");
const work = mkdtempSync(join(tmpdir(), "deploy-test-"));
after(() => rmSync(work, { recursive: true, force: true }));

const staging = readTarget("staging", join(ROOT, "wrangler.toml"));
const production = readTarget("production", join(ROOT, "wrangler.toml"));

// The stub, under the name `wrangler`, first on PATH.
const bin = join(work, "bin");
mkdirSync(bin);
writeFileSync(
  join(bin, "wrangler"),
  `#!/bin/sh\nexec "${process.execPath}" "${join(import.meta.dirname, "fake-wrangler.ts")}" "$@"\n`,
  { mode: 0o755 },
);

function fakeEnvironment(target: Target) {
  const consumers = target.queues.filter((queue) => queue !== target.queues[0]);
  return {
    worker: target.worker,
    database: target.database.name,
    producerQueues: [target.queues[0] as string],
    consumerQueues: consumers.concat(target.queues[0] as string),
    kv: target.kvNamespaces,
  };
}

function emptyAccount(): FakeAccount {
  return {
    environments: { "": fakeEnvironment(production), staging: fakeEnvironment(staging) },
    migrations: staging.database.migrations,
    // Small pages, so that finding a queue past the first page is exercised.
    queuePageSize: 2,
    queues: [],
    databases: [],
    kvNamespaces: [],
    workers: {},
    deploys: [],
    failDeploysAfterProvisioning: 0,
    nextId: 1,
  };
}

let runs = 0;
/**
 * One `npm run deploy -- …` against `account` (the state carries over between calls with the same
 * dir), from `cwd`, whose wrangler.toml the script reads.
 */
function deploy(args: string[], account: FakeAccount | string, cwd = ROOT) {
  const dir = typeof account === "string" ? account : join(work, `account-${++runs}`);
  if (typeof account !== "string") {
    mkdirSync(dir);
    writeFileSync(join(dir, "state.json"), JSON.stringify(account));
  }
  writeFileSync(join(dir, "calls.log"), "");
  const result = spawnSync(process.execPath, [join(import.meta.dirname, "cli.ts"), ...args], {
    cwd,
    encoding: "utf8",
    env: {
      ...process.env,
      PATH: `${bin}:${process.env.PATH ?? ""}`,
      FAKE_WRANGLER_STATE: join(dir, "state.json"),
      FAKE_WRANGLER_LOG: join(dir, "calls.log"),
    },
  });
  const calls = readFileSync(join(dir, "calls.log"), "utf8")
    .split("\n")
    .filter(Boolean)
    .map((line) => (JSON.parse(line) as string[]).join(" "));
  const state = JSON.parse(readFileSync(join(dir, "state.json"), "utf8")) as FakeAccount;
  return { ...result, calls, state, dir };
}

const secretsPath = (name: string) => join(work, name);
const changes = (calls: string[]) =>
  calls.filter((call) => /^(queues create|d1 create|d1 migrations apply|deploy|kv namespace delete)\b/.test(call));

describe("an empty account, then the same account again", () => {
  const secretsFile = secretsPath("staging-first.json");
  const first = deploy(["--env", "staging", "--secrets-file", secretsFile], emptyAccount());
  const fileAfterFirst = readFileSync(secretsFile, "utf8");
  const second = deploy(["--env", "staging", "--secrets-file", secretsFile], first.dir);

  it("the first run creates the queues, the DLQ and the database, migrates, then deploys", () => {
    assert.equal(first.status, 0, first.stderr + first.stdout);
    assert.deepEqual(changes(first.calls), [
      "queues create webhook-events-staging --env=staging",
      "queues create webhook-events-staging-dlq --env=staging",
      "d1 create webhook-gateway-staging --env=staging",
      "d1 migrations apply DB --remote --env=staging",
      `deploy --env=staging --secrets-file ${secretsFile}`,
    ]);
    assert.deepEqual(first.state.queues.sort(), ["webhook-events-staging", "webhook-events-staging-dlq"]);
    assert.deepEqual(
      first.state.kvNamespaces.map((ns) => ns.title),
      ["edge-webhook-gateway-staging-dedupe-kv"],
    );
  });

  it("no version of the worker ever ran against an incomplete schema", () => {
    assert.deepEqual(first.state.deploys, [
      {
        worker: "edge-webhook-gateway-staging",
        migrationsApplied: staging.database.migrations.length,
        secrets: ["ADMIN_API_TOKEN", "FORWARD_SIGNING_SECRET"],
      },
    ]);
  });

  it("generates the admin token and the whsec_ secret into a private file and says where", () => {
    const secrets = JSON.parse(fileAfterFirst) as Record<string, string>;
    assert.deepEqual(Object.keys(secrets).sort(), ["ADMIN_API_TOKEN", "FORWARD_SIGNING_SECRET"]);
    // What src/admin/auth.ts accepts as a bearer token, 256 bits of it.
    assert.match(secrets.ADMIN_API_TOKEN as string, /^[A-Za-z0-9._~+/-]{43,}=*$/);
    // The standardwebhooks library accepts it as a signing secret.
    assert.doesNotThrow(() => new Webhook(secrets.FORWARD_SIGNING_SECRET as string).sign("msg_1", new Date(), "{}"));
    assert.match(secrets.FORWARD_SIGNING_SECRET as string, /^whsec_[A-Za-z0-9+/]{43}=$/);
    assert.equal(statSync(secretsFile).mode & 0o777, 0o600);
    assert.match(
      first.stdout,
      new RegExp(`generated ADMIN_API_TOKEN and FORWARD_SIGNING_SECRET: written to ${secretsFile}`),
    );
    assert.deepEqual(first.state.workers["edge-webhook-gateway-staging"]?.secrets, secrets);
    // The provider secrets cannot be made up: the run names them.
    assert.match(first.stdout, /not set yet: NOVA_WEBHOOK_SECRET, NUVEI_WEBHOOK_SECRET, NUVOUCH_CALLBACK_SECRET/);
  });

  it("the second run creates, applies and generates nothing, and only uploads the code again", () => {
    assert.equal(second.status, 0, second.stderr + second.stdout);
    assert.deepEqual(changes(second.calls), [
      "d1 migrations apply DB --remote --env=staging",
      `deploy --env=staging --secrets-file ${secretsFile}`,
    ]);
    assert.equal(readFileSync(secretsFile, "utf8"), fileAfterFirst);
    const { deploys: deploysBefore, workers: workersBefore, ...before } = first.state;
    const { deploys, workers, ...afterwards } = second.state;
    assert.deepEqual(afterwards, before, "queues, databases, migrations and KV are unchanged");
    assert.deepEqual(workers["edge-webhook-gateway-staging"], {
      ...workersBefore["edge-webhook-gateway-staging"],
      versions: 2,
    });
    assert.deepEqual(deploys.slice(0, 1), deploysBefore);
    assert.doesNotMatch(second.stdout, /generated/);
    assert.doesNotMatch(second.stdout, /first deploy/);
  });
});

describe("a partly set-up account", () => {
  it("creates only the missing DLQ, applies only the missing migrations, keeps a secret set by hand", () => {
    const account = emptyAccount();
    account.queues = ["unrelated-1", "unrelated-2", "webhook-events-staging"];
    account.databases = [
      { name: "webhook-gateway-staging", uuid: "db1", applied: staging.database.migrations.slice(0, 2) },
    ];
    account.kvNamespaces = [
      { id: "kv1", title: "edge-webhook-gateway-staging-dedupe-kv", keys: ["dedupe:nova:evt_1"] },
    ];
    account.workers["edge-webhook-gateway-staging"] = {
      versions: 1,
      secrets: { ADMIN_API_TOKEN: "set-by-hand" },
      kv: { DEDUPE_KV: "kv1" },
    };
    const secretsFile = secretsPath("staging-partial.json");
    writeFileSync(secretsFile, JSON.stringify({ NOVA_WEBHOOK_SECRET: "nova_staging_secret" }));

    const run = deploy(["--env", "staging", "--secrets-file", secretsFile], account);
    assert.equal(run.status, 0, run.stderr + run.stdout);
    assert.deepEqual(changes(run.calls), [
      "queues create webhook-events-staging-dlq --env=staging",
      "d1 migrations apply DB --remote --env=staging",
      `deploy --env=staging --secrets-file ${secretsFile}`,
    ]);
    // The queue on the second page of the listing was found, not created again.
    assert.ok(run.calls.includes("queues list --env=staging --page 2"));
    assert.deepEqual(run.state.databases[0]?.applied, staging.database.migrations);
    const file = JSON.parse(readFileSync(secretsFile, "utf8")) as Record<string, string>;
    assert.deepEqual(Object.keys(file).sort(), ["FORWARD_SIGNING_SECRET", "NOVA_WEBHOOK_SECRET"]);
    assert.deepEqual(run.state.workers["edge-webhook-gateway-staging"], {
      versions: 2,
      secrets: { ADMIN_API_TOKEN: "set-by-hand", ...file },
      kv: { DEDUPE_KV: "kv1" },
    });
    assert.match(run.stdout, /ADMIN_API_TOKEN: already set on the worker, kept/);
    // An existing worker's KV namespace is its own: never looked at, never touched.
    assert.ok(!run.calls.some((call) => call.startsWith("kv ")));
  });

  it("after a first deploy that failed half-way, removes the empty KV namespace it left and completes", () => {
    const account = emptyAccount();
    account.failDeploysAfterProvisioning = 1;
    const secretsFile = secretsPath("staging-failed.json");
    const failed = deploy(["--env", "staging", "--secrets-file", secretsFile], account);
    assert.equal(failed.status, 1);
    assert.match(
      failed.stderr,
      /^deploy stopped: `wrangler deploy --env=staging --secrets-file .*` failed \(exit 1\)$/m,
    );
    assert.equal(failed.state.workers["edge-webhook-gateway-staging"], undefined);
    const [leftover] = failed.state.kvNamespaces;
    assert.equal(leftover?.title, "edge-webhook-gateway-staging-dedupe-kv");
    const secrets = readFileSync(secretsFile, "utf8");

    const retry = deploy(["--env", "staging", "--secrets-file", secretsFile], failed.dir);
    assert.equal(retry.status, 0, retry.stderr + retry.stdout);
    assert.deepEqual(changes(retry.calls), [
      `kv namespace delete --namespace-id ${leftover.id} --skip-confirmation`,
      "d1 migrations apply DB --remote --env=staging",
      `deploy --env=staging --secrets-file ${secretsFile}`,
    ]);
    assert.equal(readFileSync(secretsFile, "utf8"), secrets, "the secrets generated by the failed run are kept");
    assert.equal(retry.state.kvNamespaces.length, 1);
    assert.equal(retry.state.workers["edge-webhook-gateway-staging"]?.kv.DEDUPE_KV, retry.state.kvNamespaces[0]?.id);
  });

  it("stops before changing anything when a namespace of that name holds keys but the worker does not exist", () => {
    const account = emptyAccount();
    account.kvNamespaces = [{ id: "kv9", title: "edge-webhook-gateway-staging-dedupe-kv", keys: ["something"] }];
    const run = deploy(["--env", "staging", "--secrets-file", secretsPath("staging-keys.json")], account);
    assert.equal(run.status, 1);
    assert.match(run.stderr, /KV namespace edge-webhook-gateway-staging-dedupe-kv \(kv9\) exists and holds keys/);
    assert.deepEqual(changes(run.calls), []);
    assert.deepEqual(run.state.kvNamespaces, account.kvNamespaces);
  });
});

describe("environments", () => {
  it("production (the top level) and staging share no worker, queue, database, KV namespace or secrets file", () => {
    const account = emptyAccount();
    const prodFile = secretsPath("prod.json");
    const stagingFile = secretsPath("staging-both.json");
    const prod = deploy(["--env", "production", "--secrets-file", prodFile], account);
    assert.equal(prod.status, 0, prod.stderr + prod.stdout);
    assert.ok(prod.calls.every((call) => call.includes("--env=") || call.startsWith("kv ")));
    assert.ok(prod.calls.every((call) => !call.includes("--env=staging")));
    const both = deploy(["--env", "staging", "--secrets-file", stagingFile], prod.dir);
    assert.equal(both.status, 0, both.stderr + both.stdout);
    assert.deepEqual(both.state.queues.sort(), [
      "webhook-events",
      "webhook-events-dlq",
      "webhook-events-staging",
      "webhook-events-staging-dlq",
    ]);
    assert.deepEqual(both.state.databases.map((db) => db.name).sort(), ["webhook-gateway", "webhook-gateway-staging"]);
    const workers = both.state.workers;
    assert.notEqual(
      workers["edge-webhook-gateway"]?.kv.DEDUPE_KV,
      workers["edge-webhook-gateway-staging"]?.kv.DEDUPE_KV,
    );
    assert.notEqual(
      workers["edge-webhook-gateway"]?.secrets.ADMIN_API_TOKEN,
      workers["edge-webhook-gateway-staging"]?.secrets.ADMIN_API_TOKEN,
    );
  });

  it("wrangler.toml commits no resource id and gives each environment the same settings under its own names", () => {
    const toml = readFileSync(join(ROOT, "wrangler.toml"), "utf8");
    assert.doesNotMatch(toml, /^\s*(id|database_id|preview_id|preview_database_id)\s*=/m);
    assert.doesNotMatch(toml, /REPLACE_WITH/);
    const read = (env?: string) =>
      unstable_readConfig({ config: join(ROOT, "wrangler.toml"), env }, { hideWarnings: true });
    const [prod, stage] = [read(), read("staging")];
    assert.notEqual(prod.name, stage.name);
    assert.notEqual(production.database.name, staging.database.name);
    assert.ok(staging.queues.every((queue) => !production.queues.includes(queue)));
    // Wrangler does not inherit vars or bindings into an environment: staging repeats them.
    assert.deepEqual(stage.vars, prod.vars);
    assert.deepEqual(stage.triggers, prod.triggers);
    assert.deepEqual(prod.triggers.crons, ["*/5 * * * *", "17 3 * * *"]);
    assert.deepEqual(
      stage.kv_namespaces.map((kv: { binding: string }) => kv.binding),
      prod.kv_namespaces.map((kv: { binding: string }) => kv.binding),
    );
    const settings = (config: typeof prod) =>
      (config.queues.consumers as { queue: string; dead_letter_queue?: string }[]).map(
        ({ queue, dead_letter_queue, ...rest }) => ({
          ...rest,
          // src/queue/consumer.ts knows the dead-letter queue by its "-dlq" suffix.
          dlq: dead_letter_queue === undefined ? queue.endsWith("-dlq") : dead_letter_queue === `${queue}-dlq`,
        }),
      );
    assert.deepEqual(settings(stage), settings(prod));
    assert.ok(settings(prod).every((consumer) => consumer.dlq));
  });
});

describe("refusals", () => {
  it("--dry-run prints every command a first deploy runs, and runs none", () => {
    const secretsFile = secretsPath("dry.json");
    const dry = deploy(["--env", "staging", "--dry-run", "--secrets-file", secretsFile], emptyAccount());
    assert.equal(dry.status, 0, dry.stderr);
    assert.deepEqual(dry.calls, []);
    assert.throws(() => statSync(secretsFile), "the dry run writes no secrets file");
    const real = deploy(["--env", "staging", "--secrets-file", secretsPath("dry-real.json")], emptyAccount());
    for (const call of real.calls) {
      const printed = call.replace(secretsPath("dry-real.json"), secretsFile);
      assert.ok(dry.stdout.includes(`$ wrangler ${printed}`), `the dry run does not print: wrangler ${printed}`);
    }
  });

  it("a malformed secrets file or an unknown environment stops before any wrangler call, in one line", () => {
    const bad = secretsPath("bad.json");
    writeFileSync(bad, JSON.stringify({ ADMIN_API_TOKEN: "" }));
    const empty = deploy(["--env", "staging", "--secrets-file", bad], emptyAccount());
    assert.equal(empty.status, 1);
    assert.equal(
      empty.stderr.trim(),
      `deploy stopped: ${bad}: ADMIN_API_TOKEN must be a non-empty string (remove the line to leave it unset)`,
    );
    assert.deepEqual(empty.calls, []);

    writeFileSync(bad, "{not json");
    const garbled = deploy(["--env", "staging", "--secrets-file", bad], emptyAccount());
    assert.equal(garbled.status, 1);
    assert.match(garbled.stderr, /is not valid JSON/);
    assert.deepEqual(garbled.calls, []);

    const unknown = deploy(["--env", "prod"], emptyAccount());
    assert.equal(unknown.status, 2);
    assert.match(unknown.stderr, /^--env must be staging or production/);
    assert.deepEqual(unknown.calls, []);
  });

  it("refuses a secrets file git would commit; one that is ignored or outside any repository is fine", () => {
    const repo = join(work, "repo");
    mkdirSync(repo);
    spawnSync("git", ["init", "-q"], { cwd: repo });
    writeFileSync(join(repo, ".gitignore"), ".secrets.*.json\n");
    assert.equal(isIgnoredOrOutsideGit(join(repo, ".secrets.staging.json")), true);
    assert.equal(isIgnoredOrOutsideGit(join(repo, "secrets.json")), false);
    assert.equal(isIgnoredOrOutsideGit(join(work, "outside.json")), true);
    // The project's own default names are ignored.
    assert.equal(isIgnoredOrOutsideGit(join(ROOT, ".secrets.production.json")), true);
  });
});

describe("secrets bound from Secrets Store", () => {
  // A copy of the project's wrangler.toml whose staging binds two secrets from a store.
  const storeDir = join(work, "store-config");
  mkdirSync(storeDir);
  symlinkSync(join(ROOT, "migrations"), join(storeDir, "migrations"));
  const STORE_BOUND = ["ADMIN_API_TOKEN", "NUVOUCH_CALLBACK_SECRET"];
  writeFileSync(
    join(storeDir, "wrangler.toml"),
    `${readFileSync(join(ROOT, "wrangler.toml"), "utf8")}\n${STORE_BOUND.map(
      (name) =>
        `[[env.staging.secrets_store_secrets]]\nbinding = "${name}"\nstore_id = "store1"\nsecret_name = "${name.toLowerCase()}-staging"\n`,
    ).join("\n")}`,
  );
  const storeDeploy = (args: string[], account: FakeAccount | string) => deploy(args, account, storeDir);

  it("readTarget names the environment's store bindings, and only that environment's", () => {
    assert.deepEqual(readTarget("staging", join(storeDir, "wrangler.toml")).storeSecrets, STORE_BOUND);
    assert.deepEqual(readTarget("production", join(storeDir, "wrangler.toml")).storeSecrets, []);
    assert.deepEqual(staging.storeSecrets, []);
  });

  it("a store-bound secret is neither generated into the file nor reported as not set yet", () => {
    const secretsFile = secretsPath("store-first.json");
    const run = storeDeploy(["--env", "staging", "--secrets-file", secretsFile], emptyAccount());
    assert.equal(run.status, 0, run.stderr + run.stdout);
    assert.deepEqual(Object.keys(JSON.parse(readFileSync(secretsFile, "utf8"))), ["FORWARD_SIGNING_SECRET"]);
    assert.deepEqual(run.state.deploys.at(-1)?.secrets, ["FORWARD_SIGNING_SECRET"]);
    assert.match(run.stdout, /generated FORWARD_SIGNING_SECRET: written to/);
    assert.match(
      run.stdout,
      /from Secrets Store \(\[\[secrets_store_secrets\]\]\): ADMIN_API_TOKEN, NUVOUCH_CALLBACK_SECRET/,
    );
    const unset = run.stdout.split("\n").find((line) => line.includes("not set yet:")) ?? "";
    assert.match(unset, /NOVA_WEBHOOK_SECRET, NUVEI_WEBHOOK_SECRET, NUVOUCH_INTEGRATOR_API_KEY;/);

    const dry = storeDeploy(
      ["--env", "staging", "--dry-run", "--secrets-file", secretsPath("store-dry.json")],
      emptyAccount(),
    );
    assert.equal(dry.status, 0, dry.stderr);
    assert.match(dry.stdout, /then generate FORWARD_SIGNING_SECRET into/);
  });

  it("a secrets file holding a store-bound name stops before any wrangler call, in one line", () => {
    const secretsFile = secretsPath("store-clash.json");
    writeFileSync(secretsFile, JSON.stringify({ ADMIN_API_TOKEN: "tok", NOVA_WEBHOOK_SECRET: "nova" }));
    for (const extra of [[], ["--dry-run"]]) {
      const run = storeDeploy(["--env", "staging", ...extra, "--secrets-file", secretsFile], emptyAccount());
      assert.equal(run.status, 1);
      assert.equal(
        run.stderr,
        `deploy stopped: ${secretsFile} holds ADMIN_API_TOKEN, which wrangler.toml binds from Secrets Store: remove it from the file\n`,
      );
      assert.deepEqual(run.calls, []);
    }
  });

  it("says so when a store-bound name is still a Worker secret on the worker", () => {
    const account = emptyAccount();
    account.workers["edge-webhook-gateway-staging"] = { versions: 1, secrets: { ADMIN_API_TOKEN: "old" }, kv: {} };
    const run = storeDeploy(["--env", "staging", "--secrets-file", secretsPath("store-left.json")], account);
    assert.equal(run.status, 0, run.stderr + run.stdout);
    assert.match(run.stdout, /ADMIN_API_TOKEN is also a Worker secret, .*: wrangler secret delete ADMIN_API_TOKEN/);
  });
});

describe("reading wrangler's output", () => {
  it("takes queue names from the name column of the table, whatever the column order", () => {
    const table = [
      "┌──────┬──────────────────┬───────────┐",
      "│ id   │ name             │ consumers │",
      "├──────┼──────────────────┼───────────┤",
      "│ q1   │ webhook-events   │ 1         │",
      "│ q2   │ \x1b[1mname-with-ansi\x1b[0m   │ 0         │",
      "└──────┴──────────────────┴───────────┘",
    ].join("\n");
    assert.deepEqual(queueNamesFromTable(table), ["webhook-events", "name-with-ansi"]);
    assert.deepEqual(queueNamesFromTable("┌┐\n└┘"), []);
    assert.throws(() => queueNamesFromTable("│ a │ b │\n│ c │ d │"), /unexpected `wrangler queues list` output/);
  });
});
