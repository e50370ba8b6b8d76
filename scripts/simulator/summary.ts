// The run's last lines: answers by status, how the byte-identical re-sends were answered, latency.
import type { Outcome } from "./sending.ts";

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

export function summary(outcomes: Outcome[], baseUrl: URL, elapsedMs: number): string {
  const byStatus = new Map<string, number>();
  for (const o of outcomes) {
    const key = o.status === undefined ? "ERR" : String(o.status);
    byStatus.set(key, (byStatus.get(key) ?? 0) + 1);
  }
  const deliveries = outcomes.flatMap((o) => (o.item.kind === "delivery" ? [{ ...o, item: o.item }] : []));
  const resends = deliveries.filter((o) => o.item.resendOf !== undefined);
  const answeredDuplicate = deliveries.filter((o) => answerStatus(o.body) === "duplicate").length;
  // A re-send in flight together with its original can pass the KV fast path too; the
  // queue consumer's unique key is what dedupes those, so they are worth seeing.
  const acceptedPerBody = new Map<number, number>();
  for (const o of deliveries) {
    if (answerStatus(o.body) !== "accepted") continue;
    const original = o.item.resendOf ?? o.item.seq;
    acceptedPerBody.set(original, (acceptedPerBody.get(original) ?? 0) + 1);
  }
  const acceptedAgain = [...acceptedPerBody.values()].reduce((sum, n) => sum + n - 1, 0);
  const latencies = deliveries
    .filter((o) => o.status !== undefined)
    .map((o) => o.ms)
    .sort((a, b) => a - b);
  const statuses = [...byStatus.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([status, count]) => `${status}×${count}`)
    .join("  ");
  const [one, many] = deliveries.length === outcomes.length ? ["delivery", "deliveries"] : ["request", "requests"];
  return [
    `── ${outcomes.length} ${outcomes.length === 1 ? one : many} to ${baseUrl.origin} in ${(elapsedMs / 1000).toFixed(2)}s`,
    `   by status   ${statuses || "(none)"}`,
    `   duplicates  ${resends.length} re-sent byte-identical, ${answeredDuplicate} answered "duplicate"` +
      (acceptedAgain > 0 ? `, ${acceptedAgain} accepted more than once (raced their twin)` : ""),
    latencies.length > 0
      ? `   latency     p50 ${percentile(latencies, 50).toFixed(1)}ms  p99 ${percentile(latencies, 99).toFixed(1)}ms`
      : "   latency     (no responses)",
  ].join("\n");
}
