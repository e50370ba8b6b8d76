// The simulator's scenarios, sent by the simulator CLI itself to a real `wrangler dev`, and
// the state they leave read back through the operator API (docs/contract.md §5 and §7).
import assert from "node:assert/strict";
import { randomInt } from "node:crypto";
import { resolve } from "node:path";
import { after, before, describe, it } from "node:test";
import { loadSecrets } from "../scripts/simulator/secrets.ts";
import { simulators } from "../src/providers/simulators.node.ts";
import { type DevGateway, eventually, startDevGateway } from "./support/dev-gateway.ts";
import { adminGet, adminPost, getEvent, listAllEvents, processedEvent } from "./support/operator.ts";
import { type CliOutcome, type CliRun, runSimulator } from "./support/simulator-cli.ts";

const ROOT = resolve(import.meta.dirname, "..");

let gateway: DevGateway;
before(async () => {
  gateway = await startDevGateway();
});
after(async () => {
  await gateway?.stop();
});

const token = () => randomInt(2 ** 40).toString(36);

it("the simulator CLI signs with the secrets the gateway was started with", () => {
  // The CLI reads .dev.vars (else .dev.vars.example); the gateway runs on .dev.vars.example.
  const cli = loadSecrets(ROOT);
  for (const provider of ["nova", "nuvei", "nuvouch"] as const) {
    assert.equal(
      cli.secrets[provider][0],
      gateway.secrets[simulators[provider].secretBinding]?.split(",")[0],
      `${cli.file} holds another ${simulators[provider].secretBinding} than .dev.vars.example: the CLI's deliveries would be refused`,
    );
  }
});

function describeRun(run: CliRun): string {
  return `exit ${run.code}\n${run.stdout}\n${run.stderr}`;
}

/** The gateway id an answer carries; every answered delivery must carry one. */
function answeredId(outcome: CliOutcome): string {
  const id = outcome.answer?.id ?? "";
  assert.ok(id.startsWith("gw_"), `delivery #${outcome.seq} answered without a gateway id`);
  return id;
}

const processed = (id: string, timeoutMs?: number) => processedEvent(gateway, id, timeoutMs);

describe("scenario nuvouch-loop: one approval decided once", () => {
  const subject = `cus_e2e_${token()}`;
  const contextKey = "merchant:acct_live_001"; // the scenario's own
  const externalRequestId = `payment_auth_e2e_${token()}`;
  let run: CliRun;
  let connectionId: string;
  let approvedId: string;
  let deniedId: string;

  before(async () => {
    run = await runSimulator([
      "scenario",
      "nuvouch-loop",
      "--url",
      gateway.url,
      "--subject",
      subject,
      "--external-request-id",
      externalRequestId,
    ]);
  });

  it("the CLI sends every delivery and each gets an answer", () => {
    assert.equal(run.code, 0, describeRun(run));
    assert.deepEqual(
      run.outcomes.map((o) => [o.event, o.status, o.answer?.status]),
      [
        ["connection.accepted", 202, "accepted"],
        ["approval.approved", 202, "accepted"],
        ["approval.approved", 200, "duplicate"],
        ["approval.approved", 200, "duplicate"],
        ["approval.denied", 202, "accepted"],
      ],
      describeRun(run),
    );
    const [connection, approved, copy1, copy2, denied] = run.outcomes as [
      CliOutcome,
      CliOutcome,
      CliOutcome,
      CliOutcome,
      CliOutcome,
    ];
    connectionId = answeredId(connection);
    approvedId = answeredId(approved);
    deniedId = answeredId(denied);
    // The byte-identical retries name the event the first copy created.
    assert.equal(copy1.resendOf, approved.seq);
    assert.equal(answeredId(copy1), approvedId);
    assert.equal(answeredId(copy2), approvedId);
    assert.equal(new Set([connectionId, approvedId, deniedId]).size, 3);
  });

  it("the approved and the late denied callback are both processed, the approved one once", async () => {
    const connection = await processed(connectionId);
    const approved = await processed(approvedId);
    const denied = await processed(deniedId);
    assert.equal(connection.type, "nuvouch.connection.accepted");
    assert.equal(approved.type, "nuvouch.approval.approved");
    assert.equal(denied.type, "nuvouch.approval.denied");
    assert.equal(approved.attempts, 1, "the approved event was processed once");

    const events = await listAllEvents(gateway, { provider: "nuvouch" });
    assert.deepEqual(events.map((e) => e.id).sort(), [approvedId, connectionId, deniedId].sort());
    assert.ok(events.every((e) => e.status === "processed" && e.lastError === null));
  });

  it("the effects ledger holds exactly one effect for the decision: done, run once", async () => {
    const approved = await processed(approvedId);
    assert.deepEqual(
      approved.effects.map(({ id, name, status, attempts, lastError }) => ({ id, name, status, attempts, lastError })),
      [
        {
          id: `approval:${externalRequestId}:approval-approved`,
          name: "approval-approved",
          status: "done",
          attempts: 1,
          lastError: null,
        },
      ],
    );
    // The late denial decided nothing, so it owes nothing.
    assert.deepEqual((await processed(deniedId)).effects, []);
  });

  it("the approval stays approved and the connection accepted (operator API)", async () => {
    await processed(deniedId);
    const approval = await adminGet<Record<string, unknown>>(
      gateway,
      `/api/nuvouch/approvals/${encodeURIComponent(externalRequestId)}`,
    );
    assert.equal(approval.status, 200, JSON.stringify(approval.body));
    assert.equal(approval.body.status, "approved");
    assert.equal(approval.body.subjectId, subject);
    assert.equal(approval.body.contextKey, contextKey);
    assert.deepEqual(approval.body.effect, { status: "done", attempts: 1 });

    const query = new URLSearchParams({ subjectId: subject, contextKey });
    const connection = await adminGet<Record<string, unknown>>(gateway, `/api/nuvouch/connections?${query}`);
    assert.equal(connection.status, 200, JSON.stringify(connection.body));
    assert.equal(connection.body.status, "accepted");
  });

  it("an operator replay of both callbacks changes nothing and runs no effect again", async () => {
    await processed(deniedId);
    for (const id of [approvedId, deniedId]) {
      const replay = await adminPost(gateway, `/api/events/${id}/replay`);
      assert.equal(replay.status, 202);
      await replay.body?.cancel();
    }
    // A replay records another attempt at the event; wait for both to be through.
    const [approved, denied] = await Promise.all(
      [approvedId, deniedId].map((id) =>
        eventually(
          async () => {
            const event = await getEvent(gateway, id);
            return event?.status === "processed" && event.attempts === 2 ? event : undefined;
          },
          30_000,
          `replay of ${id} processed`,
        ),
      ),
    );
    assert.deepEqual(
      approved?.effects.map(({ name, status, attempts }) => ({ name, status, attempts })),
      [{ name: "approval-approved", status: "done", attempts: 1 }],
    );
    assert.deepEqual(denied?.effects, []);
    const approval = await adminGet<{ status: string }>(
      gateway,
      `/api/nuvouch/approvals/${encodeURIComponent(externalRequestId)}`,
    );
    if (approval.status === 200) assert.equal(approval.body.status, "approved");
  });
});

describe("scenario nuvei-approved-before-pending: a final status is never overwritten", () => {
  // Nuvei transaction ids are 64-bit numbers; this one is fresh for each run.
  const transactionId = `711${String(randomInt(10 ** 8)).padStart(8, "0")}${String(randomInt(10 ** 8)).padStart(8, "0")}`;
  let run: CliRun;

  before(async () => {
    run = await runSimulator([
      "scenario",
      "nuvei-approved-before-pending",
      "--url",
      gateway.url,
      "--transaction-id",
      transactionId,
    ]);
  });

  it("the CLI sends approved, pending, update, approved; all four are accepted as distinct events", () => {
    assert.equal(run.code, 0, describeRun(run));
    assert.deepEqual(
      run.outcomes.map((o) => [o.event, o.key, o.status, o.answer?.status]),
      [
        ["approved", `tx=${transactionId}`, 202, "accepted"],
        ["pending", `tx=${transactionId}`, 202, "accepted"],
        ["update", `tx=${transactionId}`, 202, "accepted"],
        ["approved", `tx=${transactionId}`, 202, "accepted"],
      ],
      describeRun(run),
    );
    assert.equal(new Set(run.outcomes.map(answeredId)).size, 4);
  });

  it("every webhook is processed and the transaction ends approved although pending came after", async () => {
    const events = await Promise.all(run.outcomes.map((o) => processed(answeredId(o))));
    assert.deepEqual(
      events.map((e) => e.type),
      ["transaction.approved", "transaction.pending", "transaction.update", "transaction.approved"],
    );
    const { status, body } = await adminGet<Record<string, unknown>>(
      gateway,
      `/api/nuvei/transactions/${transactionId}`,
    );
    assert.equal(status, 200, JSON.stringify(body));
    assert.equal(body.transactionId, transactionId, "the 64-bit id is kept digit for digit");
    assert.equal(body.status, "approved");
    assert.equal(body.currency, "USD");
    assert.equal(Number(body.amount), 10.5);
    assert.match(String(body.merchantTransactionId), /^order_/);
  });
});

describe("scenario nova-burst: a shuffled burst with byte-identical re-sends", () => {
  let run: CliRun;

  before(async () => {
    // A fixed seed makes the shuffle and the choice of re-sends reproducible.
    run = await runSimulator(["scenario", "nova-burst", "--url", gateway.url, "--seed", "20261122"]);
  });

  it("every delivery is answered 202 or 200, and a re-send names its original's event", () => {
    assert.equal(run.code, 0, describeRun(run));
    const originals = run.outcomes.filter((o) => o.resendOf === undefined);
    const resends = run.outcomes.filter((o) => o.resendOf !== undefined);
    assert.equal(originals.length, 24, "the scenario's 24 distinct Nova events");
    assert.ok(resends.length > 0, "the seed re-sends some deliveries");
    for (const outcome of run.outcomes) {
      assert.ok(outcome.status === 202 || outcome.status === 200, `#${outcome.seq} answered ${outcome.status}`);
      assert.equal(outcome.answer?.status, outcome.status === 202 ? "accepted" : "duplicate");
    }
    const bySeq = new Map(run.outcomes.map((o) => [o.seq, o]));
    for (const resend of resends) {
      const original = bySeq.get(resend.resendOf as number) as CliOutcome;
      assert.equal(resend.key, original.key);
      assert.equal(answeredId(resend), answeredId(original), `#${resend.seq} names #${original.seq}'s event`);
    }
    assert.equal(new Set(originals.map(answeredId)).size, 24);
    console.log(
      `nova-burst: ${run.outcomes.length} deliveries, ${resends.length} re-sends, ` +
        `${resends.filter((o) => o.status === 200).length} answered duplicate`,
    );
  });

  it("exactly the 24 distinct events are processed, none retrying or dead", async () => {
    const expected = new Set(run.outcomes.map(answeredId));
    const events = await eventually(
      async () => {
        const list = await listAllEvents(gateway, { provider: "nova" });
        return list.length >= expected.size && list.every((e) => e.status === "processed") ? list : undefined;
      },
      60_000,
      "the burst processed",
    );
    assert.deepEqual(new Set(events.map((e) => e.id)), expected);
    assert.equal(events.length, expected.size, "one event per distinct eventId");
    const byKey = new Map(run.outcomes.map((o) => [o.key, o.event]));
    for (const event of events) {
      assert.equal(event.type, byKey.get(event.dedupeKey), `${event.id} keeps its type`);
    }
  });
});
