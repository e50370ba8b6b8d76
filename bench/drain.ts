// `npm run bench:drain`: how fast the queue consumer turns accepted deliveries into
// committed D1 rows, next to how fast ingest accepts them, under one real `wrangler dev`
// (the local queue, batch size and timeout of wrangler.toml). Prints numbers; asserts none.
//
// N distinct signed Nova deliveries are sent with bounded concurrency to 127.0.0.1; then
// the local D1 is read until every event is recorded. Accept-to-commit is the event row's
// updated_at (the consumer's commit) minus its received_at (ingest), both the worker's clock.
import { cpus } from "node:os";
import { type DevGateway, startDevGateway } from "../e2e/support/dev-gateway.ts";
import { type ApiEvent, getEvent, listAllEvents, mapLimit } from "../e2e/support/operator.ts";
import { newStory } from "../src/providers/simulation.node.ts";
import { buildPayload, signatureHeaders } from "../src/providers/simulators.node.ts";

const N = Number(process.env.BENCH_DRAIN_N ?? 2000);
const CONCURRENCY = Number(process.env.BENCH_DRAIN_CONCURRENCY ?? 32);
const DRAIN_TIMEOUT_MS = 180_000;
const BATCH_TIMEOUT_S = 1; // wrangler.toml [[queues.consumers]] max_batch_timeout

const quantile = (sorted: number[], q: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;

async function main() {
  let gateway: DevGateway | undefined;
  const stop = async () => {
    await gateway?.stop();
  };
  process.on("SIGINT", () => void stop().then(() => process.exit(130)));
  try {
    gateway = await startDevGateway();
    const secret = gateway.secrets.NOVA_WEBHOOK_SECRET as string;
    const bodies = Array.from({ length: N }, () =>
      JSON.stringify(buildPayload("nova", "payment.succeeded", newStory({}))),
    );

    const started = performance.now();
    let next = 0;
    let failures = 0;
    const url = `${gateway.url}/webhooks/nova`;
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < bodies.length) {
          const body = bodies[next++] as string;
          const headers = {
            "content-type": "application/json",
            ...signatureHeaders("nova", new TextEncoder().encode(body), secret, Math.floor(Date.now() / 1000)),
          };
          const response = await fetch(url, { method: "POST", body, headers });
          if (response.status !== 202) failures++;
          await response.body?.cancel();
        }
      }),
    );
    const ingestSeconds = (performance.now() - started) / 1000;

    let events: ApiEvent[] = [];
    const deadline = Date.now() + DRAIN_TIMEOUT_MS;
    for (;;) {
      events = await listAllEvents(gateway, { status: "processed" });
      if (events.length >= N - failures || Date.now() > deadline) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    // updated_at is the consumer's commit: the detail route has it, the list does not.
    const commits = await mapLimit(events, 16, async (e) =>
      Date.parse((await getEvent(gateway as DevGateway, e.id))?.updatedAt ?? ""),
    );
    const received = events.map((e) => Date.parse(e.receivedAt));
    const committed = commits;
    const latencies = events.map((_, i) => (committed[i] as number) - (received[i] as number)).sort((a, b) => a - b);
    const drainSeconds = (Math.max(...committed) - Math.min(...received)) / 1000;
    const rows = events;
    const ingestRate = (N - failures) / ingestSeconds;
    const drainRate = rows.length / drainSeconds;

    console.log(`bench:drain  ${new Date().toISOString()}  ${cpus().length} cores, ${cpus()[0]?.model ?? "?"}`);
    console.log(`deliveries        ${N} distinct Nova events, concurrency ${CONCURRENCY}, non-202: ${failures}`);
    console.log(`ingest rate       ${ingestRate.toFixed(0)} deliveries/s  (${ingestSeconds.toFixed(2)} s)`);
    console.log(
      `drain rate        ${drainRate.toFixed(0)} events/s committed  (${rows.length} in ${drainSeconds.toFixed(2)} s)`,
    );
    console.log(`drain / ingest    ${(drainRate / ingestRate).toFixed(2)}  (target ≥ 1.00: no backlog growth)`);
    console.log(
      `accept→commit     p50 ${quantile(latencies, 0.5)} ms  p95 ${quantile(latencies, 0.95)} ms  p99 ${quantile(latencies, 0.99)} ms  max ${latencies.at(-1)} ms` +
        `  (target p95 ≤ ${BATCH_TIMEOUT_S * 1000 + 500} ms)`,
    );
    if (rows.length < N - failures)
      console.log(`NOT DRAINED: ${rows.length} of ${N - failures} after ${DRAIN_TIMEOUT_MS / 1000} s`);
  } finally {
    await stop();
  }
}

await main();
