// `npm run capacity -- --rate 5000 [--mix nova=0.6,nuvei=0.3,nuvouch=0.1] [--dedupe kv|edge]
//   [--retention-days 30|forever] [--body-bytes 1024] [--d1-ms 1] [--headroom 0.7]`
// For a target rate of accepted deliveries and a mix of providers: which published limit binds first
// for the current design (one queue, one database), the queues and D1 databases the rate needs when
// sharded by provider and then by hash, and the monthly bill at list prices. Every figure comes from
// ./model.ts, whose per-delivery counts test/cost-model.test.ts measures.
import { parseArgs } from "node:util";
import {
  CONSUMER_BATCH_SIZE,
  type DedupeMode,
  LIMITS,
  type Mix,
  OPERATIONS,
  PROVIDERS,
  type ProviderName,
  plan,
} from "./model.ts";

const USAGE =
  "usage: npm run capacity -- --rate <deliveries/s> [--mix nova=0.6,nuvei=0.3,nuvouch=0.1] [--dedupe kv|edge]\n" +
  "       [--retention-days <days>|forever] [--body-bytes <bytes>] [--d1-ms <ms per statement>] [--headroom <0..1>]";

function fail(message: string): never {
  console.error(`${message}\n${USAGE}`);
  process.exit(2);
}

function number(name: string, text: string, min: number, max = Number.POSITIVE_INFINITY): number {
  const value = Number(text);
  if (!Number.isFinite(value) || value < min || value > max) fail(`--${name} must be a number in [${min}, ${max}]`);
  return value;
}

function parseMix(text: string): Mix {
  const mix: Mix = { nova: 0, nuvei: 0, nuvouch: 0 };
  for (const part of text.split(",")) {
    const [name, share] = part.split("=");
    if (!PROVIDERS.includes(name as ProviderName)) fail(`--mix: unknown provider ${JSON.stringify(name)}`);
    mix[name as ProviderName] = number("mix", share ?? "", 0, 1);
  }
  const total = PROVIDERS.reduce((t, p) => t + mix[p], 0);
  if (Math.abs(total - 1) > 1e-6) fail(`--mix: the shares add up to ${total}, not 1`);
  return mix;
}

const { values } = parseArgs({
  options: {
    rate: { type: "string" },
    mix: { type: "string", default: "nova=0.6,nuvei=0.3,nuvouch=0.1" },
    dedupe: { type: "string", default: "kv" },
    "retention-days": { type: "string", default: "30" },
    "body-bytes": { type: "string", default: "1024" },
    "d1-ms": { type: "string", default: "1" },
    headroom: { type: "string", default: "0.7" },
    help: { type: "boolean", short: "h" },
  },
});
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}
if (values.rate === undefined) fail("--rate is required");
if (values.dedupe !== "kv" && values.dedupe !== "edge") fail("--dedupe is kv or edge");
const input = {
  rate: number("rate", values.rate, 0),
  mix: parseMix(values.mix),
  dedupe: values.dedupe as DedupeMode,
  retentionDays:
    values["retention-days"] === "forever"
      ? Number.POSITIVE_INFINITY
      : number("retention-days", values["retention-days"], 1),
  bodyBytes: number("body-bytes", values["body-bytes"], 1, 1_048_576),
  d1StatementMs: number("d1-ms", values["d1-ms"], 0.01),
  headroom: number("headroom", values.headroom, 0.05, 1),
};
const result = plan(input);

const n = (value: number, digits = 0) =>
  Number.isFinite(value) ? value.toLocaleString("en-US", { maximumFractionDigits: digits }) : "never";
const pct = (share: number) => `${Math.round(share * 100)} %`;
const mixText = PROVIDERS.filter((p) => input.mix[p] > 0)
  .map((p) => `${p} ${pct(input.mix[p])}`)
  .join(", ");

console.log(
  `capacity plan: ${n(input.rate)} accepted deliveries/s (${mixText}), DEDUPE_MODE=${input.dedupe}, ` +
    `events kept ${Number.isFinite(input.retentionDays) ? `${input.retentionDays} days` : "forever"}, ${n(input.bodyBytes)} B bodies`,
);
const d = result.perDelivery;
console.log(
  `\nper delivery (mix-weighted): queue messages ${n(d.queueMessages, 2)}, KV reads/writes ${n(d.kvReads, 2)}/${n(d.kvWrites, 2)}, ` +
    `D1 statements ${n(d.d1Statements, 2)}, D1 rows read/written ${n(d.d1RowsRead, 1)}/${n(d.d1RowsWritten, 2)}, ` +
    `log events ${n(d.logEvents, 2)}, D1 bytes stored ${n(d.storedBytes)}, CPU ~${n(d.cpuMs, 1)} ms`,
);

console.log("\nceilings of the current design (one queue, one database), in accepted deliveries/s:");
const sorted = [...result.ceilings].sort((a, b) => a.bindsAt - b.bindsAt);
for (const c of sorted) {
  const at = c.bindsAt === 0 ? "fills up" : Number.isFinite(c.bindsAt) ? n(c.bindsAt, 1) : "never";
  console.log(`  ${c.name.padEnd(42)} ${at.padStart(10)}   ${c.note}`);
}
const first = sorted[0];
if (first) console.log(`  first to bind: ${first.name}`);

console.log(
  `\nshards for ${n(input.rate)}/s, each at most ${pct(input.headroom)} of its ceiling (a queue and databases per provider, then by hash):`,
);
console.log(
  `  ${"provider".padEnd(9)} ${"rate/s".padStart(8)} ${"queues".padStart(7)} ${"databases".padStart(10)}   (for throughput / for storage)`,
);
for (const s of result.shards) {
  console.log(
    `  ${s.provider.padEnd(9)} ${n(s.rate).padStart(8)} ${String(s.queues).padStart(7)} ${String(s.databases).padStart(10)}   (${s.databasesForThroughput} / ${
      Number.isFinite(input.retentionDays) ? s.databasesForStorage : "see below"
    })`,
  );
}
const queues = result.shards.reduce((t, s) => t + s.queues, 0);
const databases = result.shards.reduce((t, s) => t + s.databases, 0);
console.log(`  ${"total".padEnd(9)} ${"".padStart(8)} ${String(queues).padStart(7)} ${String(databases).padStart(10)}`);
if (result.databasesFilledPerMonth > 0) {
  console.log(
    `  kept forever, ${n(result.databasesFilledPerMonth, 1)} more databases fill up every month at this rate: set EVENT_RETENTION_DAYS`,
  );
}
if (result.storedBytesTotal > LIMITS.d1AccountBytes) {
  console.log(
    `  D1 would hold ${n(result.storedBytesTotal / 1e12, 1)} TB: over the account's ${n(LIMITS.d1AccountBytes / 1e9)} GB of D1 ` +
      "(raisable on request): a shorter retention, or payloads kept out of D1",
  );
}
const worst = Math.max(...PROVIDERS.map((p) => OPERATIONS[p][input.dedupe].d1Statements));
if (worst * CONSUMER_BATCH_SIZE > LIMITS.d1QueriesPerInvocation)
  console.log(
    `  warning: a consumer batch of ${CONSUMER_BATCH_SIZE} may exceed ${LIMITS.d1QueriesPerInvocation} D1 queries`,
  );

console.log("\nmonthly cost at list prices (30 days at this rate, beyond Workers Paid's included usage):");
for (const [line, usd] of Object.entries(result.monthly.lines)) {
  console.log(`  ${line.padEnd(38)} ${`$${n(usd, 2)}`.padStart(14)}`);
}
console.log(`  ${"total".padEnd(38)} ${`$${n(result.monthly.total, 2)}`.padStart(14)}`);
console.log(
  `  (${n((result.monthly.total / (input.rate * 30 * 86_400)) * 1e6, 2)} USD per million deliveries; ` +
    "extra queues and databases cost nothing by themselves)",
);
