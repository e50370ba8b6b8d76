// The capacity and cost model of the gateway: what one delivery costs in billable operations and in
// the resources whose limits bind first, and what a target rate then needs. `npm run capacity` prints
// it for a rate and a mix; test/cost-model.test.ts measures every per-delivery count below on the real
// local bindings and fails if one drifts, so this file and `npm run bench:cost` agree.
//
// Sources (Cloudflare's published pages, as of 2026-11): Workers "Limits" and "Pricing", Queues
// "Limits" and "Pricing", D1 "Limits" (with its FAQ "How much work can a D1 database do?") and
// "Pricing", Workers KV "Limits" and "Pricing", Workers Logs "Pricing". No imports: it runs in Node
// (the calculator) and in workerd (the test).

export type ProviderName = "nova" | "nuvei" | "nuvouch";
export type DedupeMode = "kv" | "edge";
export const PROVIDERS: readonly ProviderName[] = ["nova", "nuvei", "nuvouch"];

/** USD per million (Workers Paid, beyond the included usage); the same keys as bench:cost's table. */
export const PRICE_PER_MILLION = {
  workerRequest: 0.3,
  kvRead: 0.5,
  kvWrite: 5.0,
  queueOperation: 0.4,
  d1RowRead: 0.001,
  d1RowWritten: 1.0,
  cpuMs: 0.02,
  logEvent: 0.6,
} as const;
export const D1_STORAGE_PER_GB_MONTH = 0.75;
export const WORKERS_PAID_PER_MONTH = 5;

/** Included in Workers Paid each month, before the prices above apply. */
export const INCLUDED_PER_MONTH = {
  workerRequests: 10e6,
  cpuMs: 30e6,
  kvReads: 10e6,
  kvWrites: 1e6,
  queueOperations: 1e6,
  d1RowsRead: 25e9,
  d1RowsWritten: 50e6,
  d1StorageGb: 5,
  logEvents: 20e6,
} as const;

/** The published limits that bind first for this design. */
export const LIMITS = {
  /** Queues "Limits": per-queue message throughput; past it send() throws Too Many Requests. */
  queueMessagesPerSecond: 5000,
  /** Queues "Limits": concurrent consumer invocations (push consumers). */
  consumerConcurrency: 250,
  /** D1 "Limits": maximum database size (Workers Paid); it cannot be raised. */
  d1DatabaseBytes: 10e9,
  /** D1 "Limits": databases per account (Workers Paid). */
  d1DatabasesPerAccount: 50_000,
  /**
   * D1 "Limits": storage per account, raisable on request. Versions of the page disagree (250 GB, and
   * 1 TB in a later one); the lower is used here.
   */
  d1AccountBytes: 250e9,
  /** D1 "Limits" FAQ: a database runs one query at a time; 1 ms per query is ~1,000 queries/s. */
  d1QueriesPerSecondPerMsOfQuery: 1000,
  /** D1 "Limits": queries per Worker invocation (Workers Paid). */
  d1QueriesPerInvocation: 1000,
  /** KV "Limits": writes to the same key. */
  kvWritesPerKeyPerSecond: 1,
  /** Workers "Limits": CPU per invocation, the default (configurable up to 300,000 ms). */
  cpuMsPerInvocation: 30_000,
} as const;

/** Queues "Pricing": a message is written, read and deleted (per 64 KB). */
export const QUEUE_OPERATIONS_PER_MESSAGE = 3;
/** wrangler.toml's max_batch_size: one consumer invocation per full batch. */
export const CONSUMER_BATCH_SIZE = 50;

/** Billable operations of one accepted delivery, ingest and consumer together. */
export interface Operations {
  kvReads: number;
  kvWrites: number;
  queueMessages: number;
  /** SQL statements D1 executes (each statement of a batch counts): what its throughput is spent on. */
  d1Statements: number;
  d1RowsRead: number;
  d1RowsWritten: number;
  /** Log lines (Workers Logs events): the ingest outcome, the consumer's, effect lines. */
  logEvents: number;
}

// Measured by test/cost-model.test.ts ("the capacity model"): a Nova event with no effect, a Nuvei
// status of a new transaction, a Nuvouch approval that runs its effect. `edge` reads D1 once more at
// ingest (the dedupe lookup) instead of KV's read and write. Nuvouch's rows read vary by one between
// runs (an index probe); the test allows ±0.5 there. Log events: the ingest outcome line, the
// consumer's "event processed" and, for an approval, "effect done" (the test runs a counting effect;
// the placeholder handlers of src/effects/handlers.ts log one line more).
const base = { queueMessages: 1, kvReads: 0, kvWrites: 0 };
const kvDedupe = { kvReads: 1, kvWrites: 1 };
export const OPERATIONS: Record<ProviderName, Record<DedupeMode, Operations>> = {
  nova: {
    kv: { ...base, ...kvDedupe, d1Statements: 3, d1RowsRead: 1, d1RowsWritten: 2, logEvents: 2 },
    edge: { ...base, d1Statements: 4, d1RowsRead: 1, d1RowsWritten: 2, logEvents: 2 },
  },
  nuvei: {
    kv: { ...base, ...kvDedupe, d1Statements: 5, d1RowsRead: 2, d1RowsWritten: 4, logEvents: 2 },
    edge: { ...base, d1Statements: 6, d1RowsRead: 2, d1RowsWritten: 4, logEvents: 2 },
  },
  nuvouch: {
    kv: { ...base, ...kvDedupe, d1Statements: 9, d1RowsRead: 12, d1RowsWritten: 9, logEvents: 3 },
    edge: { ...base, d1Statements: 10, d1RowsRead: 12, d1RowsWritten: 9, logEvents: 3 },
  },
};

/**
 * CPU per delivery. Ingest: `npm run bench:cpu` (the gateway's accepted path, 1 KB, in workerd with
 * bindings that answer at once; bench/README.md), rounded up. The consumer's is not measured: 1 ms per
 * message is an allowance. At $0.02 per million CPU-ms either is a few cents per million deliveries.
 */
export const CPU_MS_PER_DELIVERY = { ingest: 0.5, consumer: 1 } as const;

/**
 * D1 bytes stored per event, as measured with D1's `meta.size_after` over 300 deliveries per body
 * size (bench/README.md, "Scaling"). The events table is WITHOUT ROWID, so a row is stored in an
 * index B-tree, which keeps at most ~1,002 bytes of a row on its page (4 KB pages): a bigger row keeps
 * 489 bytes there and spills the rest into whole 4 KB overflow pages. A 0.8–4 KB body therefore costs
 * ~4.8 KB, not ~1.3 KB.
 */
export const STORAGE = {
  pageBytes: 4096,
  maxLocalBytes: 1002,
  minLocalBytes: 489,
  overflowPageUsableBytes: 4092,
  /** The event row's other columns (id, keys, type, times, hash, status …). */
  rowOverheadBytes: 300,
  /** B-tree pages are not full. */
  pageFill: 0.85,
  /** The listing index entry and the rest of the event's share of the schema. */
  indexBytes: 100,
  /** Provider state rows written with the event (Nuvei's transaction and its index; an approval and its effect). */
  stateBytes: { nova: 0, nuvei: 900, nuvouch: 650 } satisfies Record<ProviderName, number>,
} as const;

/** D1 bytes one event takes, for a body of `bodyBytes` (the payload is stored as delivered). */
export function storedBytesPerEvent(provider: ProviderName, bodyBytes: number): number {
  const s = STORAGE;
  const row = bodyBytes + s.rowOverheadBytes;
  let local = row;
  let overflowPages = 0;
  if (row > s.maxLocalBytes) {
    // SQLite's spill rule for index B-trees (fileformat2 §1.6).
    const rest = s.minLocalBytes + ((row - s.minLocalBytes) % s.overflowPageUsableBytes);
    local = rest <= s.maxLocalBytes ? rest : s.minLocalBytes;
    overflowPages = Math.ceil((row - local) / s.overflowPageUsableBytes);
  }
  return Math.round(local / s.pageFill + overflowPages * s.pageBytes + s.indexBytes + s.stateBytes[provider]);
}

export type Mix = Record<ProviderName, number>;

export interface PlanInput {
  /** Accepted deliveries per second, sustained. */
  rate: number;
  mix: Mix;
  dedupe: DedupeMode;
  /** Days events are kept (EVENT_RETENTION_DAYS); Infinity: kept forever. */
  retentionDays: number;
  bodyBytes: number;
  /** Average D1 statement duration: D1's throughput is one statement at a time. */
  d1StatementMs: number;
  /** Share of a published ceiling to plan for: room for bursts and retries. */
  headroom: number;
}

export interface Ceiling {
  name: string;
  /** Deliveries per second at which it binds on one queue and one database (the current design). */
  bindsAt: number;
  note: string;
}

export interface ProviderShards {
  provider: ProviderName;
  rate: number;
  /** Queues for this provider: its messages per second over the per-queue limit. */
  queues: number;
  /** Databases for this provider: the larger of what its statements and its stored bytes need. */
  databases: number;
  databasesForThroughput: number;
  databasesForStorage: number;
}

export interface Plan {
  perDelivery: Operations & { storedBytes: number; cpuMs: number };
  ceilings: Ceiling[];
  /** Sharded by provider, then by hash within a provider (bench/README.md, "Scaling"). */
  shards: ProviderShards[];
  /** Events kept forever: databases that fill up each month at this rate (0 with a retention). */
  databasesFilledPerMonth: number;
  /** D1 bytes kept at steady state (a retention) or after a month (kept forever). */
  storedBytesTotal: number;
  monthly: { lines: Record<string, number>; total: number };
}

const SECONDS_PER_MONTH = 30 * 86_400;

/** The mix-weighted operations of one delivery. */
export function weightedOperations(mix: Mix, dedupe: DedupeMode): Operations {
  const out: Operations = {
    kvReads: 0,
    kvWrites: 0,
    queueMessages: 0,
    d1Statements: 0,
    d1RowsRead: 0,
    d1RowsWritten: 0,
    logEvents: 0,
  };
  for (const provider of PROVIDERS) {
    const ops = OPERATIONS[provider][dedupe];
    for (const key of Object.keys(out) as (keyof Operations)[]) out[key] += (mix[provider] ?? 0) * ops[key];
  }
  return out;
}

/** Deliveries per second one database sustains: statements at `statementMs` each, one at a time. */
function d1Rate(ops: Operations, statementMs: number): number {
  return LIMITS.d1QueriesPerSecondPerMsOfQuery / statementMs / ops.d1Statements;
}

/** Deliveries per second one database holds at a retention: 10 GB over the bytes kept meanwhile. */
function storageRate(bytes: number, retentionDays: number): number {
  return LIMITS.d1DatabaseBytes / bytes / (retentionDays * 86_400);
}

export function plan(input: PlanInput): Plan {
  const { rate, mix, dedupe, retentionDays, bodyBytes, d1StatementMs, headroom } = input;
  const forever = !Number.isFinite(retentionDays);
  const ops = weightedOperations(mix, dedupe);
  const storedBytes = PROVIDERS.reduce((t, p) => t + (mix[p] ?? 0) * storedBytesPerEvent(p, bodyBytes), 0);
  const cpuMs = CPU_MS_PER_DELIVERY.ingest + CPU_MS_PER_DELIVERY.consumer;
  const monthBytes = storedBytes * rate * SECONDS_PER_MONTH;

  const ceilings: Ceiling[] = [
    {
      name: "D1 size, 10 GB per database",
      bindsAt: forever ? 0 : storageRate(storedBytes, retentionDays),
      note: forever
        ? `events kept forever: one database is full after ${(LIMITS.d1DatabaseBytes / storedBytes / rate / 86_400).toFixed(1)} days at this rate`
        : `${retentionDays} days kept × ${Math.round(storedBytes)} B per event`,
    },
    {
      name: "D1 throughput, one statement at a time",
      bindsAt: d1Rate(ops, d1StatementMs),
      note: `${ops.d1Statements.toFixed(1)} statements per delivery × ${d1StatementMs} ms (assumed; D1's FAQ example is 1 ms)`,
    },
    {
      name: "Queues, 5,000 messages/s per queue",
      bindsAt: LIMITS.queueMessagesPerSecond / ops.queueMessages,
      note: `${+ops.queueMessages.toFixed(2)} message per delivery; consumers scale to ${LIMITS.consumerConcurrency} invocations × ${CONSUMER_BATCH_SIZE} messages`,
    },
    {
      name: "KV, 1 write per second per key",
      bindsAt: Infinity,
      note:
        dedupe === "kv"
          ? "one write per new key: limits a burst of one delivery, never the rate (a refused mark costs a consumer-side dedupe)"
          : "edge mode writes no KV",
    },
    {
      name: "Worker CPU, 30 s per invocation",
      bindsAt: Infinity,
      note: `~${CPU_MS_PER_DELIVERY.ingest} ms per ingest request, ~${CPU_MS_PER_DELIVERY.consumer * CONSUMER_BATCH_SIZE} ms per consumer batch of ${CONSUMER_BATCH_SIZE}`,
    },
  ];

  const need = (r: number, bindsAt: number) => (r <= 0 ? 0 : Math.max(1, Math.ceil(r / (bindsAt * headroom))));
  const shards: ProviderShards[] = PROVIDERS.filter((p) => (mix[p] ?? 0) > 0).map((provider) => {
    const r = rate * (mix[provider] ?? 0);
    const own = OPERATIONS[provider][dedupe];
    const throughput = need(r, d1Rate(own, d1StatementMs));
    const storage = forever ? 1 : need(r, storageRate(storedBytesPerEvent(provider, bodyBytes), retentionDays));
    return {
      provider,
      rate: r,
      queues: need(r, LIMITS.queueMessagesPerSecond / own.queueMessages),
      databases: Math.max(throughput, storage),
      databasesForThroughput: throughput,
      databasesForStorage: storage,
    };
  });

  // The bill for a month at this rate, beyond the included usage. Storage: what a retention keeps at
  // steady state, or (kept forever) the first month's, which grows by as much every month.
  const deliveries = rate * SECONDS_PER_MONTH;
  const perMillion = (used: number, included: number, price: number) => (Math.max(0, used - included) / 1e6) * price;
  const invocations = deliveries * (1 + ops.queueMessages / CONSUMER_BATCH_SIZE);
  const storedGb = (forever ? monthBytes : storedBytes * rate * retentionDays * 86_400) / 1e9;
  const p = PRICE_PER_MILLION;
  const i = INCLUDED_PER_MONTH;
  const lines: Record<string, number> = {
    "Workers Paid plan": WORKERS_PAID_PER_MONTH,
    "requests (ingest + consumer batches)": perMillion(invocations, i.workerRequests, p.workerRequest),
    "CPU time": perMillion(deliveries * cpuMs, i.cpuMs, p.cpuMs),
    "KV reads": perMillion(deliveries * ops.kvReads, i.kvReads, p.kvRead),
    "KV writes": perMillion(deliveries * ops.kvWrites, i.kvWrites, p.kvWrite),
    "queue operations": perMillion(
      deliveries * ops.queueMessages * QUEUE_OPERATIONS_PER_MESSAGE,
      i.queueOperations,
      p.queueOperation,
    ),
    "D1 rows read": perMillion(deliveries * ops.d1RowsRead, i.d1RowsRead, p.d1RowRead),
    "D1 rows written": perMillion(deliveries * ops.d1RowsWritten, i.d1RowsWritten, p.d1RowWritten),
    "D1 storage": Math.max(0, storedGb - i.d1StorageGb) * D1_STORAGE_PER_GB_MONTH,
    "Workers Logs events": perMillion(deliveries * ops.logEvents, i.logEvents, p.logEvent),
  };
  const total = Object.values(lines).reduce((a, b) => a + b, 0);
  return {
    perDelivery: { ...ops, storedBytes, cpuMs },
    ceilings,
    shards,
    databasesFilledPerMonth: forever ? monthBytes / (LIMITS.d1DatabaseBytes * headroom) : 0,
    storedBytesTotal: storedGb * 1e9,
    monthly: { lines, total },
  };
}
