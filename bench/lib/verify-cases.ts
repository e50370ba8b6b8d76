// The cases of `bench:verify`, bundled by esbuild twice: once for Node, once into a worker
// that runs in workerd (Miniflare), so both runtimes time exactly the same code.
// node:crypto in workerd needs the nodejs_compat flag; the gateway itself does not use it.
import { Buffer } from "node:buffer";
import { createHash, createHmac, timingSafeEqual } from "node:crypto";
import { Webhook } from "standardwebhooks";
import { sha256Hex } from "../../src/crypto/hmac";
import { verifyTimestampedSignature } from "../../src/crypto/timestamped-signature";
import { BODY_HEADROOM } from "../../src/ingest/read-body";
import { verifyNuveiSignature } from "../../src/providers/nuvei/signature";
import { nuveiDigest } from "../../src/providers/nuvei/simulator.node.ts";
import { timestampedSignature } from "../../src/providers/signing.node.ts";

export const SIZES = [1024, 16 * 1024, 100 * 1024];

export type Scheme = "nova" | "nuvei";

export interface Case {
  label: string;
  scheme: Scheme;
  /** The node:crypto floor of its scheme: the row every other row of the scheme is compared with. */
  floor?: true;
  /** Printed against the target. */
  gateway?: true;
  sync?: () => boolean;
  async?: () => Promise<boolean>;
}

const NOVA_SECRET = "dev_nova_secret_not_for_production";
const NUVEI_SECRET = "dev_nuvei_secret_not_for_production";

/** A JSON body of exactly `size` bytes, shaped like a Nova event with a padded data field. */
export function makeBody(size: number): Buffer {
  const head =
    '{"eventId":"evt_bench_0001","type":"payment.succeeded","occurredAt":"2026-11-22T10:00:00Z","version":1,"data":{"note":"';
  const tail = '"}}';
  return Buffer.from(head + "x".repeat(size - head.length - tail.length) + tail, "utf8");
}

export function createCases(size: number): Case[] {
  const now = Math.floor(Date.now() / 1000);
  const t = String(now);
  const body = makeBody(size);
  const bodyBytes = new Uint8Array(body.buffer, body.byteOffset, body.byteLength);
  // The body as ingest reads it (src/ingest/read-body.ts): a view with free bytes in front of it.
  const headroom = BODY_HEADROOM;
  const withHeadroom = new Uint8Array(new ArrayBuffer(headroom + body.byteLength), headroom);
  withHeadroom.set(body);
  const bodyText = body.toString("utf8");
  const options = { secrets: [NOVA_SECRET], nowSeconds: now, toleranceSeconds: 300 };

  // Signed by the tools' one signing module (node:crypto), as the tests and the simulator sign.
  const novaHeader = timestampedSignature(body, NOVA_SECRET, t);
  const v1 = novaHeader.slice(novaHeader.indexOf("v1=") + 3);
  const digest = nuveiDigest(body, NUVEI_SECRET, t);
  const nuveiHeaders = new Headers({ "x-authentication-timestamp": t, "x-authentication-digest": digest });
  const nuveiOptions = { ...options, secrets: [NUVEI_SECRET] };

  // Standard Webhooks: v1,base64(HMAC(key, "<id>.<t>.<body>")).
  const swh = new Webhook(`whsec_${Buffer.from("bench_standard_webhooks_secret__").toString("base64")}`);
  const swhHeaders = {
    "webhook-id": "msg_bench_0001",
    "webhook-timestamp": t,
    "webhook-signature": swh.sign("msg_bench_0001", new Date(now * 1000), bodyText),
  };

  // The bare WebCrypto primitive the gateway calls, with its key imported once (the gateway caches keys too).
  const novaKey = crypto.subtle.importKey(
    "raw",
    new TextEncoder().encode(NOVA_SECRET),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["verify"],
  );
  const nuveiKey = crypto.subtle.importKey(
    "raw",
    new TextEncoder().encode(NUVEI_SECRET),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["verify"],
  );
  const prefix = new TextEncoder().encode(`${t}.`);
  const novaSigned = new Uint8Array(Buffer.concat([prefix, body]));
  const toHex = (buffer: ArrayBuffer) => Buffer.from(buffer).toString("hex");

  return [
    {
      label: "node:crypto floor (createHmac + timingSafeEqual)",
      scheme: "nova",
      floor: true,
      sync: () => {
        const expected = Buffer.from(v1, "hex");
        const mac = createHmac("sha256", NOVA_SECRET).update(`${t}.`).update(body).digest();
        return mac.length === expected.length && timingSafeEqual(mac, expected);
      },
    },
    {
      label: "crypto.subtle.verify alone (cached key)",
      scheme: "nova",
      async: async () =>
        crypto.subtle.verify("HMAC", await novaKey, new Uint8Array(Buffer.from(v1, "hex")), novaSigned),
    },
    {
      // What verifyTimestampedSignature adds to the primitive: the body copied behind "<t>.".
      label: "crypto.subtle.verify of a fresh `<t>.`+body copy",
      scheme: "nova",
      async: async () => {
        const signed = new Uint8Array(prefix.byteLength + bodyBytes.byteLength);
        signed.set(prefix);
        signed.set(bodyBytes, prefix.byteLength);
        return crypto.subtle.verify("HMAC", await novaKey, new Uint8Array(Buffer.from(v1, "hex")), signed);
      },
    },
    {
      // As ingest calls it: `<t>.` written into the headroom, one view MACed, no copy.
      label: "gateway verifyTimestampedSignature",
      scheme: "nova",
      gateway: true,
      async: async () =>
        (await verifyTimestampedSignature({ header: novaHeader, body: withHeadroom, headroom, ...options })).ok,
    },
    {
      label: "the same, body without headroom (copied)",
      scheme: "nova",
      async: async () => (await verifyTimestampedSignature({ header: novaHeader, body: bodyBytes, ...options })).ok,
    },
    {
      label: "standardwebhooks Webhook.verify",
      scheme: "nova",
      sync: () => {
        swh.verify(bodyText, swhHeaders, { jsonParse: false });
        return true;
      },
    },
    {
      label: "node:crypto floor (createHash + createHmac + timingSafeEqual)",
      scheme: "nuvei",
      floor: true,
      sync: () => {
        const expected = Buffer.from(digest, "base64");
        const hex = createHash("sha256").update(body).digest("hex");
        const mac = createHmac("sha256", NUVEI_SECRET).update(`${hex}${t}`).digest();
        return mac.length === expected.length && timingSafeEqual(mac, expected);
      },
    },
    {
      label: "crypto.subtle digest + verify alone (cached key)",
      scheme: "nuvei",
      async: async () => {
        const hex = toHex(await crypto.subtle.digest("SHA-256", bodyBytes));
        const signed = new TextEncoder().encode(`${hex}${t}`);
        return crypto.subtle.verify("HMAC", await nuveiKey, new Uint8Array(Buffer.from(digest, "base64")), signed);
      },
    },
    {
      label: "gateway verifyNuveiSignature",
      scheme: "nuvei",
      gateway: true,
      async: async () => {
        // A fresh delivery per call, as in ingest: the body hash is memoized per request only.
        let memo: Promise<string> | undefined;
        const delivery = { headers: nuveiHeaders, body: bodyBytes, bodySha256: () => (memo ??= sha256Hex(bodyBytes)) };
        return (await verifyNuveiSignature(delivery, nuveiOptions)).ok;
      },
    },
  ];
}

/** Every case must accept its valid delivery and the gateway must refuse a tampered one, or timing means nothing. */
export async function checkCorrectness(): Promise<void> {
  for (const c of createCases(1024)) {
    const ok = c.sync ? c.sync() : await c.async?.();
    if (ok !== true) throw new Error(`sanity check failed: ${c.label} rejected a valid delivery`);
  }
  const now = Math.floor(Date.now() / 1000);
  const body = makeBody(1024);
  const header = timestampedSignature(body, NOVA_SECRET, now);
  body[200] = (body[200] ?? 0) ^ 1;
  const tampered = await verifyTimestampedSignature({
    header,
    body: new Uint8Array(body),
    secrets: [NOVA_SECRET],
    nowSeconds: now,
    toleranceSeconds: 300,
  });
  if (tampered.ok) throw new Error("sanity check failed: a tampered body verified");
}

/**
 * Runs `n` verifications back to back (sync cases in a plain loop, async ones awaited one at
 * a time) and returns the elapsed milliseconds read from `clock`.
 */
export async function runBatch(c: Case, n: number, clock: () => number): Promise<number> {
  let accepted = 0;
  const start = clock();
  if (c.sync) {
    for (let i = 0; i < n; i++) if (c.sync()) accepted++;
  } else if (c.async) {
    for (let i = 0; i < n; i++) if (await c.async()) accepted++;
  }
  const elapsed = clock() - start;
  if (accepted !== n) throw new Error(`${c.label}: ${n - accepted} of ${n} verifications failed`);
  return elapsed;
}
