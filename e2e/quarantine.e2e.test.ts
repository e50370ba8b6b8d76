// Quarantine (docs/contract.md §3) and Nuvei XML (§4) end to end, under `wrangler dev`: a signed
// body of each kind the gateway cannot read is acknowledged 202 "quarantined" and kept with its
// exact bytes and reasons; its retry is a duplicate; unsigned bytes are still refused; the
// operator lists it, reads its raw body, replays it singly and in bulk (§7), and finds the
// replays in the audit list. An XML Nuvei webhook drives the transaction's state.
import assert from "node:assert/strict";
import { createHash, randomInt } from "node:crypto";
import { after, before, describe, it } from "node:test";
import type { ProviderName } from "../src/providers/simulators.node.ts";
import { type DevGateway, eventually, startDevGateway } from "./support/dev-gateway.ts";
import { adminGet, adminPost, getEvent, listAllEvents, sendSigned } from "./support/operator.ts";
import { runSimulator } from "./support/simulator-cli.ts";

const token = () => randomInt(2 ** 40).toString(36);
const run = token();
const now = () => new Date().toISOString();

interface Unreadable {
  name: string;
  provider: ProviderName;
  body: Uint8Array<ArrayBuffer>;
  contentType: string;
  /** What the reasons (`lastError`) must mention. */
  reason: RegExp;
}

const utf8 = (text: string) => new TextEncoder().encode(text);

// Each body is unique to this run, and none is a payload its provider sends.
const UNREADABLE: Unreadable[] = [
  {
    name: "not JSON, form or XML",
    provider: "nova",
    body: utf8(`this is not a webhook ${run}`),
    contentType: "text/plain",
    reason: /JSON/i,
  },
  {
    name: "invalid UTF-8",
    provider: "nova",
    body: new Uint8Array([
      ...utf8(`{"eventId":"evt_q_utf8_${run}","type":"payment.succeeded","note":"`),
      0xff,
      0xfe,
      ...utf8('"}'),
    ]),
    contentType: "application/json",
    reason: /UTF-8/i,
  },
  {
    name: "no id",
    provider: "nova",
    body: utf8(JSON.stringify({ type: "payment.succeeded", occurredAt: now(), data: { run } })),
    contentType: "application/json",
    reason: /eventId/,
  },
  {
    name: "a known type with malformed data",
    provider: "nuvouch",
    body: utf8(
      JSON.stringify({
        id: `evt_q_malformed_${run}`,
        type: "nuvouch.approval.approved",
        createdAt: now(),
        data: { approvalRequestId: 42 },
      }),
    ),
    contentType: "application/json",
    reason: /data/,
  },
  {
    name: "a type of over 256 characters",
    provider: "nova",
    body: utf8(JSON.stringify({ eventId: `evt_q_longtype_${run}`, type: `payment.${"x".repeat(300)}`, data: {} })),
    contentType: "application/json",
    reason: /type/,
  },
  {
    name: "duplicate envelope keys",
    provider: "nova",
    body: utf8(
      `{"eventId":"evt_q_dupkey_a_${run}","type":"payment.succeeded","eventId":"evt_q_dupkey_b_${run}","data":{}}`,
    ),
    contentType: "application/json",
    reason: /eventId/,
  },
  {
    name: "Nuvei XML with a DOCTYPE",
    provider: "nuvei",
    body: utf8(
      `<?xml version="1.0"?>\n<!DOCTYPE n [<!ENTITY lol "lol${run}">]>\n` +
        "<notification><transactionId>7110000000000000001</transactionId><result><status>&lol;</status></result></notification>\n",
    ),
    contentType: "application/xml",
    reason: /DOCTYPE/,
  },
];

let gateway: DevGateway;
/** Unreadable body name → the gateway event id its first delivery was acknowledged with. */
const ids = new Map<string, string>();

before(async () => {
  gateway = await startDevGateway();
});

after(async () => {
  await gateway?.stop();
});

const sha256 = (bytes: Uint8Array | string) => createHash("sha256").update(bytes).digest("hex");
/** The documented event id: `gw_` + the first 32 hex digits of SHA-256(provider ⏎ dedupe key). */
const eventIdFor = (provider: string, dedupeKey: string) => `gw_${sha256(`${provider}\n${dedupeKey}`).slice(0, 32)}`;

describe("a signed body the gateway cannot read is quarantined, never lost", () => {
  for (const kind of UNREADABLE) {
    it(`${kind.name}: 202 quarantined, its retry 200 duplicate`, async () => {
      const first = await sendSigned(gateway, kind.provider, kind.body, kind.contentType);
      assert.equal(first.status, 202, JSON.stringify(first.body));
      assert.equal(first.body.status, "quarantined");
      assert.match(String(first.body.id), /^gw_[0-9a-f]{32}$/);
      ids.set(kind.name, first.body.id as string);
      // The provider's retry: the same bytes, signed again.
      const retry = await sendSigned(gateway, kind.provider, kind.body, kind.contentType);
      assert.equal(retry.status, 200, JSON.stringify(retry.body));
      assert.deepEqual(retry.body, { status: "duplicate", id: first.body.id });
    });
  }

  it("unsigned or badly signed, the same kind of body is still 401 and not kept", async () => {
    const body = utf8(`unsigned, not a webhook ${run}`);
    const unsigned = await fetch(`${gateway.url}/webhooks/nova`, {
      method: "POST",
      body,
      headers: { "content-type": "text/plain" },
      signal: AbortSignal.timeout(15_000),
    });
    assert.equal(unsigned.status, 401);
    assert.equal(((await unsigned.json()) as { error: { code: string } }).error.code, "signature_missing");
    const forged = await sendSigned(gateway, "nova", body, "text/plain", "not_the_nova_secret");
    assert.equal(forged.status, 401);
    assert.equal(forged.body.error?.code, "signature_invalid");
    // Kept, it would be under the body's hash (no id can be read): nothing is there.
    assert.equal(await getEvent(gateway, eventIdFor("nova", sha256(body))), undefined);
  });

  it("GET /api/events?status=quarantined lists each one with its reasons as lastError", async () => {
    assert.equal(ids.size, UNREADABLE.length, "every delivery was quarantined");
    const listed = new Map((await listAllEvents(gateway, { status: "quarantined" })).map((e) => [e.id, e]));
    for (const kind of UNREADABLE) {
      const event = listed.get(ids.get(kind.name) as string);
      assert.ok(event, `${kind.name} listed`);
      assert.equal(event.status, "quarantined");
      assert.equal(event.provider, kind.provider);
      assert.match(String(event.lastError), kind.reason, `${kind.name}: ${event.lastError}`);
    }
    const noId = listed.get(ids.get("no id") as string);
    assert.equal(noId?.dedupeKey, sha256(UNREADABLE[2]?.body as Uint8Array), "no id: keyed by the body's SHA-256");
    assert.equal(
      listed.get(ids.get("a known type with malformed data") as string)?.dedupeKey,
      `evt_q_malformed_${run}`,
      "an id that can be read is the key",
    );
  });

  it("GET /api/events/:id shows the exact bytes as rawBody", async () => {
    for (const kind of UNREADABLE) {
      const event = await getEvent(gateway, ids.get(kind.name) as string);
      assert.ok(event?.rawBody, `${kind.name} has a rawBody`);
      assert.equal(event.rawBody.contentType, kind.contentType);
      const bytes =
        event.rawBody.encoding === "base64"
          ? Buffer.from(event.rawBody.text, "base64")
          : Buffer.from(event.rawBody.text, "utf8");
      assert.ok(bytes.equals(Buffer.from(kind.body)), `${kind.name}: the bytes as signed`);
      assert.equal(event.rawBody.encoding, kind.name === "invalid UTF-8" ? "base64" : "utf-8");
      assert.deepEqual(event.effects, [], "never applied, no effect");
    }
    const text = await getEvent(gateway, ids.get("not JSON, form or XML") as string);
    assert.equal(text?.payload, null, "not JSON: payload null");
  });

  it("a single replay answers 202 and, still unreadable, it stays quarantined with its reasons", async () => {
    for (const kind of UNREADABLE) {
      const id = ids.get(kind.name) as string;
      const response = await adminPost(gateway, `/api/events/${id}/replay`);
      assert.equal(response.status, 202);
      const answer = (await response.json()) as { status: string; id: string; reason?: string };
      assert.equal(answer.status, "quarantined", `${kind.name}: ${JSON.stringify(answer)}`);
      assert.equal(answer.id, id);
      assert.match(String(answer.reason), kind.reason);
      const event = await getEvent(gateway, id);
      assert.equal(event?.status, "quarantined");
      assert.match(String(event?.lastError), kind.reason);
    }
  });

  it("a bulk replay of quarantined events answers 202 with a count, and the audit list has it", async () => {
    const response = await adminPost(gateway, "/api/events/replay", { status: "quarantined" });
    assert.equal(response.status, 202);
    const { replayed } = (await response.json()) as { replayed: number };
    assert.equal(typeof replayed, "number");
    // None of them reads better with the code deployed now: nothing was queued, all stay kept.
    assert.equal(replayed, 0);
    for (const kind of UNREADABLE) {
      const event = await getEvent(gateway, ids.get(kind.name) as string);
      assert.equal(event?.status, "quarantined", kind.name);
    }

    const { status, body } = await adminGet<{
      actions: { at: string; action: string; target: string; count: number; filters?: Record<string, unknown> }[];
    }>(gateway, "/api/audit?limit=50");
    assert.equal(status, 200);
    const [newest, ...older] = body.actions;
    assert.equal(newest?.action, "bulk_replay");
    assert.equal(newest?.count, replayed);
    assert.match(String(newest?.target), /quarantined/);
    assert.equal(newest?.filters?.status, "quarantined");
    const singles = older.filter((a) => a.action === "replay").map((a) => a.target);
    for (const id of ids.values()) assert.ok(singles.includes(id), `single replay of ${id} audited`);
  });
});

describe("Nuvei XML drives transaction state", () => {
  it("an XML approved, then a late XML pending: the transaction is approved", async () => {
    const transactionId = `711${String(randomInt(10 ** 9)).padStart(16, "0")}`;
    const send = (status: string) =>
      runSimulator(
        [
          "nuvei",
          status,
          "--xml",
          "--transaction-id",
          transactionId,
          "--url",
          gateway.url,
          "--secrets-file",
          ".dev.vars.example",
        ],
        30_000,
      );
    const approved = await send("approved");
    assert.equal(approved.code, 0, approved.stdout + approved.stderr);
    assert.deepEqual(
      approved.outcomes.map((o) => [o.status, o.answer?.status]),
      [[202, "accepted"]],
    );
    await eventually(
      async () => {
        const { body } = await adminGet<{ status?: string }>(gateway, `/api/nuvei/transactions/${transactionId}`);
        return body.status === "approved" ? true : undefined;
      },
      30_000,
      "transaction approved",
    );
    const pending = await send("pending");
    assert.equal(pending.outcomes[0]?.status, 202, pending.stdout);
    const pendingId = pending.outcomes[0]?.answer?.id as string;
    await eventually(
      async () => ((await getEvent(gateway, pendingId))?.status === "processed" ? true : undefined),
      30_000,
      "late pending processed",
    );
    const { status, body } = await adminGet<{ transactionId: string; status: string; amount: string }>(
      gateway,
      `/api/nuvei/transactions/${transactionId}`,
    );
    assert.equal(status, 200);
    assert.equal(body.transactionId, transactionId, "19 digits, digit for digit");
    assert.equal(body.status, "approved", "a late pending never replaces a final status");
    const event = await getEvent(gateway, approved.outcomes[0]?.answer?.id as string);
    assert.ok(event);
    assert.equal(event.type, "transaction.approved");
    assert.equal((event.payload as { transactionId?: string }).transactionId, transactionId);
  });
});
