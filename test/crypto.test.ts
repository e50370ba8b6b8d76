import { createHmac } from "node:crypto";
import { Webhook } from "standardwebhooks";
import Stripe from "stripe";
import { describe, expect, it } from "vitest";
import { fromBase64, fromHex, toBase64, toHex, utf8 } from "../src/crypto/encoding";
import { hmacSha256, sha256Hex, verifyHmacSha256, verifyWithAnySecret } from "../src/crypto/hmac";
import { parseTimestampedSignature, verifyTimestampedSignature } from "../src/crypto/timestamped-signature";
import { timestampedHeader } from "./support/sign";

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
    expect(parsed).toMatchObject({ timestamp: "1714214130" });
    expect("signatures" in parsed && parsed.signatures.length).toBe(2);
  });

  it.each([
    ["non-numeric t", `t=abc,v1=${v1}`],
    ["float t", `t=1714214130.5,v1=${v1}`],
    ["negative t", `t=-1714214130,v1=${v1}`],
    ["exponent t", `t=1e9,v1=${v1}`],
    ["empty t", `t=,v1=${v1}`],
    ["repeated t", `t=1,t=2,v1=${v1}`],
    ["v1 not hex", `t=1,v1=${"g".repeat(64)}`],
    ["v1 too short", `t=1,v1=${"a".repeat(62)}`],
    ["v1 too long", `t=1,v1=${"a".repeat(66)}`],
    ["only v0", `t=1,v0=${v1}`],
    ["no t", `v1=${v1}`],
    ["garbage", "not a signature"],
    ["entry without =", `t=1,v1=${v1},junk`],
    ["thousands of entries", `t=1,${Array.from({ length: 5000 }, () => `v1=${v1}`).join(",")}`],
    ["two headers joined by fetch", `t=1,v1=${v1}, t=2,v1=${v1}`],
  ])("refuses %s", (_name, header) => {
    expect(parseTimestampedSignature(header)).toHaveProperty("error");
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
    expect(await verify(null)).toMatchObject({ ok: false, code: "signature_missing" });
    expect(await verify("  ")).toMatchObject({ ok: false, code: "signature_missing" });
  });

  it("rejects the wrong secret, a changed byte and a trailing newline", async () => {
    expect(await verify(timestampedHeader(body, "wrong", now))).toMatchObject({ code: "signature_invalid" });
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
    [-299, true],
    [0, true],
    [299, true],
    [301, false],
  ])("with the timestamp %i s from now, accepts: %s", async (offset, accepted) => {
    const result = await verify(timestampedHeader(body, secret, now + offset));
    if (accepted) expect(result).toEqual({ ok: true });
    else expect(result).toMatchObject({ ok: false, code: "timestamp_out_of_tolerance" });
  });

  it("reports a stale timestamp only for an authentic signature", async () => {
    expect(await verify(timestampedHeader(body, "wrong", now - 1000))).toMatchObject({ code: "signature_invalid" });
  });
});
