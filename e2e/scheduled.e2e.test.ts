// The five-minute cron (docs/contract.md §9) end to end, triggered as an operator would under
// `wrangler dev`: reconciliation finds a decision Nuvouch made without sending its callback
// (the fake Nuvouch decides it silently), and the sweep revives a `retrying` event whose
// queue message is long gone.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { randomInt } from "node:crypto";
import { join, resolve } from "node:path";
import { after, before, describe, it } from "node:test";
import { startFakeNuvouch } from "../scripts/fake-nuvouch/server.ts";
import { approvalRequestBody } from "../src/providers/nuvouch/simulator.node.ts";
import { type DevGateway, devSecrets, eventually, startDevGateway } from "./support/dev-gateway.ts";
import { adminGet, adminPost, listAllEvents, processedEvent, sendSigned } from "./support/operator.ts";
import { runSimulator } from "./support/simulator-cli.ts";

const ROOT = resolve(import.meta.dirname, "..");
const CONTEXT = "merchant:acct_live_001";
const token = () => randomInt(2 ** 40).toString(36);

let fake: Awaited<ReturnType<typeof startFakeNuvouch>>;
let gateway: DevGateway;

before(async () => {
  const secrets = devSecrets();
  fake = await startFakeNuvouch({
    apiKey: secrets.NUVOUCH_INTEGRATOR_API_KEY as string,
    callbackSecret: secrets.NUVOUCH_CALLBACK_SECRET as string,
  });
  // Every pending approval is due at once, so one cron run is enough to see it reconciled.
  gateway = await startDevGateway({ vars: { NUVOUCH_API_BASE_URL: fake.url, RECONCILE_AFTER_SECONDS: "0" } });
  await control("gateway", { url: gateway.url });
});

after(async () => {
  await gateway?.stop();
  await fake?.close();
});

async function control(path: string, body?: unknown) {
  const response = await fetch(`${fake.url}/_control/${path}`, {
    method: "POST",
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  assert.ok(response.ok, `fake Nuvouch ${path} answered ${response.status}`);
  return response.json() as Promise<Record<string, unknown>>;
}

/** What `curl "http://127.0.0.1:<port>/cdn-cgi/local/scheduled?cron=*\/5+*+*+*+*"` does. */
async function triggerCron() {
  const response = await fetch(`${gateway.url}/cdn-cgi/local/scheduled?cron=*/5+*+*+*+*`);
  assert.equal(response.status, 200, await response.text());
}

async function json<T>(response: Response): Promise<T> {
  return (await response.json()) as T;
}

describe("reconciliation: an approval decided at Nuvouch whose callback never came", () => {
  const subjectId = `cus_e2e_reconcile_${token()}`;
  const externalRequestId = `payment_auth_reconcile_${token()}`;
  let approvalRequestId: string;

  before(async () => {
    const created = await adminPost(gateway, "/api/nuvouch/connections", { subjectId, contextKey: CONTEXT });
    assert.equal(created.status, 201);
    const { connectionSessionId } = await json<{ connectionSessionId: string }>(created);
    // The fake signs and sends nuvouch.connection.accepted to the gateway, as Nuvouch would.
    await control(`callbacks/accept/${connectionSessionId}`);
    const query = new URLSearchParams({ subjectId, contextKey: CONTEXT });
    await eventually(
      async () => {
        const { body } = await adminGet<{ status?: string }>(gateway, `/api/nuvouch/connections?${query}`);
        return body.status === "accepted" ? true : undefined;
      },
      30_000,
      "connection accepted",
    );
    const approval = await adminPost(
      gateway,
      "/api/nuvouch/approvals",
      approvalRequestBody({
        subjectId,
        contextKey: CONTEXT,
        externalRequestId,
        expiresAt: new Date(Date.now() + 3_600_000).toISOString(),
      }),
    );
    assert.equal(approval.status, 201);
    ({ approvalRequestId } = await json<{ approvalRequestId: string }>(approval));
    await control(`decisions/approve/${externalRequestId}`);
  });

  it("one cron run decides it, as an event nuvouch.approval.approved, with the effect once", async () => {
    const path = `/api/nuvouch/approvals/${encodeURIComponent(externalRequestId)}`;
    assert.equal((await adminGet<{ status: string }>(gateway, path)).body.status, "pending");
    await triggerCron();
    const decided = await eventually(
      async () => {
        const { body } = await adminGet<{ status: string; effect: { status: string } | null }>(gateway, path);
        return body.status === "approved" && body.effect?.status === "done" ? body : undefined;
      },
      30_000,
      "approval reconciled",
    );
    assert.deepEqual(decided.effect, { status: "done", attempts: 1 });

    const events = await listAllEvents(gateway, { provider: "nuvouch", type: "nuvouch.approval.approved" });
    const reconciled = events.filter((e) => e.dedupeKey === `reconcile_${approvalRequestId}_approved`);
    assert.equal(reconciled.length, 1);
    const event = await processedEvent(gateway, (reconciled[0] as { id: string }).id);
    assert.deepEqual(
      event.effects.map(({ id, status, attempts }) => ({ id, status, attempts })),
      [{ id: `approval:${externalRequestId}:approval-approved`, status: "done", attempts: 1 }],
    );
    assert.match(gateway.logs(), /"message":"nuvouch reconciliation"/);
  });

  it("Nuvouch's callback arriving late is processed and changes nothing; the next run finds nothing to do", async () => {
    const sent = (await control(`callbacks/approve/${externalRequestId}`)) as { status: number; body: { id: string } };
    assert.equal(sent.status, 202);
    const late = await processedEvent(gateway, sent.body.id);
    assert.deepEqual(late.effects, []);

    await triggerCron();
    const { body } = await adminGet<{ status: string; effect: unknown }>(
      gateway,
      `/api/nuvouch/approvals/${encodeURIComponent(externalRequestId)}`,
    );
    assert.equal(body.status, "approved");
    assert.deepEqual(body.effect, { status: "done", attempts: 1 });
    const events = await listAllEvents(gateway, { provider: "nuvouch", type: "nuvouch.approval.approved" });
    assert.equal(events.filter((e) => e.dedupeKey.startsWith("reconcile_")).length, 1);
  });
});

describe("sweep: a retrying event whose queue message is gone", () => {
  it("is re-enqueued by the cron and processed", async () => {
    const eventId = `evt_e2e_sweep_${token()}`;
    const body = JSON.stringify({
      eventId,
      type: "payment.succeeded",
      occurredAt: new Date().toISOString(),
      data: { paymentId: `pay_${token()}`, amount: 1000, currency: "EUR" },
      version: 1,
    });
    const answer = await sendSigned(gateway, "nova", body);
    assert.equal(answer.status, 202);
    const id = answer.body.id as string;
    const first = await processedEvent(gateway, id);
    assert.equal(first.attempts, 1);

    // As an outage would leave it: retrying, last touched long before any message could live.
    const execute = spawnSync(
      join(ROOT, "node_modules/.bin/wrangler"),
      [
        "d1",
        "execute",
        "DB",
        "--local",
        "--persist-to",
        gateway.persistDir,
        "--command",
        `UPDATE events SET status = 'retrying', updated_at = '2000-01-01T00:00:00.000Z' WHERE id = '${id}'`,
      ],
      {
        cwd: ROOT,
        encoding: "utf8",
        env: { ...process.env, PATH: `${join(ROOT, "node_modules/.bin")}:${process.env.PATH ?? ""}`, CI: "true" },
      },
    );
    assert.equal(execute.status, 0, `${execute.stdout}\n${execute.stderr}`);
    const stuck = await adminGet<{ status: string }>(gateway, `/api/events/${id}`);
    assert.equal(stuck.body.status, "retrying");

    await triggerCron();
    const swept = await eventually(
      async () => {
        const { body: event } = await adminGet<{ status: string; attempts: number }>(gateway, `/api/events/${id}`);
        return event.status === "processed" && event.attempts === 2 ? event : undefined;
      },
      30_000,
      "swept event processed",
    );
    assert.equal(swept.attempts, 2);
    assert.match(gateway.logs(), /"message":"stuck event sweep"/);
  });
});

describe("the simulator's scenario nuvouch-missed-callback, against this gateway and fake Nuvouch", () => {
  it("creates the connection and the approval, decides it at Nuvouch only, fires the cron, and sees it approved", async () => {
    const subject = `cus_e2e_missed_${token()}`;
    const externalRequestId = `payment_auth_missed_${token()}`;
    const run = await runSimulator([
      "scenario",
      "nuvouch-missed-callback",
      "--url",
      gateway.url,
      "--nuvouch-url",
      fake.url,
      "--subject",
      subject,
      "--external-request-id",
      externalRequestId,
    ]);
    assert.equal(run.code, 0, `${run.stdout}\n${run.stderr}`);
    assert.deepEqual(
      run.outcomes.map((o) => [o.provider, o.event, o.status]),
      [
        ["operator", "POST", 201],
        ["nuvouch", "POST", 200],
        ["poll", "GET", 200],
        ["operator", "POST", 201],
        ["nuvouch", "POST", 200],
        ["cron", "GET", 200],
        ["poll", "GET", 200],
      ],
      run.stdout,
    );

    // What the simulator saw, read back: decided by reconciliation, the effect run once.
    const approval = await adminGet<{ status: string; subjectId: string; effect: unknown }>(
      gateway,
      `/api/nuvouch/approvals/${encodeURIComponent(externalRequestId)}`,
    );
    assert.equal(approval.body.status, "approved");
    assert.equal(approval.body.subjectId, subject);
    assert.deepEqual(approval.body.effect, { status: "done", attempts: 1 });
    const events = await listAllEvents(gateway, { provider: "nuvouch", type: "nuvouch.approval.approved" });
    const reconciled = [];
    for (const event of events.filter((e) => e.dedupeKey.startsWith("reconcile_"))) {
      const detail = await processedEvent(gateway, event.id);
      if ((detail.payload as { data?: { externalRequestId?: string } }).data?.externalRequestId === externalRequestId) {
        reconciled.push(detail);
      }
    }
    assert.equal(reconciled.length, 1, "one reconciled event for the approval, no callback");
  });
});
