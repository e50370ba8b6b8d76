// Alerts (docs/contract.md §1 ALERT_URL) and the bulk replay of dead letters (§7) end to end,
// under `wrangler dev`: an event that turns `dead` or `quarantined` reaches ALERT_URL in a POST
// signed per Standard Webhooks with FORWARD_SIGNING_SECRET; a burst is coalesced into a bounded
// number of POSTs; and a dead event, replayed in bulk once its forward target is back, is
// processed with both attempts in its effect's history and the replay in the audit list.
// The main queue dead-letters on the first failure here (max_retries 0), so nothing waits
// through the production backoff.
import assert from "node:assert/strict";
import { randomInt } from "node:crypto";
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import { Webhook } from "standardwebhooks";
import { newStory } from "../src/providers/simulation.node.ts";
import { buildPayload } from "../src/providers/simulators.node.ts";
import { type DevGateway, devSecrets, eventually, startDevGateway } from "./support/dev-gateway.ts";
import { adminGet, adminPost, getEvent, mapLimit, processedEvent, sendSigned } from "./support/operator.ts";

const run = randomInt(2 ** 40).toString(36);
/** The forward target refuses events carrying this marker while `refuseMarked` is set. */
const DEAD_MARKER = `cus_alert_dead_${run}`;
const BURST = 20;

interface Posted {
  headers: IncomingHttpHeaders;
  body: string;
  at: number;
}

interface AlertBody {
  type: string;
  sentAt: string;
  events: { id: string; provider: string; type: string; status: string; reason: string | null; at: string }[];
}

const alerts: Posted[] = [];
let refuseMarked = true;
let sink: Server;
let gateway: DevGateway;

before(async () => {
  sink = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      const body = Buffer.concat(chunks).toString("utf8");
      if (request.url === "/alerts") {
        alerts.push({ headers: request.headers, body, at: Date.now() });
        response.writeHead(204).end();
        return;
      }
      const refuse = refuseMarked && body.includes(DEAD_MARKER);
      response.writeHead(refuse ? 503 : 200, { "content-type": "text/plain" }).end(refuse ? "down" : "ok");
    });
  });
  await new Promise<void>((listening) => sink.listen(0, "127.0.0.1", listening));
  const base = `http://127.0.0.1:${(sink.address() as AddressInfo).port}`;
  gateway = await startDevGateway({
    queueMaxRetries: 0,
    vars: { FORWARD_URL: `${base}/forward`, ALERT_URL: `${base}/alerts` },
  });
});

after(async () => {
  await gateway?.stop();
  await new Promise<void>((closed) => (sink ? sink.close(() => closed()) : closed()));
});

/** Verifies one alert POST as a Standard Webhooks consumer would, and returns its body. */
function verified(alert: Posted): AlertBody {
  const headers = {
    "webhook-id": String(alert.headers["webhook-id"]),
    "webhook-timestamp": String(alert.headers["webhook-timestamp"]),
    "webhook-signature": String(alert.headers["webhook-signature"]),
  };
  return new Webhook(devSecrets().FORWARD_SIGNING_SECRET as string).verify(alert.body, headers) as AlertBody;
}

const alertedIds = (posts: Posted[], status: string) =>
  new Set(
    posts.flatMap((post) =>
      verified(post)
        .events.filter((e) => e.status === status)
        .map((e) => e.id),
    ),
  );

/** What `curl "http://127.0.0.1:<port>/cdn-cgi/local/scheduled?cron=*\/5+*+*+*+*"` does. */
async function triggerCron() {
  const response = await fetch(`${gateway.url}/cdn-cgi/local/scheduled?cron=*/5+*+*+*+*`);
  assert.equal(response.status, 200, await response.text());
}

describe("alerts to ALERT_URL, and the bulk replay of dead letters", () => {
  let deadId: string;

  it("an event that turns dead is alerted, signed like a forward", { timeout: 60_000 }, async () => {
    const payload = buildPayload("nova", "payment.succeeded", newStory({ subject: DEAD_MARKER }));
    const answer = await sendSigned(gateway, "nova", JSON.stringify(payload));
    assert.equal(answer.status, 202);
    deadId = answer.body.id as string;
    const dead = await eventually(
      async () => {
        const event = await getEvent(gateway, deadId);
        return event?.status === "dead" ? event : undefined;
      },
      30_000,
      `event ${deadId} dead`,
    );
    assert.deepEqual(
      dead.effects.map(({ name, status }) => ({ name, status })),
      [{ name: "forward", status: "dead" }],
    );
    // The dead-letter consumer flushes what it noted; the cron would send it otherwise.
    const [alert] = await eventually(
      async () => {
        const posts = alerts.filter((post) => alertedIds([post], "dead").has(deadId));
        if (posts.length > 0) return posts;
        await triggerCron();
        return undefined;
      },
      45_000,
      `an alert for ${deadId}`,
    );
    assert.ok(alert);
    assert.equal(alert.headers["content-type"], "application/json");
    const body = verified(alert);
    assert.equal(body.type, "gateway.alert");
    const notice = body.events.find((e) => e.id === deadId);
    assert.deepEqual(
      { provider: notice?.provider, type: notice?.type, status: notice?.status },
      { provider: "nova", type: "payment.succeeded", status: "dead" },
    );
    assert.match(String(notice?.reason), /503/);
    // Another key does not verify it: the check is real.
    assert.throws(() =>
      new Webhook("whsec_bm90LXRoZS1mb3J3YXJkLXNlY3JldA==").verify(alert.body, {
        "webhook-id": String(alert.headers["webhook-id"]),
        "webhook-timestamp": String(alert.headers["webhook-timestamp"]),
        "webhook-signature": String(alert.headers["webhook-signature"]),
      }),
    );
  });

  it("a bulk replay of dead events, once the target is back: processed, audited, history kept", async () => {
    assert.ok(deadId, "the dead letter of the test before");
    refuseMarked = false;
    const response = await adminPost(gateway, "/api/events/replay", { status: "dead", provider: "nova" });
    assert.equal(response.status, 202);
    assert.deepEqual(await response.json(), { replayed: 1 });
    const event = await processedEvent(gateway, deadId);
    const [forward] = event.effects;
    assert.equal(forward?.status, "done");
    assert.deepEqual(
      forward?.history.map(({ outcome, httpStatus }) => ({ outcome, httpStatus })),
      [
        { outcome: "failed", httpStatus: 503 },
        { outcome: "done", httpStatus: 200 },
      ],
      "the replay appended to the history, it did not erase the failure",
    );
    const { body } = await adminGet<{ actions: { action: string; count: number; filters?: { status?: string } }[] }>(
      gateway,
      "/api/audit",
    );
    const [newest] = body.actions;
    assert.deepEqual(
      { action: newest?.action, count: newest?.count, status: newest?.filters?.status },
      { action: "bulk_replay", count: 1, status: "dead" },
    );
  });

  it(`a burst of ${BURST} quarantined deliveries is coalesced into fewer alert POSTs`, {
    timeout: 90_000,
  }, async () => {
    const before = alerts.length;
    const ids = await mapLimit(
      Array.from({ length: BURST }, (_, i) => i),
      4,
      async (i) => {
        const answer = await sendSigned(gateway, "nova", `not a webhook ${run} #${i}`, "text/plain");
        assert.equal(answer.status, 202);
        assert.equal(answer.body.status, "quarantined");
        return answer.body.id as string;
      },
    );
    // Alerts go out at most once per interval (30 s), each with every pending notice: fire the
    // cron every 2 s until all of them have been told, bounded in time.
    const deadline = Date.now() + 60_000;
    for (;;) {
      const told = alertedIds(alerts.slice(before), "quarantined");
      if (ids.every((id) => told.has(id))) break;
      assert.ok(Date.now() < deadline, `only ${told.size} of ${BURST} quarantined events alerted within 60 s`);
      await triggerCron();
      await new Promise((r) => setTimeout(r, 2000));
    }
    const posts = alerts.slice(before);
    assert.ok(posts.length < BURST, `${posts.length} alert POSTs for ${BURST} events`);
    assert.ok(posts.length <= 2, `coalesced: ${posts.length} alert POSTs`);
    for (const post of posts) {
      for (const notice of verified(post).events) {
        if (notice.status !== "quarantined") continue;
        assert.equal(notice.provider, "nova");
        assert.ok(notice.reason, "the reasons travel with the notice");
      }
    }
    // Each event is told once, and the replayed event (processed now) is not told again.
    const notices = posts.flatMap((post) => verified(post).events);
    assert.equal(notices.filter((n) => ids.includes(n.id)).length, BURST);
    assert.ok(!notices.some((n) => n.id === deadId));
  });
});
