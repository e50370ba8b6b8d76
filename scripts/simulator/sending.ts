// Sending what was planned: deliveries signed at send time, and the actions between them (operator
// calls, the fake Nuvouch, the cron, polls), a bounded number in flight, one line per answer.
import { simulators } from "../../src/providers/simulators.node.ts";
import type { Batch, Planned, PlannedAction, PlannedDelivery, StoryVars } from "./planning.ts";
import type { CallStep, PollStep } from "./scenarios.ts";
import { type LoadedSecrets, WRONG_SECRET } from "./secrets.ts";

// Nova expects an answer within 10 s; a gateway slower than that counts as an error.
const REQUEST_TIMEOUT_MS = 10_000;
const POLL_INTERVAL_MS = 250;

/** Nothing listens at a URL the run needs: one hint line and exit code 1. */
export class Unreachable extends Error {
  readonly hint: string;
  constructor(hint: string) {
    super(hint);
    this.hint = hint;
  }
}

export interface Targets {
  gateway: URL;
  nuvouch: URL;
  secrets: LoadedSecrets;
}

export interface Outcome {
  item: Planned;
  status?: number;
  body?: string;
  /** No answer: why (a timeout, a reset). */
  error?: string;
  /** An action answered, but not so that its story can go on. */
  failure?: string;
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

/** fetch, timed; a refused connection is `Unreachable`, any other failure an answerless outcome. */
async function timedFetch(
  item: Planned,
  url: URL,
  init: RequestInit,
  down: string,
): Promise<Outcome & { response?: Response }> {
  const started = performance.now();
  try {
    const response = await fetch(url, { ...init, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
    const body = await response.text();
    return { item, status: response.status, body, ms: performance.now() - started };
  } catch (error) {
    if (isConnectionRefused(error)) throw new Unreachable(down);
    // fetch wraps the useful part ("ECONNRESET", "bad port") in `cause`.
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    const reason =
      (error as Error).name === "TimeoutError"
        ? "timeout"
        : (cause?.code ?? cause?.message ?? (error as Error).message);
    return { item, error: reason, ms: performance.now() - started };
  }
}

const gatewayDown = (targets: Targets) => `no gateway at ${targets.gateway.origin}: start it with \`npm run dev\``;

async function sendDelivery(delivery: PlannedDelivery, targets: Targets): Promise<Outcome> {
  // Signed when sent, not when planned: a delayed step or a re-send carries a fresh
  // timestamp, as a provider's retry does, so only --stale/--future are ever out of tolerance.
  const t = Math.floor(Date.now() / 1000) + delivery.skewSeconds;
  const secret = delivery.wrongSecret ? WRONG_SECRET : (targets.secrets.secrets[delivery.provider][0] as string);
  const headers = {
    "content-type": delivery.contentType,
    "user-agent": "webhook-gateway-simulator/1",
    ...simulators[delivery.provider].sign(delivery.body, secret, t),
  };
  const body = delivery.tamper ? tampered(delivery.body) : delivery.body;
  const url = new URL(`webhooks/${delivery.provider}`, targets.gateway);
  return timedFetch(delivery, url, { method: "POST", headers, body }, gatewayDown(targets));
}

/** `{name}` from the story (URI-encoded in a path), `{now+N}` the time N seconds from now. */
function render(template: string, vars: StoryVars, encode: (value: string) => string): string {
  return template.replace(/\{(\w+)(?:\+(\d+))?\}/g, (whole, name: string, seconds: string | undefined) => {
    if (name === "now") return new Date(Date.now() + Number(seconds ?? 0) * 1000).toISOString();
    const value = vars[name];
    if (value === undefined) throw new Error(`no value for ${whole}: not a story field, nor saved by an earlier step`);
    return encode(value);
  });
}

function renderBody(value: unknown, vars: StoryVars): unknown {
  if (typeof value === "string") return render(value, vars, (v) => v);
  if (Array.isArray(value)) return value.map((item) => renderBody(item, vars));
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, renderBody(item, vars)]));
  }
  return value;
}

function at(json: unknown, path: string): unknown {
  let value = json;
  for (const key of path.split(".")) {
    value = value !== null && typeof value === "object" ? (value as Record<string, unknown>)[key] : undefined;
  }
  return value;
}

function parseJson(text: string | undefined): unknown {
  try {
    return JSON.parse(text ?? "");
  } catch {
    return undefined;
  }
}

function operatorHeaders(targets: Targets): Record<string, string> {
  const token = targets.secrets.adminToken;
  if (!token) throw new Error(`no ADMIN_API_TOKEN in ${targets.secrets.file}, which operator steps need`);
  return { authorization: `Bearer ${token}` };
}

async function call(action: PlannedAction, step: CallStep, targets: Targets): Promise<Outcome> {
  const path = render(step.path, action.vars, encodeURIComponent).slice(1);
  const operator = step.call === "operator";
  const url = new URL(path, operator ? targets.gateway : targets.nuvouch);
  const body = step.body === undefined ? undefined : JSON.stringify(renderBody(step.body, action.vars));
  const headers = {
    ...(operator ? operatorHeaders(targets) : {}),
    ...(body === undefined ? {} : { "content-type": "application/json" }),
  };
  const down = operator
    ? gatewayDown(targets)
    : `no fake Nuvouch at ${targets.nuvouch.origin}: start it with \`npm run fake:nuvouch\` (or pass --nuvouch-url)`;
  const outcome = await timedFetch(action, url, { method: step.method, headers, ...(body ? { body } : {}) }, down);
  if (outcome.status === undefined) return outcome;
  if (!step.expect.includes(outcome.status)) return { ...outcome, failure: `expected ${step.expect.join(" or ")}` };
  const json = parseJson(outcome.body);
  for (const [name, from] of Object.entries(step.save)) {
    const value = at(json, from);
    if (typeof value !== "string" && typeof value !== "number") return { ...outcome, failure: `no ${from} to save` };
    action.vars[name] = String(value);
  }
  return outcome;
}

async function poll(action: PlannedAction, step: PollStep, targets: Targets): Promise<Outcome> {
  const url = new URL(render(step.poll, action.vars, encodeURIComponent).slice(1), targets.gateway);
  const started = performance.now();
  for (;;) {
    const outcome = await timedFetch(action, url, { headers: operatorHeaders(targets) }, gatewayDown(targets));
    const json = parseJson(outcome.body);
    const done = Object.entries(step.until).every(([path, expected]) => at(json, path) === expected);
    const ms = performance.now() - started;
    if (done) return { ...outcome, ms };
    if (ms > step.timeoutMs)
      return { ...outcome, ms, failure: `not ${JSON.stringify(step.until)} after ${step.timeoutMs} ms` };
    await new Promise((done) => setTimeout(done, POLL_INTERVAL_MS));
  }
}

async function act(action: PlannedAction, targets: Targets): Promise<Outcome> {
  const { step } = action;
  try {
    if ("call" in step) return await call(action, step, targets);
    if ("poll" in step) return await poll(action, step, targets);
    // What `curl "<gateway>/cdn-cgi/local/scheduled?cron=*/5+*+*+*+*"` does under `wrangler dev`.
    const url = new URL(`cdn-cgi/local/scheduled?${new URLSearchParams({ cron: step.cron })}`, targets.gateway);
    const outcome = await timedFetch(action, url, {}, gatewayDown(targets));
    return outcome.status === undefined || outcome.status === 200 ? outcome : { ...outcome, failure: "expected 200" };
  } catch (error) {
    if (error instanceof Unreachable) throw error;
    return { item: action, error: (error as Error).message, ms: 0 };
  }
}

/** What an item is, as its output line and the end-to-end tests name it: `<who> <what> <key>`. */
export function describeItem(item: Planned): string {
  if (item.kind === "delivery") return `${item.provider} ${item.label}`;
  const { step, vars } = item;
  const shown = (path: string) => {
    try {
      return render(path, vars, encodeURIComponent);
    } catch {
      return path;
    }
  };
  if ("call" in step) return `${step.call} ${step.method} ${shown(step.path)}`;
  if ("poll" in step) return `poll GET ${shown(step.poll)}`;
  return `cron GET /cdn-cgi/local/scheduled?${new URLSearchParams({ cron: step.cron })}`;
}

export function formatOutcome(outcome: Outcome): string {
  const { item } = outcome;
  const status = outcome.status === undefined ? "ERR" : String(outcome.status);
  const resend = item.kind === "delivery" && item.resendOf !== undefined ? ` (re-send of #${item.resendOf})` : "";
  const flags =
    item.kind === "delivery"
      ? [
          item.skewSeconds < 0 && "stale",
          item.skewSeconds > 0 && "future",
          item.wrongSecret && "wrong-secret",
          item.tamper && "tampered",
        ].filter(Boolean)
      : [];
  const marks = flags.length > 0 ? ` [${flags.join(",")}]` : "";
  const answer = outcome.error ?? (outcome.body ?? "").replace(/\s+/g, " ").slice(0, 300);
  const failed = outcome.failure ? `  ✗ ${outcome.failure}` : "";
  const ms = `${Math.round(outcome.ms)}ms`.padStart(6);
  return `#${String(item.seq).padEnd(4)} ${status} ${ms}  ${describeItem(item)}${resend}${marks}  ${answer}${failed}`;
}

/** Sends one batch, at most `concurrency` items in flight; stops at the first unreachable target. */
export async function sendBatch(
  batch: Batch,
  concurrency: number,
  targets: Targets,
  emit: (outcome: Outcome) => void,
): Promise<void> {
  let next = 0;
  let down: Unreachable | undefined;
  const worker = async () => {
    while (next < batch.items.length && !down) {
      const item = batch.items[next++] as Planned;
      try {
        emit(item.kind === "delivery" ? await sendDelivery(item, targets) : await act(item, targets));
      } catch (error) {
        if (error instanceof Unreachable) down = error;
        else throw error;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, batch.items.length) }, worker));
  if (down) throw down;
}
