// `npm run simulate -- <provider> <event> [options]` or `npm run simulate -- scenario <name>`:
// builds provider deliveries, signs them per docs/contract.md §2 with the local dev secrets and
// POSTs them to a running gateway, one output line per response and a summary at the end.
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { z } from "zod";
import {
  buildPayload,
  defaultSources,
  describePayload,
  EVENTS,
  isProviderName,
  newStory,
  PROVIDER_NAMES,
  type ProviderName,
  randomToken,
  resolveEvent,
  type StoryFields,
  seededRandom,
  toDottedForm,
} from "./payloads.ts";
import { type LoadedSecrets, loadSecrets, SECRET_BINDINGS, signatureHeaders, WRONG_SECRET } from "./sign.ts";

const PROJECT_ROOT = resolve(import.meta.dirname, "../..");
const SCENARIO_DIR = join(import.meta.dirname, "scenarios");
const DEFAULT_URL = "http://127.0.0.1:8787";
// Ten minutes: twice the gateway's default tolerance, so --stale/--future always fail it.
const SKEW_SECONDS = 600;
// Nova expects an answer within 10 s; a gateway slower than that counts as an error.
const REQUEST_TIMEOUT_MS = 10_000;

/** Bad input from the user: a message and exit code 2, never a stack trace. */
class UsageError extends Error {}
/** Nothing listens at the gateway URL: one hint line and exit code 1. */
class GatewayDown extends Error {}

// ─── arguments ───────────────────────────────────────────────────────────────────────

const FIELD_FLAGS = {
  subject: "subject",
  "context-key": "contextKey",
  "external-request-id": "externalRequestId",
  "connection-session-id": "connectionSessionId",
  "approval-request-id": "approvalRequestId",
  "transaction-id": "transactionId",
  "merchant-transaction-id": "merchantTransactionId",
  currency: "currency",
} as const satisfies Record<string, keyof StoryFields>;

const OPTIONS = {
  url: { type: "string" },
  "secrets-file": { type: "string" },
  repeat: { type: "string" },
  concurrency: { type: "string" },
  shuffle: { type: "boolean" },
  "duplicate-rate": { type: "string" },
  seed: { type: "string" },
  stale: { type: "boolean" },
  future: { type: "boolean" },
  "wrong-secret": { type: "boolean" },
  tamper: { type: "boolean" },
  "body-file": { type: "string" },
  "content-type": { type: "string" },
  form: { type: "boolean" },
  "event-id": { type: "string" },
  amount: { type: "string" },
  subject: { type: "string" },
  "context-key": { type: "string" },
  "external-request-id": { type: "string" },
  "connection-session-id": { type: "string" },
  "approval-request-id": { type: "string" },
  "transaction-id": { type: "string" },
  "merchant-transaction-id": { type: "string" },
  currency: { type: "string" },
  help: { type: "boolean", short: "h" },
} as const;

const parseCommandLine = (args: string[]) =>
  parseArgs({ args, options: OPTIONS, allowPositionals: true, strict: true });
type Flags = ReturnType<typeof parseCommandLine>["values"];

function usage(): string {
  const events = PROVIDER_NAMES.map((p) => `  ${p.padEnd(8)} ${EVENTS[p].join(", ")}`).join("\n");
  return `usage: npm run simulate -- <provider> <event> [options]
       npm run simulate -- scenario <file-or-name> [options]

providers and events:
${events}
scenarios: ${listScenarios().join(", ") || "(none)"}

options:
  --url URL                 gateway base URL (default $GATEWAY_URL, else ${DEFAULT_URL})
  --secrets-file PATH       sign with these secrets (dotenv or JSON, e.g. .secrets.staging.json)
                            instead of .dev.vars
  --repeat N                send N independent stories, side by side (default 1)
  --concurrency N           requests in flight at once (default 1)
  --shuffle                 send in random order
  --duplicate-rate R        0..1: re-send that share of deliveries byte-identical
  --seed N                  reproducible shuffle and re-sends
  --stale | --future        sign with a timestamp 10 minutes in the past | future
  --wrong-secret            sign with a secret the gateway does not have
  --tamper                  change one body byte after signing
  --body-file PATH          send this file's bytes instead of a generated body
  --content-type TYPE       Content-Type header (default application/json)
  --form                    Nuvei: send name-value pairs (result.status=…), not JSON
  --event-id ID             pin Nova eventId / Nuvouch id (the dedupe key)
  --subject, --context-key, --external-request-id, --connection-session-id,
  --approval-request-id, --transaction-id, --merchant-transaction-id,
  --amount, --currency      steer the story's shared fields`;
}

function listScenarios(): string[] {
  if (!existsSync(SCENARIO_DIR)) return [];
  return readdirSync(SCENARIO_DIR)
    .filter((name) => name.endsWith(".json"))
    .map((name) => name.slice(0, -".json".length))
    .sort();
}

function positiveInt(flag: string, value: string | undefined, max: number): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 1 || n > max) throw new UsageError(`--${flag} must be a whole number 1..${max}`);
  return n;
}

function rate(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (value.trim() === "" || !Number.isFinite(n) || n < 0 || n > 1)
    throw new UsageError("--duplicate-rate must be 0..1");
  return n;
}

function storyFlags(flags: Flags): Partial<StoryFields> {
  const fields: Partial<StoryFields> = {};
  for (const [flag, field] of Object.entries(FIELD_FLAGS)) {
    const value = flags[flag as keyof typeof FIELD_FLAGS];
    if (value !== undefined) (fields as Record<string, unknown>)[field] = value;
  }
  if (flags.amount !== undefined) {
    const amount = Number(flags.amount);
    if (!Number.isFinite(amount) || amount <= 0) throw new UsageError("--amount must be a positive number");
    fields.amount = amount;
  }
  return fields;
}

// ─── scenarios ───────────────────────────────────────────────────────────────────────

const Fields = z.strictObject({
  subject: z.string().min(1).optional(),
  contextKey: z.string().min(1).optional(),
  externalRequestId: z.string().min(1).optional(),
  connectionSessionId: z.string().min(1).optional(),
  approvalRequestId: z.string().min(1).optional(),
  transactionId: z.string().min(1).optional(),
  merchantTransactionId: z.string().min(1).optional(),
  amount: z.number().positive().optional(),
  currency: z.string().min(1).optional(),
});

const Step = z.strictObject({
  provider: z.enum(PROVIDER_NAMES),
  event: z.string().optional(),
  note: z.string().optional(),
  fields: Fields.default({}),
  /** Pins the dedupe key (Nova eventId, Nuvouch id); `{run}` expands as in fields. */
  eventId: z.string().min(1).optional(),
  /** New deliveries of this event in the same story (fresh ids, fresh timestamps). */
  repeat: z.int().min(1).default(1),
  /** Byte-identical copies of each delivery, as a provider's retry sends them. */
  copies: z.int().min(1).default(1),
  /** Pause before this step, so "late" means late. */
  delayMs: z.int().min(0).default(0),
  stale: z.boolean().default(false),
  future: z.boolean().default(false),
  wrongSecret: z.boolean().default(false),
  tamper: z.boolean().default(false),
  form: z.boolean().default(false),
  bodyFile: z.string().optional(),
  contentType: z.string().optional(),
});

const Scenario = z.strictObject({
  description: z.string().optional(),
  concurrency: z.int().min(1).max(256).default(1),
  shuffle: z.boolean().default(false),
  duplicateRate: z.number().min(0).max(1).default(0),
  seed: z.int().optional(),
  /** Shared by every step of one run; `{run}` becomes a token fresh for each run. */
  fields: Fields.default({}),
  steps: z.array(Step).min(1),
});

type Scenario = z.output<typeof Scenario>;
type Step = z.output<typeof Step>;

function loadScenario(nameOrPath: string): { scenario: Scenario; name: string; baseDir: string } {
  const direct = resolve(nameOrPath);
  const named = join(SCENARIO_DIR, nameOrPath.endsWith(".json") ? nameOrPath : `${nameOrPath}.json`);
  const file = [direct, named].find((path) => existsSync(path) && statSync(path).isFile());
  if (!file) {
    throw new UsageError(`unknown scenario "${nameOrPath}"; known: ${listScenarios().join(", ") || "(none)"}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, "utf8"));
  } catch (error) {
    throw new UsageError(`scenario ${file}: ${(error as Error).message}`);
  }
  const parsed = Scenario.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new UsageError(`scenario ${file}: ${issue?.path.join(".") || "(root)"}: ${issue?.message}`);
  }
  for (const [i, step] of parsed.data.steps.entries()) checkEvent(step, `scenario ${file}: steps.${i}: `);
  return { scenario: parsed.data, name: basename(file, ".json"), baseDir: dirname(file) };
}

/** Normalises `step.event` in place, or explains which events exist. */
function checkEvent(step: Step, where = ""): void {
  if (step.form && step.provider !== "nuvei") throw new UsageError(`${where}--form is for nuvei only`);
  if (step.stale && step.future) throw new UsageError(`${where}stale and future exclude each other`);
  if (step.event === undefined) {
    if (step.bodyFile === undefined) throw new UsageError(`${where}missing event; ${knownEvents(step.provider)}`);
    return;
  }
  const event = resolveEvent(step.provider, step.event);
  if (!event)
    throw new UsageError(`${where}unknown ${step.provider} event "${step.event}"; ${knownEvents(step.provider)}`);
  step.event = event;
}

const knownEvents = (provider: ProviderName) => `known ${provider} events: ${EVENTS[provider].join(", ")}`;

/** The command line as a one-step scenario, so both modes share one planner. */
function scenarioFromFlags(positionals: string[], flags: Flags): Scenario {
  const [provider, event, ...rest] = positionals;
  if (provider === undefined) throw new UsageError(usage());
  if (!isProviderName(provider)) {
    throw new UsageError(`unknown provider "${provider}"; known: ${PROVIDER_NAMES.join(", ")}, or "scenario <name>"`);
  }
  if (rest.length > 0) throw new UsageError(`unexpected argument "${rest[0]}"`);
  const step = Step.parse({
    provider,
    event,
    eventId: flags["event-id"],
    bodyFile: flags["body-file"],
    contentType: flags["content-type"],
    form: flags.form ?? false,
  });
  checkEvent(step);
  return Scenario.parse({ steps: [step] });
}

// ─── planning ────────────────────────────────────────────────────────────────────────

interface Planned {
  seq: number;
  provider: ProviderName;
  label: string;
  // ArrayBuffer-backed, as fetch's BodyInit requires (a Buffer may sit on a shared pool).
  body: Uint8Array<ArrayBuffer>;
  contentType: string;
  skewSeconds: number;
  wrongSecret: boolean;
  tamper: boolean;
  /** The seq of an earlier byte-identical delivery, when this is a re-send. */
  resendOf?: number;
}

interface Batch {
  title?: string;
  delayMs: number;
  deliveries: Planned[];
}

interface Settings {
  runs: number;
  concurrency: number;
  shuffle: boolean;
  duplicateRate: number;
  random: () => number;
  cliFields: Partial<StoryFields>;
  forced: { stale: boolean; future: boolean; wrongSecret: boolean; tamper: boolean };
}

const expand = <T>(value: T, run: string): T =>
  (typeof value === "string" ? value.replaceAll("{run}", run) : value) as T;

function expandFields(fields: Partial<StoryFields>, run: string): Partial<StoryFields> {
  return Object.fromEntries(Object.entries(fields).map(([key, value]) => [key, expand(value, run)]));
}

function stepDeliveries(step: Step, story: StoryFields, run: string, baseDir: string, settings: Settings) {
  const stale = step.stale || settings.forced.stale;
  const future = step.future || settings.forced.future;
  if (stale && future) throw new UsageError("--stale and --future exclude each other");
  const common = {
    seq: 0,
    provider: step.provider,
    skewSeconds: stale ? -SKEW_SECONDS : future ? SKEW_SECONDS : 0,
    wrongSecret: step.wrongSecret || settings.forced.wrongSecret,
    tamper: step.tamper || settings.forced.tamper,
  };
  const out: Planned[] = [];
  for (let i = 0; i < step.repeat; i++) {
    let body: Uint8Array<ArrayBuffer>;
    let contentType = step.contentType ?? "application/json";
    let label: string;
    if (step.bodyFile !== undefined) {
      const path = resolve(baseDir, step.bodyFile);
      if (!existsSync(path)) throw new UsageError(`--body-file: no such file ${path}`);
      body = new Uint8Array(readFileSync(path));
      label = `${step.event ?? "(body-file)"} ${basename(path)}`;
    } else {
      const event = step.event as string;
      const eventId = step.eventId === undefined ? undefined : expand(step.eventId, run);
      const payload = buildPayload(step.provider, event, story, eventId === undefined ? {} : { eventId });
      const text = step.form ? toDottedForm(payload) : JSON.stringify(payload);
      if (step.form) contentType = "application/x-www-form-urlencoded";
      body = new TextEncoder().encode(text);
      label = `${event} ${describePayload(step.provider, payload)}`;
    }
    for (let copy = 0; copy < step.copies; copy++) out.push({ ...common, label, body, contentType });
  }
  return out;
}

function shuffleInPlace<T>(items: T[], random: () => number): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [items[i], items[j]] = [items[j] as T, items[i] as T];
  }
  return items;
}

/** Each chosen delivery gets a byte-identical twin somewhere after it, as a provider retry. */
function withResends(items: Planned[], duplicateRate: number, random: () => number): Planned[] {
  if (duplicateRate <= 0) return items;
  // Sort keys instead of splicing: original i keeps key i, its twin lands in [i, n); the
  // stable sort keeps the original first on a tie. O(n log n) for large --repeat runs.
  const keyed = items.map((item, i) => ({ item, key: i }));
  for (const [i, item] of items.entries()) {
    if (random() < duplicateRate) keyed.push({ item: { ...item }, key: i + random() * (items.length - i) });
  }
  return keyed.sort((a, b) => a.key - b.key).map(({ item }) => item);
}

/**
 * One batch per scenario step, sent one after another so a story keeps its order; with
 * `--repeat`, every run's step N goes into batch N, so independent stories run side by side.
 */
function plan(scenario: Scenario, baseDir: string, settings: Settings): Batch[] {
  let batches: Batch[] = scenario.steps.map((step, i) => {
    const title = scenario.steps.length > 1 || step.note ? stepTitle(i, step, settings.runs) : undefined;
    return { ...(title === undefined ? {} : { title }), delayMs: step.delayMs, deliveries: [] };
  });
  for (let r = 0; r < settings.runs; r++) {
    const run = randomToken();
    const story = newStory({ ...expandFields(scenario.fields, run), ...settings.cliFields }, defaultSources, run);
    for (const [i, step] of scenario.steps.entries()) {
      const stepStory = { ...story, ...expandFields(step.fields, run), ...settings.cliFields };
      batches[i]?.deliveries.push(...stepDeliveries(step, stepStory, run, baseDir, settings));
    }
  }
  // Disorder spans the whole story: every step's deliveries go into one pool.
  if (settings.shuffle) {
    const all = shuffleInPlace(
      batches.flatMap((batch) => batch.deliveries),
      settings.random,
    );
    const title = batches.length > 1 ? "shuffled: step order and delays ignored" : undefined;
    batches = [{ ...(title === undefined ? {} : { title }), delayMs: 0, deliveries: all }];
  }
  for (const batch of batches)
    batch.deliveries = withResends(batch.deliveries, settings.duplicateRate, settings.random);
  numberDeliveries(batches);
  return batches;
}

function stepTitle(index: number, step: Step, runs: number): string {
  const what = [`${step.provider} ${step.event ?? "(body-file)"}`];
  if (step.repeat > 1) what.push(`×${step.repeat}`);
  if (step.copies > 1) what.push(`(${step.copies} identical copies)`);
  if (runs > 1) what.push(`in each of ${runs} stories`);
  if (step.delayMs > 0) what.push(`after ${step.delayMs}ms`);
  return `step ${index + 1}: ${what.join(" ")}${step.note ? ` — ${step.note}` : ""}`;
}

/**
 * Sequence numbers in send order; the first of several identical bodies is the original,
 * whichever step or shuffle produced it, and the later ones point back to it.
 */
function numberDeliveries(batches: Batch[]): void {
  const firstSeen = new Map<string, number>();
  let seq = 0;
  for (const batch of batches) {
    for (const [i, item] of batch.deliveries.entries()) {
      const numbered: Planned = { ...item, seq: ++seq };
      const key = `${item.provider}:${createHash("sha256").update(item.body).digest("hex")}`;
      const original = firstSeen.get(key);
      if (original === undefined) firstSeen.set(key, seq);
      else numbered.resendOf = original;
      batch.deliveries[i] = numbered;
    }
  }
}

// ─── sending ─────────────────────────────────────────────────────────────────────────

interface Outcome {
  delivery: Planned;
  status?: number;
  body?: string;
  error?: string;
  ms: number;
}

/** An attacker's edit: bump the last digit (an amount, an id), else flip one bit mid-body. */
function tampered(body: Uint8Array<ArrayBuffer>): Uint8Array<ArrayBuffer> {
  const copy = Uint8Array.from(body);
  for (let i = copy.length - 1; i >= 0; i--) {
    const c = copy[i] as number;
    if (c >= 0x30 && c <= 0x39) {
      copy[i] = 0x30 + ((c - 0x30 + 1) % 10);
      return copy;
    }
  }
  if (copy.length > 0) copy[copy.length >> 1] = (copy[copy.length >> 1] as number) ^ 0x01;
  return copy;
}

function isConnectionRefused(error: unknown): boolean {
  const cause = (error as { cause?: { code?: string; errors?: { code?: string }[] } })?.cause;
  return cause?.code === "ECONNREFUSED" || (cause?.errors ?? []).some((e) => e.code === "ECONNREFUSED");
}

async function send(delivery: Planned, baseUrl: URL, secrets: LoadedSecrets): Promise<Outcome> {
  // Signed when sent, not when planned: a delayed step or a re-send carries a fresh
  // timestamp, as a provider's retry does, so only --stale/--future are ever out of tolerance.
  const t = Math.floor(Date.now() / 1000) + delivery.skewSeconds;
  const secret = delivery.wrongSecret ? WRONG_SECRET : (secrets.secrets[delivery.provider][0] as string);
  const headers = {
    "content-type": delivery.contentType,
    "user-agent": "webhook-gateway-simulator/1",
    ...signatureHeaders(delivery.provider, delivery.body, secret, t),
  };
  const body = delivery.tamper ? tampered(delivery.body) : delivery.body;
  const started = performance.now();
  try {
    const response = await fetch(new URL(`webhooks/${delivery.provider}`, baseUrl), {
      method: "POST",
      headers,
      body,
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
    const text = await response.text();
    return { delivery, status: response.status, body: text, ms: performance.now() - started };
  } catch (error) {
    if (isConnectionRefused(error)) throw new GatewayDown();
    // fetch wraps the useful part ("ECONNRESET", "bad port") in `cause`.
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    const reason =
      (error as Error).name === "TimeoutError"
        ? "timeout"
        : (cause?.code ?? cause?.message ?? (error as Error).message);
    return { delivery, error: reason, ms: performance.now() - started };
  }
}

function formatOutcome(outcome: Outcome): string {
  const { delivery } = outcome;
  const status = outcome.status === undefined ? "ERR" : String(outcome.status);
  const resend = delivery.resendOf === undefined ? "" : ` (re-send of #${delivery.resendOf})`;
  const flags = [
    delivery.skewSeconds < 0 && "stale",
    delivery.skewSeconds > 0 && "future",
    delivery.wrongSecret && "wrong-secret",
    delivery.tamper && "tampered",
  ].filter(Boolean);
  const marks = flags.length > 0 ? ` [${flags.join(",")}]` : "";
  const answer = outcome.error ?? (outcome.body ?? "").replace(/\s+/g, " ").slice(0, 300);
  const ms = `${Math.round(outcome.ms)}ms`.padStart(6);
  return `#${String(delivery.seq).padEnd(4)} ${status} ${ms}  ${delivery.provider} ${delivery.label}${resend}${marks}  ${answer}`;
}

async function sendBatch(
  batch: Batch,
  concurrency: number,
  emit: (outcome: Outcome) => void,
  sendOne: (delivery: Planned) => Promise<Outcome>,
): Promise<void> {
  let next = 0;
  let down: GatewayDown | undefined;
  const worker = async () => {
    while (next < batch.deliveries.length && !down) {
      const delivery = batch.deliveries[next++] as Planned;
      try {
        emit(await sendOne(delivery));
      } catch (error) {
        if (error instanceof GatewayDown) down = error;
        else throw error;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, batch.deliveries.length) }, worker));
  if (down) throw down;
}

// ─── summary ─────────────────────────────────────────────────────────────────────────

function percentile(sorted: number[], p: number): number {
  return sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)] ?? 0;
}

function answerStatus(body: string | undefined): string | undefined {
  try {
    const status = (JSON.parse(body ?? "") as { status?: unknown }).status;
    return typeof status === "string" ? status : undefined;
  } catch {
    return undefined;
  }
}

function summary(outcomes: Outcome[], baseUrl: URL, elapsedMs: number): string {
  const byStatus = new Map<string, number>();
  for (const o of outcomes) {
    const key = o.status === undefined ? "ERR" : String(o.status);
    byStatus.set(key, (byStatus.get(key) ?? 0) + 1);
  }
  const resends = outcomes.filter((o) => o.delivery.resendOf !== undefined);
  const answeredDuplicate = outcomes.filter((o) => answerStatus(o.body) === "duplicate").length;
  // A re-send in flight together with its original can pass the KV fast path too; the
  // queue consumer's unique key is what dedupes those, so they are worth seeing.
  const acceptedPerBody = new Map<number, number>();
  for (const o of outcomes) {
    if (answerStatus(o.body) !== "accepted") continue;
    const original = o.delivery.resendOf ?? o.delivery.seq;
    acceptedPerBody.set(original, (acceptedPerBody.get(original) ?? 0) + 1);
  }
  const acceptedAgain = [...acceptedPerBody.values()].reduce((sum, n) => sum + n - 1, 0);
  const latencies = outcomes
    .filter((o) => o.status !== undefined)
    .map((o) => o.ms)
    .sort((a, b) => a - b);
  const statuses = [...byStatus.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([status, count]) => `${status}×${count}`)
    .join("  ");
  return [
    `── ${outcomes.length} ${outcomes.length === 1 ? "delivery" : "deliveries"} to ${baseUrl.origin} in ${(elapsedMs / 1000).toFixed(2)}s`,
    `   by status   ${statuses || "(none)"}`,
    `   duplicates  ${resends.length} re-sent byte-identical, ${answeredDuplicate} answered "duplicate"` +
      (acceptedAgain > 0 ? `, ${acceptedAgain} accepted more than once (raced their twin)` : ""),
    latencies.length > 0
      ? `   latency     p50 ${percentile(latencies, 50).toFixed(1)}ms  p99 ${percentile(latencies, 99).toFixed(1)}ms`
      : "   latency     (no responses)",
  ].join("\n");
}

// ─── main ────────────────────────────────────────────────────────────────────────────

function parseBaseUrl(raw: string): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new UsageError(`--url: not a URL: ${raw}`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") throw new UsageError("--url must be http(s)");
  // A trailing slash makes `webhooks/<provider>` resolve below any path prefix.
  if (!url.pathname.endsWith("/")) url.pathname += "/";
  return url;
}

async function main(argv: string[]): Promise<number> {
  let parsed: ReturnType<typeof parseCommandLine>;
  try {
    parsed = parseCommandLine(argv);
  } catch (error) {
    throw new UsageError(`${(error as Error).message}\n\n${usage()}`);
  }
  const { values: flags, positionals } = parsed;
  if (flags.help) {
    console.log(usage());
    return 0;
  }

  const scenarioMode = positionals[0] === "scenario";
  let scenario: Scenario;
  let baseDir = process.cwd();
  if (scenarioMode) {
    if (positionals.length !== 2)
      throw new UsageError(`usage: scenario <file-or-name>; known: ${listScenarios().join(", ")}`);
    const singleOnly = (["event-id", "body-file", "content-type", "form"] as const).filter(
      (f) => flags[f] !== undefined,
    );
    if (singleOnly.length > 0) {
      throw new UsageError(
        `--${singleOnly.join(", --")}: for a single event, not a scenario (set it in the scenario's steps)`,
      );
    }
    const loaded = loadScenario(positionals[1] as string);
    scenario = loaded.scenario;
    baseDir = loaded.baseDir;
    console.log(`scenario ${loaded.name}${scenario.description ? `: ${scenario.description}` : ""}`);
  } else {
    scenario = scenarioFromFlags(positionals, flags);
  }

  const seed = flags.seed === undefined ? scenario.seed : Number(flags.seed);
  if (seed !== undefined && !Number.isInteger(seed)) throw new UsageError("--seed must be an integer");
  const settings: Settings = {
    runs: positiveInt("repeat", flags.repeat, 100_000) ?? 1,
    concurrency: positiveInt("concurrency", flags.concurrency, 256) ?? scenario.concurrency,
    shuffle: flags.shuffle ?? scenario.shuffle,
    duplicateRate: rate(flags["duplicate-rate"]) ?? scenario.duplicateRate,
    random: seed === undefined ? defaultSources.random : seededRandom(seed),
    cliFields: storyFlags(flags),
    forced: {
      stale: flags.stale ?? false,
      future: flags.future ?? false,
      wrongSecret: flags["wrong-secret"] ?? false,
      tamper: flags.tamper ?? false,
    },
  };
  const target = flags.url ?? process.env.GATEWAY_URL ?? DEFAULT_URL;
  const baseUrl = parseBaseUrl(target);

  let secrets: LoadedSecrets;
  try {
    secrets = loadSecrets(PROJECT_ROOT, flags["secrets-file"]);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const batches = plan(scenario, baseDir, settings);
  for (const provider of new Set(
    batches.flatMap((b) => b.deliveries.filter((d) => !d.wrongSecret).map((d) => d.provider)),
  )) {
    if (secrets.secrets[provider].length === 0) {
      throw new UsageError(`no ${provider} secret: set ${SECRET_BINDINGS[provider]} in ${secrets.file}`);
    }
  }

  const outcomes: Outcome[] = [];
  const started = performance.now();
  const sendOne = (delivery: Planned) => send(delivery, baseUrl, secrets);
  try {
    for (const batch of batches) {
      if (batch.delayMs > 0) await new Promise((done) => setTimeout(done, batch.delayMs));
      if (batch.title) console.log(`· ${batch.title}`);
      await sendBatch(
        batch,
        settings.concurrency,
        (outcome) => {
          outcomes.push(outcome);
          console.log(formatOutcome(outcome));
        },
        sendOne,
      );
    }
  } catch (error) {
    if (error instanceof GatewayDown) {
      console.error(`no gateway at ${target}: start it with \`npm run dev\``);
      return 1;
    }
    throw error;
  }
  console.log(summary(outcomes, baseUrl, performance.now() - started));
  // Answers of any status are results; only deliveries that got no answer are failures.
  return outcomes.some((o) => o.status === undefined) ? 1 : 0;
}

if (import.meta.main) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      if (error instanceof UsageError) {
        console.error(error.message);
        process.exitCode = 2;
      } else {
        console.error(error);
        process.exitCode = 1;
      }
    },
  );
}
