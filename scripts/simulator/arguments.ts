// The simulator's command line: its flags, their checks, and the usage text.
import { parseArgs } from "node:util";
import type { StoryFields } from "../../src/providers/simulation.node.ts";
import { PROVIDER_NAMES, simulators } from "../../src/providers/simulators.node.ts";

export const DEFAULT_URL = "http://127.0.0.1:8787";
export const DEFAULT_NUVOUCH_URL = `http://127.0.0.1:${process.env.FAKE_NUVOUCH_PORT ?? "8790"}`;

/** Bad input from the user: a message and exit code 2, never a stack trace. */
export class UsageError extends Error {}

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
  "nuvouch-url": { type: "string" },
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
  xml: { type: "boolean" },
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

export const parseCommandLine = (args: string[]) =>
  parseArgs({ args, options: OPTIONS, allowPositionals: true, strict: true });
export type Flags = ReturnType<typeof parseCommandLine>["values"];

export function usage(scenarios: readonly string[]): string {
  const events = PROVIDER_NAMES.map((p) => `  ${p.padEnd(8)} ${simulators[p].events.join(", ")}`).join("\n");
  return `usage: npm run simulate -- <provider> <event> [options]
       npm run simulate -- scenario <file-or-name> [options]

providers and events:
${events}
scenarios: ${scenarios.join(", ") || "(none)"}

options:
  --url URL                 gateway base URL (default $GATEWAY_URL, else ${DEFAULT_URL})
  --nuvouch-url URL         the fake Nuvouch, for scenario steps that call it
                            (default $FAKE_NUVOUCH_URL, else ${DEFAULT_NUVOUCH_URL})
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
  --xml                     Nuvei: send XML (<notification><result><status>…), not JSON
  --event-id ID             pin Nova eventId / Nuvouch id (the dedupe key)
  --subject, --context-key, --external-request-id, --connection-session-id,
  --approval-request-id, --transaction-id, --merchant-transaction-id,
  --amount, --currency      steer the story's shared fields`;
}

export function positiveInt(flag: string, value: string | undefined, max: number): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 1 || n > max) throw new UsageError(`--${flag} must be a whole number 1..${max}`);
  return n;
}

export function rate(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (value.trim() === "" || !Number.isFinite(n) || n < 0 || n > 1)
    throw new UsageError("--duplicate-rate must be 0..1");
  return n;
}

export function storyFlags(flags: Flags): Partial<StoryFields> {
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

/** An http(s) base URL that paths resolve below, whatever path prefix it has. */
export function parseBaseUrl(flag: string, raw: string): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new UsageError(`--${flag}: not a URL: ${raw}`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") throw new UsageError(`--${flag} must be http(s)`);
  if (!url.pathname.endsWith("/")) url.pathname += "/";
  return url;
}
