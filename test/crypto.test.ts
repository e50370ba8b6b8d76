import { createHmac } from "node:crypto";
import { Webhook } from "standardwebhooks";
import Stripe from "stripe";
import { describe, expect, it } from "vitest";
import { fromBase64, fromHex, toBase64, toHex, utf8 } from "../src/crypto/encoding";
import { hmacSha256, sha256Hex, verifyHmacSha256, verifyWithAnySecret } from "../src/crypto/hmac";
import { parseTimestampedSignature, verifyTimestampedSignature } from "../src/crypto/timestamped-signature";
import { verifyNuveiSignature } from "../src/providers/nuvei/signature";
import { nuveiDigest, timestampedHeader } from "./support/sign";

describe("strict encodings", () => {
  it("round-trips hex and refuses odd lengths and non-hex characters", () => {
    expect(toHex(fromHex("00ff10ab") as Uint8Array)).toBe("00ff10ab");
    expect(fromHex("abc")).toBeNull();
    expect(fromHex("zz")).toBeNull();
    expect(fromHex("0x12")).toBeNull();
    expect(fromHex("12 3")).toBeNull();
  });

  it("decodes only padded standard base64", () => {
    expect(toBase64(fromBase64("aGVsbG8=") as Uint8Array)).toBe("aGVsbG8=");
    expect(fromBase64("aGVsbG8")).toBeNull(); // missing padding
    expect(fromBase64("aGVs bG8=")).toBeNull();
    expect(fromBase64("aGVsbG8-")).toBeNull(); // url-safe alphabet
    expect(fromBase64("====")).toBeNull();
  });
});

describe("shared HMAC module against published vectors", () => {
  it("matches GitHub's documented X-Hub-Signature-256 example", async () => {
    // docs.github.com, "Validating webhook deliveries": secret, payload and expected signature.
    const mac = await hmacSha256("It's a Secret to Everybody", utf8("Hello, World!"));
    expect(toHex(mac)).toBe("757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17");
  });

  it("matches the Standard Webhooks reference vector and the standardwebhooks library", async () => {
    const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    const id = "msg_p5jXN8AQM9LWM0D4loKWxJek";
    const timestamp = 1614265330;
    const payload = '{"test": 2432232314}';
    const key = fromBase64(secret.slice("whsec_".length)) as Uint8Array;
    const ours = `v1,${toBase64(await hmacSha256(key, utf8(`${id}.${timestamp}.${payload}`)))}`;
    expect(ours).toBe("v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    expect(new Webhook(secret).sign(id, new Date(timestamp * 1000), payload)).toBe(ours);
  });

  it("matches node:crypto for random keys and bodies, and verifies in constant time", async () => {
    for (let i = 0; i < 20; i++) {
      const secret = crypto.getRandomValues(new Uint8Array(1 + i * 3));
      const body = crypto.getRandomValues(new Uint8Array(i * 97));
      const expected = createHmac("sha256", secret).update(body).digest();
      expect(toHex(await hmacSha256(secret, body))).toBe(expected.toString("hex"));
      expect(await verifyHmacSha256(secret, body, new Uint8Array(expected))).toBe(true);
      const flipped = new Uint8Array(expected);
      flipped[i % 32] = (flipped[i % 32] as number) ^ 1;
      expect(await verifyHmacSha256(secret, body, flipped)).toBe(false);
      expect(await verifyHmacSha256(secret, body, new Uint8Array(expected).slice(0, 31))).toBe(false);
    }
  });

  it("accepts a MAC under any rotated secret and none other", async () => {
    const body = utf8("rotation");
    const mac = new Uint8Array(createHmac("sha256", "new").update("rotation").digest());
    expect(await verifyWithAnySecret(["old", "new"], body, [mac])).toBe(true);
    expect(await verifyWithAnySecret(["old"], body, [mac])).toBe(false);
    expect(await verifyWithAnySecret([], body, [mac])).toBe(false);
  });

  it("hashes like node:crypto", async () => {
    expect(await sha256Hex("abc")).toBe("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  });
});

describe("t=…,v1=… header parsing", () => {
  const v1 = "a".repeat(64);

  it("reads t and every v1, ignoring other schemes", () => {
    const parsed = parseTimestampedSignature(`t=1714214130,v0=${"b".repeat(64)},v1=${v1}, v1=${"c".repeat(64)},v2=zz`);
    expect(parsed).toMatchObject({ ok: true, value: { timestamp: "1714214130" } });
    expect(parsed.ok && parsed.value.signatures.map((mac) => toHex(mac))).toEqual([v1, "c".repeat(64)]);
  });

  it("trims spaces around keys and values", () => {
    expect(parseTimestampedSignature(` t = 12 , v1 = ${v1} `)).toMatchObject({ ok: true, value: { timestamp: "12" } });
  });

  // The reason is what an operator reads in GET /api/rejections, so each is pinned.
  it.each([
    ["non-numeric t", `t=abc,v1=${v1}`, "t is not a whole number of seconds"],
    ["float t", `t=1714214130.5,v1=${v1}`, "t is not a whole number of seconds"],
    ["negative t", `t=-1714214130,v1=${v1}`, "t is not a whole number of seconds"],
    ["exponent t", `t=1e9,v1=${v1}`, "t is not a whole number of seconds"],
    ["t with a leading letter", `t=x1714214130,v1=${v1}`, "t is not a whole number of seconds"],
    ["t with a trailing letter", `t=1714214130x,v1=${v1}`, "t is not a whole number of seconds"],
    ["t of 13 digits", `t=1714214130000,v1=${v1}`, "t is not a whole number of seconds"],
    ["empty t", `t=,v1=${v1}`, "t is not a whole number of seconds"],
    ["repeated t", `t=1,t=2,v1=${v1}`, "repeated t"],
    ["v1 not hex", `t=1,v1=${"g".repeat(64)}`, "no v1 entry is 64 hex characters"],
    ["v1 too short", `t=1,v1=${"a".repeat(62)}`, "no v1 entry is 64 hex characters"],
    ["v1 too long", `t=1,v1=${"a".repeat(66)}`, "no v1 entry is 64 hex characters"],
    ["an empty v1 alone", "t=1,v1=", "no v1 entry is 64 hex characters"],
    ["only v0", `t=1,v0=${v1}`, "no v1 entry"],
    ["no t", `v1=${v1}`, "no t entry"],
    ["garbage", "not a signature", "no t entry"],
    ["17 entries", `t=1,${Array.from({ length: 16 }, () => `v1=${v1}`).join(",")}`, "over 16 entries"],
    [
      "thousands of entries",
      `t=1,${Array.from({ length: 5000 }, () => `v1=${v1}`).join(",")}`,
      "header over 2048 characters",
    ],
    ["two headers joined by fetch", `t=1,v1=${v1}, t=2,v1=${v1}`, "repeated t"],
  ])("refuses %s", (_name, header, reason) => {
    expect(parseTimestampedSignature(header)).toEqual({ ok: false, code: "signature_invalid", message: reason });
  });

  it("takes 16 entries and 2048 characters, and no more", () => {
    const sixteen = `t=1,${Array.from({ length: 15 }, () => `v1=${v1}`).join(",")}`;
    expect(parseTimestampedSignature(sixteen)).toHaveProperty("value.signatures");
    const head = `t=1,v1=${v1},v0=`;
    const longest = head + "x".repeat(2048 - head.length);
    expect(parseTimestampedSignature(longest)).toHaveProperty("value.signatures");
    expect(parseTimestampedSignature(`${longest}x`)).toEqual({
      ok: false,
      code: "signature_invalid",
      message: "header over 2048 characters",
    });
  });

  // docs/contract.md §2: a malformed v1 entry does not spoil a well-formed one.
  it.each([
    ["an empty v1 before it", (good: string) => `t=1,v1=,v1=${good}`],
    ["a trailing comma", (good: string) => `t=1,v1=${good},`],
    ["an empty entry", (good: string) => `t=1,,v1=${good}`],
    ["a v1 that is not hex", (good: string) => `t=1,v1=${"z".repeat(64)},v1=${good}`],
    ["a v1 of 62 characters", (good: string) => `t=1,v1=${"a".repeat(62)},v1=${good}`],
    ["an entry without =", (good: string) => `t=1,v1=${good},junk`],
    ["an entry tt without =", (good: string) => `t=1,tt,v1=${good}`],
    ["an entry with an empty key", (good: string) => `t=1,=v1,v1=${good}`],
  ])("keeps the well-formed v1 beside %s", (_name, header) => {
    expect(parseTimestampedSignature(header(v1))).toEqual({
      ok: true,
      value: { timestamp: "1", signatures: [fromHex(v1)] },
    });
  });
});

describe("t=…,v1=… verification", () => {
  const secret = "whsec_test";
  const body = utf8('{"eventId":"evt_1","type":"payment.succeeded"}');
  const now = 1_800_000_000;
  const verify = (
    header: string | null,
    options: Partial<{ secrets: string[]; nowSeconds: number; body: Uint8Array }> = {},
  ) =>
    verifyTimestampedSignature({ header, body, secrets: [secret], nowSeconds: now, toleranceSeconds: 300, ...options });

  it("accepts the header the stripe library generates for the same scheme", async () => {
    const stripe = new Stripe("sk_test_unused");
    const header = await stripe.webhooks.generateTestHeaderStringAsync({
      payload: new TextDecoder().decode(body),
      secret,
      timestamp: now,
    });
    expect(await verify(header)).toEqual({ ok: true });
  });

  it("accepts any one of several v1 entries and any one of several secrets", async () => {
    const good = timestampedHeader(body, "other", now).split(",v1=")[1];
    expect(await verify(`t=${now},v1=${"0".repeat(64)},v1=${good}`, { secrets: ["nope", "other"] })).toEqual({
      ok: true,
    });
  });

  it("rejects a missing or empty header as missing", async () => {
    const missing = { ok: false, code: "signature_missing", message: "no signature header" };
    expect(await verify(null)).toEqual(missing);
    expect(await verify("")).toEqual(missing);
    expect(await verify("  ")).toEqual(missing);
  });

  it("verifies a real MAC beside malformed v1 entries, an empty entry or a trailing comma", async () => {
    const good = timestampedHeader(body, secret, now);
    const mac = good.split(",v1=")[1] ?? "";
    for (const header of [
      `${good},`,
      `t=${now},v1=,v1=${mac}`,
      `t=${now},,v1=${mac}`,
      `t=${now},v1=${"z".repeat(64)},v1=${mac}`,
      `t=${now},v1=${mac.slice(2)},v1=${mac}`,
      ` t=${now} , v1= ${mac} `,
    ]) {
      expect(await verify(header), header).toEqual({ ok: true });
    }
    expect(await verify(`t=${now},v1=,v1=${"0".repeat(64)}`)).toEqual({
      ok: false,
      code: "signature_invalid",
      message: "no signature matches",
    });
  });

  it("reports why a header does not parse", async () => {
    expect(await verify(`t=${now},v1=`)).toEqual({
      ok: false,
      code: "signature_invalid",
      message: "no v1 entry is 64 hex characters",
    });
  });

  it("rejects the wrong secret, a changed byte and a trailing newline", async () => {
    expect(await verify(timestampedHeader(body, "wrong", now))).toEqual({
      ok: false,
      code: "signature_invalid",
      message: "no signature matches",
    });
    const changed = body.slice();
    changed[5] = (changed[5] as number) ^ 1;
    expect(await verify(timestampedHeader(body, secret, now), { body: changed })).toMatchObject({
      code: "signature_invalid",
    });
    const newline = new Uint8Array([...body, 0x0a]);
    expect(await verify(timestampedHeader(body, secret, now), { body: newline })).toMatchObject({
      code: "signature_invalid",
    });
  });

  it("signs the timestamp exactly as sent", async () => {
    // A MAC made over "0123" must not verify as t=123: the characters are what is signed.
    const header = timestampedHeader(body, secret, `0${now}`);
    expect(await verify(header)).toEqual({ ok: true });
    const swapped = header.replace(`t=0${now}`, `t=${now}`);
    expect(await verify(swapped)).toMatchObject({ code: "signature_invalid" });
  });

  it.each([
    [-301, false],
    [-300, true],
    [-299, true],
    [0, true],
    [299, true],
    [300, true],
    [301, false],
  ])("with the timestamp %i s from now, accepts: %s", async (offset, accepted) => {
    const result = await verify(timestampedHeader(body, secret, now + offset));
    if (accepted) expect(result).toEqual({ ok: true });
    else
      expect(result).toEqual({
        ok: false,
        code: "timestamp_out_of_tolerance",
        message: offset < 0 ? `timestamp ${-offset} s old` : `timestamp ${offset} s ahead`,
      });
  });

  it("reports a stale timestamp only for an authentic signature", async () => {
    expect(await verify(timestampedHeader(body, "wrong", now - 1000))).toMatchObject({ code: "signature_invalid" });
  });
});

describe("Nuvei digest verification", () => {
  const secret = "nuvei_test_secret";
  const body = utf8('{"transactionId":"711","result":{"status":"approved"}}');
  const now = 1_800_000_000;
  const verify = (headers: Record<string, string>, secrets = [secret]) =>
    verifyNuveiSignature(
      { headers: new Headers(headers), body, bodySha256: () => sha256Hex(body) },
      { secrets, nowSeconds: now, toleranceSeconds: 300 },
    );
  const signed = (t: number | string = now, key = secret) => ({
    "x-authentication-timestamp": String(t),
    "x-authentication-digest": nuveiDigest(body, key, t),
  });

  it("accepts the digest of an independent signer, with spaces around either header", async () => {
    expect(await verify(signed())).toEqual({ ok: true });
    const { "x-authentication-timestamp": t, "x-authentication-digest": d } = signed();
    expect(await verify({ "x-authentication-timestamp": ` ${t} `, "x-authentication-digest": ` ${d} ` })).toEqual({
      ok: true,
    });
  });

  it("refuses a well-formed digest that does not match: another secret, body or timestamp", async () => {
    const refused = { ok: false, code: "signature_invalid", message: "no signature matches" };
    expect(await verify(signed(now, "another secret"))).toEqual(refused);
    expect(await verify(signed(), ["rotated away"])).toEqual(refused);
    expect(await verify({ ...signed(), "x-authentication-timestamp": String(now - 1) })).toEqual(refused);
  });

  it.each([
    ["only the timestamp", { "x-authentication-timestamp": String(now) }],
    ["only the digest", { "x-authentication-digest": "AAAA" }],
    ["neither", {}],
    ["an empty digest", { "x-authentication-timestamp": String(now), "x-authentication-digest": " " }],
  ])("a delivery with %s is missing its signature", async (_name, headers) => {
    expect(await verify(headers)).toEqual({
      ok: false,
      code: "signature_missing",
      message: "timestamp or digest header missing",
    });
  });

  it.each([
    ["a leading letter", `x${now}`],
    ["a trailing letter", `${now}x`],
    ["an exponent", "1e9"],
    ["13 digits", "1800000000000"],
  ])("refuses a timestamp with %s, even signed", async (_name, t) => {
    expect(await verify(signed(t))).toEqual({
      ok: false,
      code: "signature_invalid",
      message: "timestamp is not whole seconds",
    });
  });

  it.each([
    ["not base64", "not base64!"],
    ["base64 of 31 bytes", toBase64(new Uint8Array(31))],
    ["base64 of 33 bytes", toBase64(new Uint8Array(33))],
  ])("refuses a digest that is %s", async (_name, digest) => {
    expect(await verify({ "x-authentication-timestamp": String(now), "x-authentication-digest": digest })).toEqual({
      ok: false,
      code: "signature_invalid",
      message: "digest is not base64 of 32 bytes",
    });
  });

  it("checks the clock only for an authentic digest", async () => {
    expect(await verify(signed(now - 400))).toEqual({
      ok: false,
      code: "timestamp_out_of_tolerance",
      message: "timestamp 400 s old",
    });
    expect(await verify(signed(now - 400, "forger"))).toMatchObject({ code: "signature_invalid" });
  });
});
