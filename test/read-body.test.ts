import { describe, expect, it } from "vitest";
import { prefixed } from "../src/crypto/encoding";
import { sha256Hex } from "../src/crypto/hmac";
import { verifyTimestampedSignature } from "../src/crypto/timestamped-signature";
import { BODY_HEADROOM, type ReadBody, readBodyWithinLimit } from "../src/ingest/read-body";
import { NOW_S } from "./support/gateway";
import { SECRETS, sha256HexNode, timestampedHeader } from "./support/sign";

const LIMIT = 1024 * 1024;
const url = "https://gateway.test/webhooks/nova";

/** A JSON body of `size` bytes with multi-byte UTF-8 in it, different at every size. */
function bodyOf(size: number): Uint8Array {
  const text = `{"eventId":"evt_${size}","note":"é€𝄞${"x".repeat(size)}"}`;
  return new TextEncoder().encode(text).slice(0, size);
}

function chunks(bytes: Uint8Array, size: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let i = 0; i < bytes.byteLength; i += size) out.push(bytes.slice(i, i + size));
  return out;
}

// The three ways a body is read: declared by its Content-Length (taken whole), a byte stream without
// one (chunked: read with a BYOB reader straight into the buffer), and a plain JavaScript stream of
// chunks without one (read chunk by chunk and copied).
const sources: Record<string, (bytes: Uint8Array) => Request> = {
  // What workerd hands a worker for a request off the network, which declares its length (a Request
  // built in JavaScript does not get the header by itself).
  "bytes with Content-Length": (bytes) =>
    new Request(url, { method: "POST", body: bytes, headers: { "content-length": String(bytes.byteLength) } }),
  "byte stream, chunked": (bytes) => {
    const parts = chunks(bytes, 5000);
    return new Request(url, {
      method: "POST",
      body: new ReadableStream({
        type: "bytes",
        pull(controller) {
          const next = parts.shift();
          if (next) controller.enqueue(next);
          else controller.close();
        },
      }),
    });
  },
  "stream of chunks": (bytes) => {
    const parts = chunks(bytes, 3000);
    return new Request(url, {
      method: "POST",
      body: new ReadableStream<Uint8Array>({
        pull(controller) {
          const next = parts.shift();
          if (next) controller.enqueue(next);
          else controller.close();
        },
      }),
    });
  },
};

async function read(request: Request, limit = LIMIT): Promise<ReadBody> {
  const result = await readBodyWithinLimit(request, limit);
  if (!result.ok) throw new Error("unexpectedly too large");
  return result.value;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false;
  for (let i = 0; i < a.byteLength; i++) if (a[i] !== b[i]) return false;
  return true;
}

describe("a body read with headroom", () => {
  const cases = Object.keys(sources).flatMap((source) =>
    [1, 1024, 16 * 1024, 100 * 1024].map((size) => ({ source, size })),
  );

  it.each(cases)(
    "$source, $size bytes: verifies in place, and its bytes are exactly the delivered ones",
    async ({ source, size }) => {
      const delivered = bodyOf(size);
      const { body, headroom } = await read((sources[source] as (b: Uint8Array) => Request)(delivered));
      expect(headroom).toBeGreaterThanOrEqual(`${NOW_S}.`.length);
      expect(body.byteOffset).toBeGreaterThanOrEqual(headroom);
      expect(sameBytes(body, delivered)).toBe(true);

      // Signed by node:crypto, not by the code under test.
      const header = timestampedHeader(delivered, SECRETS.nova, NOW_S);
      const options = { secrets: [SECRETS.nova], nowSeconds: NOW_S, toleranceSeconds: 300 };
      expect(await verifyTimestampedSignature({ header, body, headroom, ...options })).toEqual({ ok: true });

      // `<t>.` was written into the headroom, right in front of the body: the MAC ran over one view.
      const prefix = `${NOW_S}.`;
      const front = new Uint8Array(body.buffer, body.byteOffset - prefix.length, prefix.length);
      expect(new TextDecoder().decode(front)).toBe(prefix);
      // What parse, hashing and storage see is still exactly what was delivered.
      expect(body.byteLength).toBe(size);
      expect(sameBytes(body, delivered)).toBe(true);
      expect(await sha256Hex(body)).toBe(sha256HexNode(delivered));
      expect(new TextDecoder().decode(body)).toBe(new TextDecoder().decode(delivered));

      // The same bytes under another MAC, or a changed byte under the right one, are still refused.
      const forged = timestampedHeader(delivered, `${SECRETS.nova}_wrong`, NOW_S);
      expect(await verifyTimestampedSignature({ header: forged, body, headroom, ...options })).toMatchObject({
        ok: false,
        code: "signature_invalid",
      });
      body[size - 1] = (body[size - 1] as number) ^ 1;
      expect(await verifyTimestampedSignature({ header, body, headroom, ...options })).toMatchObject({
        ok: false,
        code: "signature_invalid",
      });
    },
  );

  it("an absent body is empty, with the same headroom", async () => {
    const { body, headroom } = await read(new Request(url, { method: "POST" }));
    expect(body.byteLength).toBe(0);
    expect(headroom).toBe(BODY_HEADROOM);
  });

  it("a Request built in JavaScript that carries more than it declares is still held to the limit", async () => {
    const request = new Request(url, {
      method: "POST",
      headers: { "content-length": "10" },
      body: new ReadableStream<Uint8Array>({
        start(controller) {
          controller.enqueue(bodyOf(20_001));
          controller.close();
        },
      }),
    });
    expect(await readBodyWithinLimit(request, 20_000)).toMatchObject({ ok: false, code: "payload_too_large" });
  });

  it("a body over the limit fails as payload_too_large, saying the limit", async () => {
    for (const make of Object.values(sources)) {
      expect(await readBodyWithinLimit(make(bodyOf(20_001)), 20_000)).toEqual({
        ok: false,
        code: "payload_too_large",
        message: "body over 20000 bytes",
      });
    }
  });

  it.each(["+30000", "3e5", "30000.", "0x7530"])(
    "a Content-Length of %j is no declared length: the body is read and counted instead",
    async (declared) => {
      const delivered = bodyOf(100);
      const request = new Request(url, {
        method: "POST",
        headers: { "content-length": declared },
        body: new ReadableStream<Uint8Array>({
          start(controller) {
            controller.enqueue(delivered);
            controller.close();
          },
        }),
      });
      expect(sameBytes((await read(request, 20_000)).body, delivered)).toBe(true);
    },
  );

  it("a declared body is taken whole into a buffer of exactly its headroom and its bytes", async () => {
    const delivered = bodyOf(100 * 1024);
    const { body, headroom } = await read(sources["bytes with Content-Length"]?.(delivered) as Request);
    expect(body.buffer.byteLength).toBe(headroom + delivered.byteLength);
  });

  describe.each(["byte stream, chunked", "stream of chunks"])("%s: the buffer", (source) => {
    const make = (bytes: Uint8Array) => (sources[source] as (b: Uint8Array) => Request)(bytes);

    it("starts at 16 KiB (and a byte to see the end) for a small body under a large limit", async () => {
      const { body, headroom } = await read(make(bodyOf(1024)));
      expect(body.buffer.byteLength).toBe(headroom + 16 * 1024 + 1);
    });

    it("doubles as the body grows: never more than twice what it holds", async () => {
      const { body, headroom } = await read(make(bodyOf(100 * 1024)));
      expect(body.buffer.byteLength).toBeGreaterThanOrEqual(headroom + 100 * 1024);
      expect(body.buffer.byteLength).toBeLessThanOrEqual(2 * (headroom + 100 * 1024));
    });

    it("never holds more than the limit and one byte", async () => {
      for (const limit of [1000, 20_000]) {
        const { body, headroom } = await read(make(bodyOf(limit)), limit);
        expect(body.byteLength).toBe(limit);
        expect(body.buffer.byteLength).toBe(headroom + limit + 1);
      }
    });
  });

  it("stream of chunks: a chunk that fills the buffer exactly does not grow it", async () => {
    // Chunks of 3000 bytes: the sixth, of 1385, fills what the first five left of 16 KiB and a byte.
    const { body, headroom } = await read((sources["stream of chunks"] as (b: Uint8Array) => Request)(bodyOf(16385)));
    expect(body.buffer.byteLength).toBe(headroom + 16 * 1024 + 1);
  });

  it.each(Object.keys(sources))("%s: the limit holds, counted while reading", async (source) => {
    const make = sources[source] as (b: Uint8Array) => Request;
    expect(sameBytes((await read(make(bodyOf(20_000)), 20_000)).body, bodyOf(20_000))).toBe(true);
    expect(await readBodyWithinLimit(make(bodyOf(20_001)), 20_000)).toMatchObject({
      ok: false,
      code: "payload_too_large",
    });
  });
});

describe("prefixed", () => {
  // A buffer with sentinels: 8 bytes nobody lent, 16 bytes of headroom, then the body.
  function lent(headroom: number) {
    const buffer = new Uint8Array(8 + 16 + 5).fill(0xee);
    buffer.set(new TextEncoder().encode("hello"), 24);
    return { buffer, body: buffer.subarray(24) as Uint8Array<ArrayBuffer>, headroom };
  }

  it("writes the prefix into the headroom and nothing else", () => {
    const { buffer, body, headroom } = lent(16);
    const signed = prefixed("1714214130.", body, headroom);
    expect(new TextDecoder().decode(signed)).toBe("1714214130.hello");
    expect(signed.buffer).toBe(body.buffer);
    expect([...buffer.subarray(0, 24 - 11)].every((b) => b === 0xee)).toBe(true);
    expect(new TextDecoder().decode(body)).toBe("hello");
  });

  it("copies when the headroom is too small, or none is lent, and then writes nothing in front", () => {
    for (const headroom of [0, 10, undefined]) {
      const { buffer, body } = lent(0);
      const signed = prefixed("1714214130.", body, headroom);
      expect(new TextDecoder().decode(signed)).toBe("1714214130.hello");
      expect(signed.buffer).not.toBe(body.buffer);
      expect([...buffer.subarray(0, 24)].every((b) => b === 0xee)).toBe(true);
    }
  });

  it("never reaches in front of the view's own start, whatever headroom is claimed", () => {
    const body = new TextEncoder().encode("hello");
    const signed = prefixed("1.", body, 16);
    expect(new TextDecoder().decode(signed)).toBe("1.hello");
    expect(new TextDecoder().decode(body)).toBe("hello");
  });

  it("copies a prefix that is not ASCII, encoded as UTF-8", () => {
    const { body } = lent(16);
    expect(new TextDecoder().decode(prefixed("é.", body, 16))).toBe("é.hello");
  });
});
