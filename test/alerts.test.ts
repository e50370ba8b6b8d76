import { env } from "cloudflare:workers";
import { Webhook } from "standardwebhooks";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { ALERT_INTERVAL_MS, flushAlerts, noteAlert } from "../src/alerts/outbox";
import { getConfig } from "../src/config";
import { purgeExpired } from "../src/maintenance/retention";
import { consume, messageFor } from "./support/consumer";
import { NOW_MS } from "./support/gateway";
import { novaEvent } from "./support/payloads";
import { TEST_SECRETS } from "./support/secrets";

beforeEach(async () => {
  // Every test starts with an empty outbox and a sender free to send.
  await env.DB.batch([env.DB.prepare("DELETE FROM alerts_outbox"), env.DB.prepare("DELETE FROM alert_sender")]);
  vi.spyOn(console, "log").mockImplementation(() => {});
  vi.spyOn(console, "warn").mockImplementation(() => {});
  vi.spyOn(console, "error").mockImplementation(() => {});
});
afterEach(() => vi.restoreAllMocks());

interface Received {
  path: string;
  headers: Record<string, string>;
  body: string;
}
interface Alert {
  type: string;
  sentAt: string;
  events: { id: string; provider: string; type: string; status: string; reason: string | null; at: string }[];
}

/** The sink's record of the alerts sent to `path` (a path of this test's own). */
async function alertsAt(path: string): Promise<Received[]> {
  const all = (await (await fetch(`${env.FORWARD_SINK_URL}/_received`)).json()) as Received[];
  return all.filter((r) => r.path === path);
}
const alertEnv = (path: string, extra: Record<string, string> = {}) =>
  ({ ...env, ALERT_URL: `${env.FORWARD_SINK_URL}${path}`, ...extra }) as Env;
const outboxSize = () => env.DB.prepare("SELECT COUNT(*) AS n FROM alerts_outbox").first<number>("n");

describe("configuration", () => {
  it("ALERT_URL without FORWARD_SIGNING_SECRET is a configuration error", () => {
    expect(() =>
      getConfig({ ...env, ALERT_URL: "https://ops.example/alerts", FORWARD_SIGNING_SECRET: "" } as Env),
    ).toThrow(/FORWARD_SIGNING_SECRET/);
    expect(() => getConfig({ ...env, ALERT_URL: "not a url" } as Env)).toThrow();
    expect(getConfig({ ...env, ALERT_URL: " " } as Env).ALERT_URL).toBeUndefined();
  });
});

describe("alerts", () => {
  it("a dead letter is POSTed to ALERT_URL, signed per Standard Webhooks, with the event's last error", async () => {
    const path = "/ok?alerts=signed";
    const testEnv = alertEnv(path);
    const message = await messageFor("nova", novaEvent({ type: "payment.failed" }));
    // The consumer's own flush (waitUntil after the batch) sends it.
    await consume([message], { queue: "webhook-events-dlq", env: testEnv, nowMs: NOW_MS });
    const [request, ...more] = await alertsAt(path);
    expect(more).toEqual([]);
    expect(request).toBeDefined();
    // Verified by the standardwebhooks package, not by our code.
    const alert = new Webhook(TEST_SECRETS.FORWARD_SIGNING_SECRET).verify(
      request?.body ?? "",
      request?.headers ?? {},
    ) as Alert;
    expect(alert).toEqual({
      type: "gateway.alert",
      sentAt: expect.any(String),
      events: [
        {
          id: message.id,
          provider: "nova",
          type: "payment.failed",
          status: "dead",
          reason: "retries exhausted before the event was recorded",
          at: new Date(NOW_MS).toISOString(),
        },
      ],
    });
    expect(() => new Webhook("whsec_b3RoZXJfc2VjcmV0").verify(request?.body ?? "", request?.headers ?? {})).toThrow();
    expect(await outboxSize()).toBe(0);
  });

  it("a burst of 1,000 dead letters sends two alerts, not 1,000, and every event is in one", async () => {
    const path = "/ok?alerts=burst";
    const testEnv = alertEnv(path);
    const base = NOW_MS + 3_600_000;
    const messages = await Promise.all(Array.from({ length: 1000 }, () => messageFor("nova", novaEvent())));
    // Ten DLQ batches within the interval: the first batch's flush sends, the others are not due.
    for (let i = 0; i < 1000; i += 100) {
      await consume(messages.slice(i, i + 100), { queue: "webhook-events-dlq", env: testEnv, nowMs: base + i * 10 });
    }
    expect(await alertsAt(path)).toHaveLength(1);
    expect(await outboxSize()).toBe(900);
    // Still inside the interval: nothing more.
    expect(await flushAlerts(testEnv, base + ALERT_INTERVAL_MS - 1)).toEqual({ skipped: "not_due" });
    // Once it has passed, one POST takes all the rest.
    expect(await flushAlerts(testEnv, base + ALERT_INTERVAL_MS)).toEqual({ sent: 900, status: 200 });
    const alerts = await alertsAt(path);
    expect(alerts).toHaveLength(2);
    const ids = alerts.flatMap((a) => (JSON.parse(a.body) as Alert).events.map((e) => e.id));
    expect(ids.sort()).toEqual(messages.map((m) => m.id).sort());
    expect(await outboxSize()).toBe(0);
    expect(await flushAlerts(testEnv, base + 2 * ALERT_INTERVAL_MS)).toEqual({ skipped: "nothing_pending" });
  }, 60_000);

  it("is delivered at least once: kept until ALERT_URL answers 2xx, then deleted", async () => {
    const base = NOW_MS + 2 * 3_600_000;
    const message = await messageFor("nova", novaEvent());
    await consume([message], { queue: "webhook-events-dlq", env: alertEnv("/fail?alerts=retry"), nowMs: base });
    expect(await alertsAt("/fail?alerts=retry")).toHaveLength(1);
    expect(await outboxSize()).toBe(1);
    // The next try waits for the interval, then succeeds.
    expect(await flushAlerts(alertEnv("/ok?alerts=retry"), base + 1000)).toEqual({ skipped: "not_due" });
    expect(await flushAlerts(alertEnv("/ok?alerts=retry"), base + ALERT_INTERVAL_MS)).toEqual({ sent: 1, status: 200 });
    const [retried] = await alertsAt("/ok?alerts=retry");
    expect((JSON.parse(retried?.body ?? "{}") as Alert).events.map((e) => e.id)).toEqual([message.id]);
    expect(await outboxSize()).toBe(0);
  });

  it("a target that cannot be reached keeps the notices too", async () => {
    const base = NOW_MS + 3 * 3_600_000;
    const message = await messageFor("nova", novaEvent());
    // Nothing listens on port 9 (workerd logs the refused connection even though it is caught).
    const unreachable = { ...env, ALERT_URL: "http://127.0.0.1:9/alerts" } as Env;
    await consume([message], { queue: "webhook-events-dlq", env: unreachable, nowMs: base });
    expect(await flushAlerts(unreachable, base + ALERT_INTERVAL_MS)).toEqual({ failed: expect.any(String) });
    expect(await outboxSize()).toBe(1);
  });

  it("two senders at once: one POST", async () => {
    const path = "/ok?alerts=race";
    const testEnv = alertEnv(path);
    const base = NOW_MS + 4 * 3_600_000;
    // Dead without ALERT_URL (so not noted by the consumer), then noted by hand.
    const message = await messageFor("nova", novaEvent());
    await consume([message], { queue: "webhook-events-dlq", nowMs: base });
    await noteAlert(env.DB, { eventId: message.id, provider: "nova", type: message.type, status: "dead" }, base).run();
    const results = await Promise.all([flushAlerts(testEnv, base), flushAlerts(testEnv, base)]);
    expect(results).toContainEqual({ sent: 1, status: 200 });
    expect(await alertsAt(path)).toHaveLength(1);
  });

  it("a notice written while an alert is in flight stays for the next alert", async () => {
    const path = "/ok?alerts=inflight";
    const base = NOW_MS + 7 * 3_600_000;
    const [early, late] = [await messageFor("nova", novaEvent()), await messageFor("nova", novaEvent())];
    await consume([early, late], { queue: "webhook-events-dlq", nowMs: base });
    const notice = (m: typeof early) => ({ eventId: m.id, provider: "nova", type: m.type, status: "dead" as const });
    await noteAlert(env.DB, notice(early), base).run();
    // D1 passed through, except that the late notice lands right after the sender read the outbox.
    const db = new Proxy(env.DB, {
      get(target, key) {
        if (key !== "prepare") return Reflect.get(target, key);
        return (sql: string) => {
          const statement = target.prepare(sql);
          if (!sql.startsWith("SELECT * FROM alerts_outbox")) return statement;
          return {
            bind: (...values: unknown[]) => ({
              all: async () => {
                const read = await statement.bind(...values).all();
                await noteAlert(target, notice(late), base).run();
                return read;
              },
            }),
          };
        };
      },
    });
    const testEnv = { ...alertEnv(path), DB: db } as Env;
    expect(await flushAlerts(testEnv, base)).toEqual({ sent: 1, status: 200 });
    expect(await flushAlerts(alertEnv(path), base + ALERT_INTERVAL_MS)).toEqual({ sent: 1, status: 200 });
    const sent = (await alertsAt(path)).map((a) => (JSON.parse(a.body) as Alert).events.map((e) => e.id));
    expect(sent).toEqual([[early.id], [late.id]]);
  });

  it("one notice per event and status: a redelivered dead letter does not repeat it", async () => {
    const base = NOW_MS + 5 * 3_600_000;
    const testEnv = alertEnv("/fail?alerts=dedupe");
    const message = await messageFor("nova", novaEvent());
    await consume([message], { queue: "webhook-events-dlq", env: testEnv, nowMs: base });
    await consume([message], { queue: "webhook-events-dlq", env: testEnv, nowMs: base + 1000 });
    expect(await outboxSize()).toBe(1);
  });

  it("no notice for an event that is not in that status (a dead letter for a processed event)", async () => {
    const message = await messageFor("nova", novaEvent());
    await consume([message]);
    await consume([message], { queue: "webhook-events-dlq", env: alertEnv("/fail?alerts=processed") });
    expect(await outboxSize()).toBe(0);
    await noteAlert(
      env.DB,
      { eventId: message.id, provider: "nova", type: message.type, status: "quarantined" },
      NOW_MS,
    ).run();
    expect(await outboxSize()).toBe(0);
  });

  it("without ALERT_URL nothing is noted and a flush touches nothing", async () => {
    const message = await messageFor("nova", novaEvent());
    await consume([message], { queue: "webhook-events-dlq" });
    expect(await outboxSize()).toBe(0);
    expect(await flushAlerts(env, NOW_MS)).toEqual({ skipped: "not_configured" });
  });

  it("the daily purge drops notices no target took for 7 days", async () => {
    const base = NOW_MS + 6 * 3_600_000;
    const message = await messageFor("nova", novaEvent());
    await consume([message], { queue: "webhook-events-dlq", env: alertEnv("/fail?alerts=purge"), nowMs: base });
    await purgeExpired(env.DB, { nowMs: base + 6 * 86_400_000, eventRetentionDays: undefined });
    expect(await outboxSize()).toBe(1);
    await purgeExpired(env.DB, { nowMs: base + 8 * 86_400_000, eventRetentionDays: undefined });
    expect(await outboxSize()).toBe(0);
  });
});
