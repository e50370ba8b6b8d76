// Scenarios: a story told in steps, from a JSON file in ./scenarios or the command line. A step
// delivers a provider's event, or acts around the deliveries: an operator API call, a call to the
// fake Nuvouch, the five-minute cron, or polling an operator route until it shows a state.
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { z } from "zod";
import { describeIssues } from "../../src/issues.ts";
import { isProviderName, PROVIDER_NAMES, type ProviderName, simulators } from "../../src/providers/simulators.node.ts";
import { type Flags, UsageError, usage } from "./arguments.ts";

export const SCENARIO_DIR = join(import.meta.dirname, "scenarios");

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

const common = {
  note: z.string().optional(),
  /** Pause before this step, so "late" means late. */
  delayMs: z.int().min(0).default(0),
};

export const DeliveryStep = z.strictObject({
  ...common,
  provider: z.enum(PROVIDER_NAMES),
  event: z.string().optional(),
  fields: Fields.default({}),
  /** Pins the dedupe key (Nova eventId, Nuvouch id); `{run}` expands as in fields. */
  eventId: z.string().min(1).optional(),
  /** New deliveries of this event in the same story (fresh ids, fresh timestamps). */
  repeat: z.int().min(1).default(1),
  /** Byte-identical copies of each delivery, as a provider's retry sends them. */
  copies: z.int().min(1).default(1),
  stale: z.boolean().default(false),
  future: z.boolean().default(false),
  wrongSecret: z.boolean().default(false),
  tamper: z.boolean().default(false),
  form: z.boolean().default(false),
  xml: z.boolean().default(false),
  bodyFile: z.string().optional(),
  contentType: z.string().optional(),
});

// In an action's path and body, `{name}` is the story's field or a value saved by an earlier
// step (URI-encoded in a path), and `{now+N}` the ISO time N seconds from when the step runs.
const CallStep = z.strictObject({
  ...common,
  /** `operator`: the gateway's operator API, with ADMIN_API_TOKEN; `nuvouch`: the fake Nuvouch. */
  call: z.enum(["operator", "nuvouch"]),
  method: z.enum(["GET", "POST"]).default("POST"),
  path: z.string().startsWith("/"),
  body: z.unknown().optional(),
  /** The statuses that let the story go on; any other ends the run. */
  expect: z.array(z.int().min(100).max(599)).min(1).default([200, 201, 202]),
  /** Values the next steps use: name → dotted path in the JSON answer. */
  save: z.record(z.string().regex(/^\w+$/), z.string().min(1)).default({}),
});

const CronStep = z.strictObject({
  ...common,
  /** A cron of wrangler.toml's [triggers], fired through `wrangler dev`'s scheduled route. */
  cron: z.string().min(1),
});

const PollStep = z.strictObject({
  ...common,
  /** An operator route, read until its JSON answer holds every dotted path of `until`. */
  poll: z.string().startsWith("/"),
  until: z.record(z.string(), z.unknown()),
  timeoutMs: z.int().min(1).max(600_000).default(30_000),
});

export const Step = z.union([DeliveryStep, CallStep, CronStep, PollStep]);

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

export type Scenario = z.output<typeof Scenario>;
export type Step = z.output<typeof Step>;
export type DeliveryStep = z.output<typeof DeliveryStep>;
export type CallStep = z.output<typeof CallStep>;
export type CronStep = z.output<typeof CronStep>;
export type PollStep = z.output<typeof PollStep>;
export type ActionStep = CallStep | CronStep | PollStep;

export const isDelivery = (step: Step): step is DeliveryStep => "provider" in step;

export function listScenarios(): string[] {
  if (!existsSync(SCENARIO_DIR)) return [];
  return readdirSync(SCENARIO_DIR)
    .filter((name) => name.endsWith(".json"))
    .map((name) => name.slice(0, -".json".length))
    .sort();
}

export function loadScenario(nameOrPath: string): { scenario: Scenario; name: string; baseDir: string } {
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
  if (!parsed.success) throw new UsageError(`scenario ${file}: ${describeIssues(parsed.error, 1)}`);
  for (const [i, step] of parsed.data.steps.entries()) {
    if (isDelivery(step)) checkEvent(step, `scenario ${file}: steps.${i}: `);
  }
  return { scenario: parsed.data, name: basename(file, ".json"), baseDir: dirname(file) };
}

/** Normalises `step.event` in place, or explains which events exist. */
function checkEvent(step: DeliveryStep, where = ""): void {
  const simulator = simulators[step.provider];
  if (step.form && !("formBody" in simulator)) throw new UsageError(`${where}--form is for nuvei only`);
  if (step.xml && !("xmlBody" in simulator)) throw new UsageError(`${where}--xml is for nuvei only`);
  if (step.form && step.xml) throw new UsageError(`${where}form and xml exclude each other`);
  if (step.stale && step.future) throw new UsageError(`${where}stale and future exclude each other`);
  if (step.event === undefined) {
    if (step.bodyFile === undefined) throw new UsageError(`${where}missing event; ${knownEvents(step.provider)}`);
    return;
  }
  const event = simulator.resolve(step.event);
  if (!event)
    throw new UsageError(`${where}unknown ${step.provider} event "${step.event}"; ${knownEvents(step.provider)}`);
  step.event = event;
}

const knownEvents = (provider: ProviderName) => `known ${provider} events: ${simulators[provider].events.join(", ")}`;

/** The command line as a one-step scenario, so both modes share one planner. */
export function scenarioFromFlags(positionals: string[], flags: Flags): Scenario {
  const [provider, event, ...rest] = positionals;
  if (provider === undefined) throw new UsageError(usage(listScenarios()));
  if (!isProviderName(provider)) {
    throw new UsageError(`unknown provider "${provider}"; known: ${PROVIDER_NAMES.join(", ")}, or "scenario <name>"`);
  }
  if (rest.length > 0) throw new UsageError(`unexpected argument "${rest[0]}"`);
  const step = DeliveryStep.parse({
    provider,
    event,
    eventId: flags["event-id"],
    bodyFile: flags["body-file"],
    contentType: flags["content-type"],
    form: flags.form ?? false,
    xml: flags.xml ?? false,
  });
  checkEvent(step);
  return Scenario.parse({ steps: [step] });
}
