// `npm run test:simulator`. The verifier below is written again from docs/contract.md §2, not
// imported from the simulator or the gateway, so a signing bug cannot hide on both sides.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createHash, createHmac, timingSafeEqual } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { after, before, describe, it } from "node:test";
import { XMLParser } from "fast-xml-parser";
import { nuveiDigest, toDottedForm, toXml } from "../../src/providers/nuvei/simulator.node.ts";
import { timestampedSignature } from "../../src/providers/signing.node.ts";
import { newStory, type Sources, seededRandom } from "../../src/providers/simulation.node.ts";
import { PROVIDER_NAMES, type ProviderName, simulators } from "../../src/providers/simulators.node.ts";
import { readDevVars } from "../lib/dev-vars.ts";
import { loadSecrets } from "./secrets.ts";

const ROOT = resolve(import.meta.dirname, "../..");
const CLI = join(import.meta.dirname, "cli.ts");
const TOLERANCE = 300;

// ─── docs/contract.md §2, reimplemented ──────────────────────────────────────────────

type Verdict = "ok" | "signature_missing" | "signature_invalid" | "timestamp_out_of_tolerance";

const sameMac = (expected: Buffer, given: Buffer) =>
  given.length === expected.length && timingSafeEqual(expected, given);

function verifyTimestamped(header: string | undefined, body: Buffer, secrets: string[], nowS: number): Verdict {
  if (!header) return "signature_missing";
  const entries = header.split(",").map((entry) => {
    const eq = entry.indexOf("=");
    return [entry.slice(0, eq).trim(), entry.slice(eq + 1).trim()] as const;
  });
  const t = entries.find(([key]) => key === "t")?.[1];
  const v1 = entries.filter(([key]) => key === "v1").map(([, value]) => Buffer.from(value, "hex"));
  if (!t || !/^\d+$/.test(t) || v1.length === 0) return "signature_invalid";
  const ok = secrets.some((secret) => {
    const expected = createHmac("sha256", secret)
      .update(Buffer.concat([Buffer.from(`${t}.`), body]))
      .digest();
    return v1.some((mac) => sameMac(expected, mac));
  });
  if (!ok) return "signature_invalid";
  return Math.abs(nowS - Number(t)) > TOLERANCE ? "timestamp_out_of_tolerance" : "ok";
}

function verifyNuvei(t: string | undefined, digest: string | undefined, body: Buffer, secrets: string[], nowS: number) {
  if (!t || !digest) return "signature_missing" as const;
  const h = createHash("sha256").update(body).digest("hex");
  const given = Buffer.from(digest, "base64");
  const ok = secrets.some((secret) =>
    sameMac(
      createHmac("sha256", secret)
        .update(h + t)
        .digest(),
      given,
    ),
  );
  if (!ok) return "signature_invalid" as const;
  return Math.abs(nowS - Number(t)) > TOLERANCE ? ("timestamp_out_of_tolerance" as const) : ("ok" as const);
}

const nowS = () => Math.floor(Date.now() / 1000);

// ─── a stand-in gateway: docs/contract.md §2 and §3, nothing else ────────────────────────────

interface Received {
  provider: string;
  contentType: string;
  body: Buffer;
  status: number;
}

function startFakeGateway(secrets: Record<ProviderName, string[]>) {
  const received: Received[] = [];
  const seen = new Map<string, string>();
  const answer = (req: IncomingMessage, body: Buffer): [number, unknown] => {
    const provider = (req.url ?? "").replace(/^\/webhooks\//, "") as ProviderName;
    if (!PROVIDER_NAMES.includes(provider)) return [404, { error: { code: "unknown_provider" } }];
    const header = (name: string) => req.headers[name] as string | undefined;
    const verdict =
      provider === "nuvei"
        ? verifyNuvei(
            header("x-authentication-timestamp"),
            header("x-authentication-digest"),
            body,
            secrets.nuvei,
            nowS(),
          )
        : verifyTimestamped(header(`x-${provider}-signature`), body, secrets[provider], nowS());
    if (verdict !== "ok") return [401, { error: { code: verdict } }];
    let key: string | undefined;
    try {
      if (provider === "nuvei") key = createHash("sha256").update(body).digest("hex");
      else {
        const json = JSON.parse(body.toString("utf8")) as Record<string, unknown>;
        key = String(provider === "nova" ? json.eventId : json.id);
      }
    } catch {
      return [400, { error: { code: "payload_invalid", message: "body is not valid JSON" } }];
    }
    const known = seen.get(`${provider}:${key}`);
    if (known) return [200, { status: "duplicate", id: known }];
    const id = `gw_${seen.size + 1}`;
    seen.set(`${provider}:${key}`, id);
    return [202, { status: "accepted", id }];
  };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const body = Buffer.concat(chunks);
      const [status, json] = answer(req, body);
      received.push({
        provider: (req.url ?? "").split("/").pop() ?? "",
        contentType: req.headers["content-type"] ?? "",
        body,
        status,
      });
      res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(json));
    });
  });
  return { received, ...onLoopback(server) };
}

/** Starts and stops a test server on a free loopback port. */
function onLoopback(server: Server) {
  return {
    listen: () =>
      new Promise<string>((done) =>
        server.listen(0, "127.0.0.1", () => done(`http://127.0.0.1:${(server.address() as AddressInfo).port}`)),
      ),
    close: () => new Promise<void>((done) => server.close(() => done())),
  };
}

function runCli(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd: ROOT, env: { ...process.env, ...env } });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk) => {
      stdout += chunk;
    });
    child.stderr.on("data", (chunk) => {
      stderr += chunk;
    });
    child.on("close", (code) => done({ code, stdout, stderr }));
  });
}

/** The status of each response line, in send order (`#<seq> <status> …`). */
function statuses(stdout: string): string[] {
  return [...stdout.matchAll(/^#(\d+)\s+(\d{3}|ERR)\b/gm)]
    .sort((a, b) => Number(a[1]) - Number(b[1]))
    .map((match) => match[2] as string);
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((done) => server.close(() => done()));
  return port;
}

// ─── signing ─────────────────────────────────────────────────────────────────────────

describe("signing (docs/contract.md §2)", () => {
  const body = Buffer.from('{"eventId":"evt_1","type":"payment.succeeded"}');

  it("matches a known answer computed with openssl", () => {
    assert.equal(
      timestampedSignature(body, "kat_secret", 1_700_000_000),
      "t=1700000000,v1=63a57696cf82b1f2257cda6986979295251c8b869cc5798d045ec6e3a592335c",
    );
    assert.equal(nuveiDigest(body, "kat_secret", 1_700_000_000), "rwXO5AaFWGaaR87+R4xxHxsIGTWvnMc9ok7+T36jlb0=");
  });

  for (const provider of ["nova", "nuvouch"] as const) {
    it(`${provider}: the signature header verifies, and fails for another secret or one changed byte`, () => {
      const t = nowS();
      const headers: Record<string, string> = simulators[provider].sign(body, "s3cret", t);
      const header = headers[`x-${provider}-signature`];
      assert.equal(Object.keys(headers).length, 1);
      assert.equal(verifyTimestamped(header, body, ["old", "s3cret"], t), "ok");
      assert.equal(verifyTimestamped(header, body, ["other"], t), "signature_invalid");
      const changed = Buffer.from(body);
      changed[5] = (changed[5] as number) ^ 1;
      assert.equal(verifyTimestamped(header, changed, ["s3cret"], t), "signature_invalid");
      assert.equal(verifyTimestamped(header, body, ["s3cret"], t + 301), "timestamp_out_of_tolerance");
    });
  }

  it("nuvei: timestamp and digest headers verify over the raw bytes", () => {
    const t = nowS();
    const headers = simulators.nuvei.sign(body, "s3cret", t);
    assert.equal(headers["x-authentication-timestamp"], String(t));
    const digest = headers["x-authentication-digest"];
    assert.equal(verifyNuvei(String(t), digest, body, ["s3cret"], t), "ok");
    assert.equal(verifyNuvei(String(t + 1), digest, body, ["s3cret"], t), "signature_invalid");
    assert.equal(
      verifyNuvei(String(t), digest, Buffer.concat([body, Buffer.from(" ")]), ["s3cret"], t),
      "signature_invalid",
    );
  });
});

describe("secrets", () => {
  it("reads the dotenv format wrangler reads, and no file as no variables", () => {
    const dir = mkdtempSync(join(tmpdir(), "simulator-"));
    try {
      const file = join(dir, ".dev.vars");
      writeFileSync(
        file,
        "# comment\nA=plain\nexport B = \"quoted, with comma\"\nC='single'\nD=value # trailing\nnot a line\n",
      );
      assert.deepEqual(readDevVars(file), { A: "plain", B: "quoted, with comma", C: "single", D: "value" });
      assert.deepEqual(readDevVars(join(dir, "absent")), {});
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("reads .dev.vars, falls back to .dev.vars.example, and splits rotation lists", () => {
    const dir = mkdtempSync(join(tmpdir(), "simulator-"));
    try {
      writeFileSync(join(dir, ".dev.vars.example"), "NOVA_WEBHOOK_SECRET=example\n");
      assert.deepEqual(loadSecrets(dir).secrets.nova, ["example"]);
      writeFileSync(join(dir, ".dev.vars"), "NOVA_WEBHOOK_SECRET=new, old\nNUVEI_WEBHOOK_SECRET=n\n");
      const loaded = loadSecrets(dir);
      assert.deepEqual(loaded.secrets, { nova: ["new", "old"], nuvei: ["n"], nuvouch: [] });
      assert.equal(loaded.file, join(dir, ".dev.vars"));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

// ─── payloads ────────────────────────────────────────────────────────────────────────

describe("payloads (docs/contract.md §4)", () => {
  const sources: Sources = { now: () => new Date("2026-11-23T12:00:00.000Z"), random: seededRandom(1) };

  it("the story helpers stay importable anywhere: no imports at all", () => {
    const source = readFileSync(join(ROOT, "src/providers/simulation.node.ts"), "utf8");
    assert.doesNotMatch(source, /^\s*import\s/m);
    assert.doesNotMatch(source, /\bimport\(|\brequire\(/);
  });

  it("nova: the envelope of the Nova document for every event", () => {
    for (const event of simulators.nova.events) {
      const p = simulators.nova.build(event, newStory({}, sources), { sources });
      assert.deepEqual(Object.keys(p), ["eventId", "type", "occurredAt", "data", "version"]);
      assert.match(String(p.eventId), /^evt_[0-9A-Z]{26}$/);
      assert.equal(p.type, event);
      assert.equal(p.occurredAt, "2026-11-23T12:00:00.000Z");
    }
  });

  it("nuvei: every status of one story is the same transaction, in distinct bodies", () => {
    const story = newStory({}, sources);
    const bodies = simulators.nuvei.events.map((status) => simulators.nuvei.build(status, story, { sources }));
    for (const [i, body] of bodies.entries()) {
      assert.equal(body.transactionId, story.transactionId);
      assert.equal(body.merchantTransactionId, story.merchantTransactionId);
      assert.deepEqual([body.amount, body.currency], [10.5, "USD"]);
      assert.equal((body.result as { status: string }).status, simulators.nuvei.events[i]);
      assert.match(String(body.timeStamp), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$/);
    }
    assert.match(story.transactionId, /^\d{19}$/);
    assert.equal(new Set(bodies.map((b) => JSON.stringify(b))).size, bodies.length);
    const again = simulators.nuvei.build("approved", newStory({ transactionId: "42" }, sources), { sources });
    assert.equal(again.transactionId, "42");
  });

  it("nuvei: name-value pairs use dotted names", () => {
    const form = new URLSearchParams(toDottedForm({ a: 1, result: { status: "approved", error: { code: "-1" } } }));
    assert.deepEqual(
      [...form],
      [
        ["a", "1"],
        ["result.status", "approved"],
        ["result.error.code", "-1"],
      ],
    );
  });

  it("nuvei: XML is one root element whose children are the JSON fields, every value text", () => {
    const story = newStory({ transactionId: "7110000000000000042", amount: 10.1 }, sources);
    const payload = simulators.nuvei.build("approved", story, { sources });
    const xml = toXml(payload);
    assert.match(xml, /^<\?xml version="1\.0" encoding="UTF-8"\?>\n<notification><authorizingEntityId>/);
    assert.doesNotMatch(xml, /<!|=\s*"[^"]*"\s*>/, "no DOCTYPE, no attribute");
    // Read back the way the gateway's src/providers/nuvei/xml.ts does: no value parsing.
    const parser = new XMLParser({ parseTagValue: false, processEntities: true, ignoreDeclaration: true });
    const read = parser.parse(xml) as { notification: Record<string, unknown> };
    const asText = JSON.parse(
      JSON.stringify(payload, (_key, value) => (typeof value === "number" ? String(value) : value)),
    );
    assert.deepEqual(read.notification, asText);
    assert.equal(read.notification.transactionId, "7110000000000000042");
    assert.equal(read.notification.amount, "10.1");
    assert.equal(
      toXml({ note: "a<b & c>d", result: { status: "ok" } }, "r"),
      `<?xml version="1.0" encoding="UTF-8"?>\n<r><note>a&lt;b &amp; c&gt;d</note><result><status>ok</status></result></r>\n`,
    );
  });

  it("nuvouch: connection and approval callbacks of one story share their subject and ids", () => {
    const story = newStory({ subject: "cus_123", contextKey: "merchant:acct_1", externalRequestId: "pay_1" }, sources);
    for (const event of simulators.nuvouch.events) {
      const p = simulators.nuvouch.build(event, story, { sources }) as { id: string; type: string; data: object };
      assert.equal(p.type, `nuvouch.${event}`);
      assert.match(p.id, /^evt_/);
      const expected = event.startsWith("connection.")
        ? { connectionSessionId: story.connectionSessionId, subjectId: "cus_123", contextKey: "merchant:acct_1" }
        : {
            approvalRequestId: story.approvalRequestId,
            externalRequestId: "pay_1",
            subjectId: "cus_123",
            contextKey: "merchant:acct_1",
            decidedAt: "2026-11-23T12:00:00.000Z",
          };
      assert.deepEqual(p.data, expected);
    }
    assert.equal(simulators.nuvouch.resolve("nuvouch.approval.denied"), "approval.denied");
    assert.equal(simulators.nuvouch.resolve("approval.maybe"), undefined);
  });
});

// ─── the CLI ─────────────────────────────────────────────────────────────────────────

describe("cli: bad input", () => {
  it("an unknown provider exits 2 and lists the known ones", async () => {
    const { code, stderr } = await runCli(["acme", "payment.succeeded"]);
    assert.equal(code, 2);
    assert.match(stderr, /unknown provider "acme"; known: nova, nuvei, nuvouch/);
  });

  it("an unknown event exits 2 and lists that provider's events", async () => {
    const { code, stderr } = await runCli(["nuvouch", "approval.maybe"]);
    assert.equal(code, 2);
    assert.match(stderr, /known nuvouch events: connection\.accepted, .*approval\.cancelled/);
  });

  for (const args of [
    ["nova", "payment.succeeded", "--no-such-flag"],
    ["nova", "payment.succeeded", "--duplicate-rate", "1.5"],
    ["nova", "payment.succeeded", "--repeat", "0"],
    ["nova", "payment.succeeded", "--stale", "--future"],
    ["nova", "payment.succeeded", "--form"],
    ["nova", "payment.succeeded", "--xml"],
    ["nuvei", "approved", "--form", "--xml"],
    ["scenario", "nuvei-approved-before-pending", "--xml"],
    ["nova", "payment.succeeded", "--url", "ftp://x"],
    ["scenario", "no-such-scenario"],
    [],
  ]) {
    it(`exits 2 for: ${args.join(" ") || "(no arguments)"}`, async () => {
      const { code, stderr } = await runCli(args);
      assert.equal(code, 2);
      assert.doesNotMatch(stderr, /\n\s+at /);
    });
  }

  it("with no gateway listening: one hint line, exit 1, no stack trace", async () => {
    const url = `http://127.0.0.1:${await freePort()}`;
    const { code, stdout, stderr } = await runCli(["nova", "payment.succeeded", "--url", url]);
    assert.equal(code, 1);
    assert.equal(stderr, `no gateway at ${url}: start it with \`npm run dev\`\n`);
    assert.equal(stdout, "");
  });
});

describe("cli: against a stand-in gateway", () => {
  const gateway = startFakeGateway(loadSecrets(ROOT).secrets);
  let url = "";
  before(async () => {
    url = await gateway.listen();
  });
  after(() => gateway.close());

  it("sends a signed delivery and prints its answer and a summary", async () => {
    const { code, stdout } = await runCli(["nova", "payment.succeeded", "--url", url]);
    assert.equal(code, 0, stdout);
    assert.match(stdout, /^#1\s+202 .* nova payment\.succeeded evt_\S+ {2}\{"status":"accepted","id":"gw_\d+"\}$/m);
    assert.match(stdout, /by status {3}202×1/);
    assert.match(stdout, /latency {5}p50 [\d.]+ms {2}p99 [\d.]+ms/);
  });

  it("--stale, --future, --wrong-secret and --tamper are refused for the right reason", async () => {
    const expected = {
      "--stale": "timestamp_out_of_tolerance",
      "--future": "timestamp_out_of_tolerance",
      "--wrong-secret": "signature_invalid",
      "--tamper": "signature_invalid",
    };
    for (const [flag, reason] of Object.entries(expected)) {
      for (const provider of ["nova", "nuvei", "nuvouch"]) {
        const event = provider === "nova" ? "payment.failed" : provider === "nuvei" ? "declined" : "approval.denied";
        const { code, stdout } = await runCli([provider, event, flag, "--url", url]);
        assert.equal(code, 0);
        assert.match(
          stdout,
          new RegExp(`^#1\\s+401 .*\\{"error":\\{"code":"${reason}"\\}\\}$`, "m"),
          `${provider} ${flag}`,
        );
      }
    }
  });

  it("--event-id turns repeats into duplicates; --duplicate-rate 1 re-sends every delivery", async () => {
    const pinned = await runCli([
      "nova",
      "survey.completed",
      "--event-id",
      `evt_pin_${Date.now()}`,
      "--repeat",
      "3",
      "--url",
      url,
    ]);
    assert.deepEqual(statuses(pinned.stdout), ["202", "200", "200"]);
    const resent = await runCli([
      "nuvouch",
      "connection.revoked",
      "--repeat",
      "4",
      "--duplicate-rate",
      "1",
      "--url",
      url,
    ]);
    assert.deepEqual(statuses(resent.stdout).sort(), ["200", "200", "200", "200", "202", "202", "202", "202"]);
    assert.match(resent.stdout, /4 re-sent byte-identical, 4 answered "duplicate"/);
  });

  it("steers Nuvei's transaction, sends name-value pairs with --form, XML with --xml, and --body-file verbatim", async () => {
    const before = gateway.received.length;
    await runCli(["nuvei", "pending", "--transaction-id", "7110000000000000042", "--form", "--url", url]);
    const form = gateway.received[before] as Received;
    assert.equal(form.status, 202);
    assert.equal(form.contentType, "application/x-www-form-urlencoded");
    const params = new URLSearchParams(form.body.toString());
    assert.equal(params.get("transactionId"), "7110000000000000042");
    assert.equal(params.get("result.status"), "pending");

    const next = gateway.received.length;
    const sentXml = await runCli([
      "nuvei",
      "approved",
      "--transaction-id",
      "7110000000000000042",
      "--xml",
      "--url",
      url,
    ]);
    assert.equal(sentXml.code, 0, sentXml.stdout);
    const xml = gateway.received[next] as Received;
    assert.equal(xml.status, 202, "signed over the XML bytes");
    assert.equal(xml.contentType, "application/xml");
    const text = xml.body.toString();
    assert.match(text, /^<\?xml [^>]*\?>\n<notification>.*<\/notification>\n$/s);
    assert.match(text, /<transactionId>7110000000000000042<\/transactionId>/);
    assert.match(text, /<result><status>approved<\/status><\/result>/);

    const dir = mkdtempSync(join(tmpdir(), "simulator-"));
    try {
      const file = join(dir, "body.json");
      const bytes = `{"eventId":"evt_file_${Date.now()}","type":"payment.succeeded","note":"caf\u00e9"}`;
      writeFileSync(file, bytes);
      const sent = await runCli(["nova", "--body-file", file, "--url", url]);
      assert.equal(sent.code, 0);
      assert.equal(gateway.received.at(-1)?.body.toString(), bytes);
      writeFileSync(file, "not json");
      assert.deepEqual(statuses((await runCli(["nova", "--body-file", file, "--url", url])).stdout), ["400"]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("scenario nuvouch-loop: accepted, approved once plus two duplicates, then the late denied", async () => {
    const { code, stdout } = await runCli(["scenario", "nuvouch-loop", "--url", url]);
    assert.equal(code, 0, stdout);
    assert.deepEqual(statuses(stdout), ["202", "202", "200", "200", "202"]);
    assert.match(stdout, /approval\.denied/);
  });

  it("scenario nuvei-approved-before-pending: one transaction, approved first", async () => {
    const before = gateway.received.length;
    const { code, stdout } = await runCli(["scenario", "nuvei-approved-before-pending", "--url", url]);
    assert.equal(code, 0, stdout);
    assert.deepEqual(statuses(stdout), ["202", "202", "202", "202"]);
    const bodies = gateway.received.slice(before).map((r) => JSON.parse(r.body.toString()));
    assert.deepEqual(
      bodies.map((b) => b.result.status),
      ["approved", "pending", "update", "approved"],
    );
    assert.equal(new Set(bodies.map((b) => b.transactionId)).size, 1);
    assert.equal(new Set(bodies.map((b) => b.merchantTransactionId)).size, 1);
  });

  it("scenario nova-burst: disorder and byte-identical re-sends, each answered duplicate once", async () => {
    const { code, stdout } = await runCli(["scenario", "nova-burst", "--seed", "7", "--url", url]);
    assert.equal(code, 0, stdout);
    const resends = stdout.match(/\(re-send of #\d+\)/g)?.length ?? 0;
    assert.ok(resends > 0, "the seed should produce some re-sends");
    assert.equal(statuses(stdout).filter((s) => s === "200").length, resends);
    assert.match(stdout, new RegExp(`${resends} re-sent byte-identical, ${resends} answered "duplicate"`));
  });
});

describe("cli: a deployed gateway (GATEWAY_URL, --secrets-file)", () => {
  // A staging gateway holds its own secrets, not the dev ones of .dev.vars.
  const staging = { nova: ["staging_nova_secret"], nuvei: ["staging_nuvei_secret"], nuvouch: ["staging_nuvouch"] };
  const gateway = startFakeGateway(staging);
  const dir = mkdtempSync(join(tmpdir(), "simulator-staging-"));
  const secretsFile = join(dir, ".secrets.staging.json");
  let url = "";
  before(async () => {
    url = await gateway.listen();
    writeFileSync(
      secretsFile,
      JSON.stringify({
        NOVA_WEBHOOK_SECRET: "staging_nova_secret",
        NUVEI_WEBHOOK_SECRET: "staging_nuvei_secret",
        NUVOUCH_CALLBACK_SECRET: "staging_nuvouch",
        ADMIN_API_TOKEN: "not-a-signing-secret",
      }),
    );
  });
  after(async () => {
    await gateway.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("sends to GATEWAY_URL when no --url is given, signing with the JSON secrets file", async () => {
    for (const [provider, event] of [
      ["nova", "payment.succeeded"],
      ["nuvei", "approved"],
      ["nuvouch", "approval.approved"],
    ]) {
      const run = await runCli([provider as string, event as string, "--secrets-file", secretsFile], {
        GATEWAY_URL: url,
      });
      assert.equal(run.code, 0, run.stderr);
      assert.deepEqual(statuses(run.stdout), ["202"], run.stdout);
    }
  });

  it("with the dev secrets instead, the deployed gateway refuses the signature", async () => {
    const run = await runCli(["nova", "payment.succeeded"], { GATEWAY_URL: url });
    assert.deepEqual(statuses(run.stdout), ["401"], run.stdout);
  });

  it("a missing secrets file is a one-line usage error", async () => {
    const run = await runCli(["nova", "payment.succeeded", "--secrets-file", join(dir, "absent.json")], {
      GATEWAY_URL: url,
    });
    assert.equal(run.code, 2);
    assert.equal(run.stderr, `no secrets file ${join(dir, "absent.json")}\n`);
  });
});

describe("cli: a scenario's steps around the deliveries (operator, nuvouch, cron, poll)", () => {
  interface Seen {
    method: string;
    url: string;
    authorization: string | undefined;
    body: string;
  }
  /** Gateway and fake Nuvouch in one: each request recorded, answered by `reply`. */
  function startStub(reply: (seen: Seen, count: number) => [number, unknown]) {
    const seen: Seen[] = [];
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (chunk: Buffer) => chunks.push(chunk));
      req.on("end", () => {
        const request = {
          method: req.method ?? "",
          url: req.url ?? "",
          authorization: req.headers.authorization,
          body: Buffer.concat(chunks).toString("utf8"),
        };
        seen.push(request);
        const [status, json] = reply(request, seen.filter((s) => s.url === request.url).length);
        res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(json));
      });
    });
    return { seen, ...onLoopback(server) };
  }

  const happy = (request: Seen, count: number): [number, unknown] => {
    const path = request.url.split("?")[0] ?? "";
    if (path === "/api/nuvouch/connections" && request.method === "POST")
      return [201, { connectionSessionId: "cs_stub" }];
    if (path === "/api/nuvouch/connections") return [200, { status: count < 2 ? "pending" : "accepted" }];
    if (path === "/api/nuvouch/approvals") return [201, { status: "pending" }];
    if (path.startsWith("/api/nuvouch/approvals/"))
      return [200, { status: "approved", effect: { status: "done", attempts: 1 } }];
    return [200, {}];
  };

  it("nuvouch-missed-callback: each step's request in order, a saved id and the story's fields in its paths", async () => {
    const stub = startStub(happy);
    const url = await stub.listen();
    try {
      const run = await runCli([
        "scenario",
        "nuvouch-missed-callback",
        "--url",
        url,
        "--nuvouch-url",
        url,
        "--subject",
        "cus stub/1",
        "--external-request-id",
        "pay_stub",
      ]);
      assert.equal(run.code, 0, run.stdout + run.stderr);
      assert.deepEqual(
        stub.seen.map((s) => `${s.method} ${s.url}`),
        [
          "POST /api/nuvouch/connections",
          "POST /_control/callbacks/accept/cs_stub",
          "GET /api/nuvouch/connections?subjectId=cus%20stub%2F1&contextKey=merchant%3Aacct_live_001",
          "GET /api/nuvouch/connections?subjectId=cus%20stub%2F1&contextKey=merchant%3Aacct_live_001",
          "POST /api/nuvouch/approvals",
          "POST /_control/decisions/approve/pay_stub",
          "GET /cdn-cgi/local/scheduled?cron=*%2F5+*+*+*+*",
          "GET /api/nuvouch/approvals/pay_stub",
        ],
      );
      const operator = stub.seen.filter((s) => s.url.startsWith("/api/"));
      const token = loadSecrets(ROOT).adminToken;
      assert.ok(token);
      assert.ok(operator.every((s) => s.authorization === `Bearer ${token}`));
      assert.ok(stub.seen.filter((s) => !s.url.startsWith("/api/")).every((s) => s.authorization === undefined));
      const approval = JSON.parse(stub.seen[4]?.body ?? "{}");
      assert.deepEqual(approval.targetSubject, { subjectId: "cus stub/1", contextKey: "merchant:acct_live_001" });
      assert.ok(Date.parse(approval.context.expiresAt) > Date.now() + 3_500_000, approval.context.expiresAt);
      assert.match(run.stdout, /^#7\s+200 .* poll GET \/api\/nuvouch\/approvals\/pay_stub {2}\{"status":"approved"/m);
    } finally {
      await stub.close();
    }
  });

  it("stops at a step that does not answer as its story needs, and exits 1", async () => {
    const stub = startStub((request, count) =>
      request.url === "/api/nuvouch/approvals"
        ? [409, { error: { code: "connection_not_accepted" } }]
        : happy(request, count),
    );
    const url = await stub.listen();
    try {
      const run = await runCli(["scenario", "nuvouch-missed-callback", "--url", url, "--nuvouch-url", url]);
      assert.equal(run.code, 1, run.stdout);
      assert.match(run.stdout, /^#4\s+409 .* operator POST \/api\/nuvouch\/approvals .*✗ expected 201$/m);
      assert.equal(stub.seen.at(-1)?.url, "/api/nuvouch/approvals", "nothing is sent after it");
    } finally {
      await stub.close();
    }
  });

  it("refuses --shuffle for a story whose steps wait on each other", async () => {
    const { code, stderr } = await runCli(["scenario", "nuvouch-missed-callback", "--shuffle"]);
    assert.equal(code, 2);
    assert.match(stderr, /--shuffle would reorder a story/);
  });
});
