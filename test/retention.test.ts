import { createScheduledController } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import worker from "../src/index";
import { purgeExpired } from "../src/maintenance/retention";
import { consume, countingRegistry, messageFor } from "./support/consumer";
import { NOW_MS } from "./support/gateway";
import { novaEvent, nuvouchApprovalEvent } from "./support/payloads";

const DAY = 24 * 60 * 60 * 1000;

async function count(sql: string, ...params: unknown[]) {
  return (
    (await env.DB.prepare(sql)
      .bind(...params)
      .first<number>("n")) ?? 0
  );
}

describe("retention purge (daily cron)", () => {
  it("removes orphaned parked payloads only after the queue's 14-day retention", async () => {
    const insert = env.DB.prepare("INSERT INTO payload_blobs (id, payload, created_at) VALUES (?, '{}', ?)");
    await env.DB.batch([insert.bind("blob_old", NOW_MS - 16 * DAY), insert.bind("blob_recent", NOW_MS - 13 * DAY)]);
    await purgeExpired(env.DB, { nowMs: NOW_MS, eventRetentionDays: undefined });
    expect(await count("SELECT count(*) AS n FROM payload_blobs WHERE id = 'blob_old'")).toBe(0);
    expect(await count("SELECT count(*) AS n FROM payload_blobs WHERE id = 'blob_recent'")).toBe(1);
  });

  it("keeps every event while EVENT_RETENTION_DAYS is unset; with it, drops old processed events but not their effects", async () => {
    const { registry, runs } = countingRegistry();
    const old = await messageFor(
      "nuvouch",
      nuvouchApprovalEvent("nuvouch.approval.approved", { externalRequestId: "retained_1" }),
      {
        receivedAt: new Date(NOW_MS - 40 * DAY).toISOString(),
      },
    );
    const recent = await messageFor("nova", novaEvent(), { receivedAt: new Date(NOW_MS - 2 * DAY).toISOString() });
    const dead = await messageFor("nova", novaEvent(), { receivedAt: new Date(NOW_MS - 40 * DAY).toISOString() });
    await consume([old, recent], { registry });
    await consume([dead], { queue: "webhook-events-dlq" });

    await purgeExpired(env.DB, { nowMs: NOW_MS, eventRetentionDays: undefined });
    expect(await count("SELECT count(*) AS n FROM events WHERE id IN (?, ?, ?)", old.id, recent.id, dead.id)).toBe(3);

    await purgeExpired(env.DB, { nowMs: NOW_MS, eventRetentionDays: 30 });
    expect(await count("SELECT count(*) AS n FROM events WHERE id = ?", old.id)).toBe(0);
    expect(await count("SELECT count(*) AS n FROM effects WHERE event_id = ?", old.id)).toBe(1);
    expect(await count("SELECT count(*) AS n FROM events WHERE id IN (?, ?)", recent.id, dead.id)).toBe(2);
    // Business state outlives the event log.
    expect(await count("SELECT count(*) AS n FROM nuvouch_approvals WHERE external_request_id = 'retained_1'")).toBe(1);

    // The same callback re-sent after its event was purged: recorded again, its effect not run again.
    const runsBefore = runs.length;
    await consume([old], { registry });
    expect(runs).toHaveLength(runsBefore);
  });

  it("never forgets an event inside the 7-day floor, whatever EVENT_RETENTION_DAYS says", async () => {
    const message = await messageFor("nova", novaEvent(), { receivedAt: new Date(NOW_MS - 3 * DAY).toISOString() });
    await consume([message]);
    await purgeExpired(env.DB, { nowMs: NOW_MS, eventRetentionDays: 1 });
    expect(await count("SELECT count(*) AS n FROM events WHERE id = ?", message.id)).toBe(1);
  });

  it("is wired as the worker's scheduled handler", async () => {
    await env.DB.prepare("INSERT INTO payload_blobs (id, payload, created_at) VALUES ('blob_cron', '{}', 0)").run();
    const controller = createScheduledController({ scheduledTime: NOW_MS, cron: "17 3 * * *" });
    await worker.scheduled(controller, env);
    expect(await count("SELECT count(*) AS n FROM payload_blobs WHERE id = 'blob_cron'")).toBe(0);
  });
});
