// Properties of the security core that the broader tests do not pin, each found by a surviving mutant
// (npm run test:mutation): the key cache's reuse and bounds, bytes written in place rather than
// copied, strict decodings, and the operator API's answers when its token is missing or misconfigured.

import { env } from "cloudflare:workers";
import { createHmac } from "node:crypto";
import { afterEach, describe, expect, it, vi } from "vitest";
import { fromBase64, fromHex, prefixed, toHex, utf8 } from "../src/crypto/encoding";
import { hmacSha256, hmacSha256Key, KeyCache } from "../src/crypto/hmac";
import { standardWebhookHeaders } from "../src/crypto/standard-webhooks";
import { callGateway } from "./support/gateway";

afterEach(() => vi.restoreAllMocks());

let run = 0;
const fresh = (label: string) => `${label}-${++run}-${crypto.randomUUID()}`;

describe("HMAC keys are imported once and cached within bounds", () => {
  const imports = () => vi.spyOn(crypto.subtle, "importKey");

  it("imports a secret's key once, however often it is used, and never as extractable", async () => {
    const spy = imports();
    const secret = fresh("once");
    const first = await hmacSha256Key(secret);
    expect(await hmacSha256Key(secret)).toBe(first);
    expect(spy).toHaveBeenCalledTimes(1);
    expect(first.extractable).toBe(false);
  });

  it("holds up to its capacity, then starts over", async () => {
    const spy = imports();
    const cache = new KeyCache(3);
    const [a, b, c, d] = ["a", "b", "c", "d"].map(fresh) as [string, string, string, string];
    for (const secret of [a, b, c]) await cache.key(secret);
    expect(cache.size).toBe(3);
    await cache.key(a);
    await cache.key(c);
    expect(spy).toHaveBeenCalledTimes(3); // all three kept
    await cache.key(d); // one past capacity: cleared, then d kept
    expect(cache.size).toBe(1);
    await cache.key(d);
    expect(spy).toHaveBeenCalledTimes(4);
    await cache.key(a); // gone with the clear
    expect(spy).toHaveBeenCalledTimes(5);
    expect(cache.size).toBe(2);
  });

  it("keys a string secret and a byte secret apart, even when their text would match", async () => {
    const data = utf8("same data");
    const bytes = new Uint8Array([49, 44, 50]);
    const text = String(bytes); // "49,44,50"
    expect(toHex(await hmacSha256(bytes, data))).toBe(createHmac("sha256", bytes).update(data).digest("hex"));
    expect(toHex(await hmacSha256(text, data))).toBe(createHmac("sha256", text).update(data).digest("hex"));
  });

  it("does not keep a failed import: the next call tries again", async () => {
    const spy = imports().mockImplementationOnce(() => Promise.reject(new Error("import failed")));
    const secret = fresh("fails once");
    await expect(hmacSha256Key(secret)).rejects.toThrow("import failed");
    await Promise.resolve(); // the rejection handler runs before the next call
    const data = utf8("x");
    expect(toHex(await hmacSha256(secret, data))).toBe(createHmac("sha256", secret).update(data).digest("hex"));
    expect(spy).toHaveBeenCalledTimes(2);
  });
});

describe("prefixed() writes a prefix into the headroom, and copies only when it cannot", () => {
  const withHeadroom = (headroom: number, text: string) => {
    const buffer = new Uint8Array(headroom + text.length);
    buffer.set(utf8(text), headroom);
    return buffer.subarray(headroom);
  };

  it("uses headroom that fits the prefix exactly, without copying the body", () => {
    const body = withHeadroom(3, "body");
    const signed = prefixed("12.", body, 3);
    expect(new TextDecoder().decode(signed)).toBe("12.body");
    expect(signed.buffer).toBe(body.buffer);
  });

  it("copies when the headroom is one byte short", () => {
    const body = withHeadroom(2, "body");
    const signed = prefixed("12.", body, 2);
    expect(new TextDecoder().decode(signed)).toBe("12.body");
    expect(signed.buffer).not.toBe(body.buffer);
  });

  it("writes the last ASCII character (DEL) in place, and copies for anything past it", () => {
    const ascii = withHeadroom(1, "b");
    expect(prefixed("\x7f", ascii, 1).buffer).toBe(ascii.buffer);
    const wide = withHeadroom(2, "b");
    const signed = prefixed("\x80", wide, 2);
    expect([...signed]).toEqual([0xc2, 0x80, 0x62]);
    expect(signed.buffer).not.toBe(wide.buffer);
  });
});

describe("strict decodings", () => {
  it("refuses hex with characters outside ASCII", () => {
    expect(fromHex("é0")).toBeNull();
    expect(fromHex("0é")).toBeNull();
    expect(fromHex("ÿÿ")).toBeNull();
  });

  it("decodes base64 to exactly its bytes", () => {
    expect(fromBase64("AAEC/w==")).toEqual(new Uint8Array([0, 1, 2, 255]));
    expect(fromBase64("")).toEqual(new Uint8Array([]));
  });
});

describe("Standard Webhooks headers", () => {
  it("refuse to sign with no key at all", () => {
    expect(() => standardWebhookHeaders([], "msg_1", new Date(0), "{}")).toThrow(new Error("no signing secret"));
  });
});

describe("the operator API's token", () => {
  const call = (token: string | undefined, authorization?: string) =>
    callGateway(
      new Request("https://gateway.test/api/events", {
        headers: authorization === undefined ? {} : { authorization },
      }),
      { env: { ...env, ADMIN_API_TOKEN: token } as Env },
    );

  it("tells a caller without the token what to send", async () => {
    const response = await call("tok_1");
    expect(response.status).toBe(401);
    expect(await response.json()).toEqual({
      error: { code: "unauthorized", message: "send Authorization: Bearer <ADMIN_API_TOKEN>" },
    });
  });

  it("tells the operator how to open the API while no token is set", async () => {
    for (const token of [undefined, ""]) {
      const response = await call(token, "Bearer anything");
      expect(response.status).toBe(503);
      expect(await response.json()).toEqual({
        error: { code: "admin_api_disabled", message: "set ADMIN_API_TOKEN to enable the operator API" },
      });
    }
  });

  it.each([
    ["a leading character no bearer token has", "!tok_1"],
    ["a trailing one", "tok_1!"],
    ["a space inside", "tok 1"],
    ["padding before the end", "tok=1"],
  ])("is misconfigured with %s, and says which characters are allowed", async (_name, token) => {
    const response = await call(token, `Bearer ${token}`);
    expect(response.status).toBe(503);
    expect(await response.json()).toEqual({
      error: {
        code: "admin_api_misconfigured",
        message: "ADMIN_API_TOKEN may hold only letters, digits and - . _ ~ + / = (and commas between tokens)",
      },
    });
  });

  it("is misconfigured when any token of a rotation list is, even if another is fine", async () => {
    const response = await call("tok_1,tok 2", "Bearer tok_1");
    expect(response.status).toBe(503);
    expect(await response.json()).toMatchObject({ error: { code: "admin_api_misconfigured" } });
  });

  it("accepts every character of the bearer alphabet, and trailing padding", async () => {
    const token = "Az09._~+/-==";
    expect((await call(token, `Bearer ${token}`)).status).toBe(200);
    expect((await call(token, "Bearer Az09._~+/-=")).status).toBe(401);
  });
});
