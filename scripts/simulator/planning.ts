// From a scenario to what is sent, in order: one batch per step, every story's share of it side by
// side, shuffled and re-sent as asked, numbered in send order.
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { basename, resolve } from "node:path";
import { newStory, randomToken, type StoryFields } from "../../src/providers/simulation.node.ts";
import { type ProviderName, simulators } from "../../src/providers/simulators.node.ts";
import { UsageError } from "./arguments.ts";
import { type ActionStep, type DeliveryStep, isDelivery, type Scenario, type Step } from "./scenarios.ts";

// Ten minutes: twice the gateway's default tolerance, so --stale/--future always fail it.
const SKEW_SECONDS = 600;

export interface PlannedDelivery {
  kind: "delivery";
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

/** A story's values for an action's templates; the steps' `save` adds to them as the story runs. */
export type StoryVars = Record<string, string>;

export interface PlannedAction {
  kind: "action";
  seq: number;
  step: ActionStep;
  vars: StoryVars;
}

export type Planned = PlannedDelivery | PlannedAction;

export interface Batch {
  title?: string;
  delayMs: number;
  items: Planned[];
}

export interface Settings {
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

function stepDeliveries(
  step: DeliveryStep,
  story: StoryFields,
  run: string,
  baseDir: string,
  settings: Settings,
): PlannedDelivery[] {
  const stale = step.stale || settings.forced.stale;
  const future = step.future || settings.forced.future;
  if (stale && future) throw new UsageError("--stale and --future exclude each other");
  const simulator = simulators[step.provider];
  const common = {
    kind: "delivery" as const,
    seq: 0,
    provider: step.provider,
    skewSeconds: stale ? -SKEW_SECONDS : future ? SKEW_SECONDS : 0,
    wrongSecret: step.wrongSecret || settings.forced.wrongSecret,
    tamper: step.tamper || settings.forced.tamper,
  };
  const out: PlannedDelivery[] = [];
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
      const payload = simulator.build(event, story, eventId === undefined ? {} : { eventId });
      const form = step.form && "formBody" in simulator ? simulator.formBody : undefined;
      const xml = step.xml && "xmlBody" in simulator ? simulator.xmlBody : undefined;
      if (form) contentType = "application/x-www-form-urlencoded";
      if (xml) contentType = step.contentType ?? "application/xml";
      body = new TextEncoder().encode(form ? form(payload) : xml ? xml(payload) : JSON.stringify(payload));
      label = `${event} ${simulator.describe(payload)}`;
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
    if (item.kind === "delivery" && random() < duplicateRate) {
      keyed.push({ item: { ...item }, key: i + random() * (items.length - i) });
    }
  }
  return keyed.sort((a, b) => a.key - b.key).map(({ item }) => item);
}

function stepTitle(index: number, step: Step, runs: number): string {
  const what: string[] = [];
  if (isDelivery(step)) {
    what.push(`${step.provider} ${step.event ?? "(body-file)"}`);
    if (step.repeat > 1) what.push(`×${step.repeat}`);
    if (step.copies > 1) what.push(`(${step.copies} identical copies)`);
  } else if ("call" in step) what.push(`${step.call} ${step.method} ${step.path}`);
  else if ("cron" in step) what.push(`cron ${step.cron}`);
  else what.push(`poll ${step.poll} until ${JSON.stringify(step.until)}`);
  if (runs > 1) what.push(`in each of ${runs} stories`);
  if (step.delayMs > 0) what.push(`after ${step.delayMs}ms`);
  return `step ${index + 1}: ${what.join(" ")}${step.note ? ` — ${step.note}` : ""}`;
}

/**
 * Sequence numbers in send order; the first of several identical bodies is the original,
 * whichever step or shuffle produced it, and the later ones point back to it.
 */
function numberItems(batches: Batch[]): void {
  const firstSeen = new Map<string, number>();
  let seq = 0;
  for (const batch of batches) {
    for (const [i, item] of batch.items.entries()) {
      const numbered: Planned = { ...item, seq: ++seq };
      if (numbered.kind === "delivery") {
        const key = `${numbered.provider}:${createHash("sha256").update(numbered.body).digest("hex")}`;
        const original = firstSeen.get(key);
        if (original === undefined) firstSeen.set(key, seq);
        else numbered.resendOf = original;
      }
      batch.items[i] = numbered;
    }
  }
}

/**
 * One batch per scenario step, sent one after another so a story keeps its order; with
 * `--repeat`, every run's step N goes into batch N, so independent stories run side by side.
 */
export function plan(scenario: Scenario, baseDir: string, settings: Settings): Batch[] {
  const acts = scenario.steps.some((step) => !isDelivery(step));
  if (acts && settings.shuffle) {
    throw new UsageError(
      "--shuffle would reorder a story whose steps wait on each other (operator, nuvouch, cron, poll)",
    );
  }
  let batches: Batch[] = scenario.steps.map((step, i) => {
    const title = scenario.steps.length > 1 || step.note ? stepTitle(i, step, settings.runs) : undefined;
    return { ...(title === undefined ? {} : { title }), delayMs: step.delayMs, items: [] };
  });
  for (let r = 0; r < settings.runs; r++) {
    const run = randomToken();
    const story = newStory({ ...expandFields(scenario.fields, run), ...settings.cliFields }, undefined, run);
    // One object per story, shared by its actions: what a step saves, the next ones read.
    const vars: StoryVars = { run, ...Object.fromEntries(Object.entries(story).map(([k, v]) => [k, String(v)])) };
    for (const [i, step] of scenario.steps.entries()) {
      const items: Planned[] = isDelivery(step)
        ? stepDeliveries(
            step,
            { ...story, ...expandFields(step.fields, run), ...settings.cliFields },
            run,
            baseDir,
            settings,
          )
        : [{ kind: "action", seq: 0, step, vars }];
      batches[i]?.items.push(...items);
    }
  }
  // Disorder spans the whole story: every step's deliveries go into one pool.
  if (settings.shuffle) {
    const all = shuffleInPlace(
      batches.flatMap((batch) => batch.items),
      settings.random,
    );
    const title = batches.length > 1 ? "shuffled: step order and delays ignored" : undefined;
    batches = [{ ...(title === undefined ? {} : { title }), delayMs: 0, items: all }];
  }
  for (const batch of batches) batch.items = withResends(batch.items, settings.duplicateRate, settings.random);
  numberItems(batches);
  return batches;
}
