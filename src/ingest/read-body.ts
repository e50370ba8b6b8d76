import { type Failure, fail, ok, type Result } from "../result";

/**
 * Free bytes kept in front of a body read here. A verifier may write a signed prefix into them
 * (`<t>.`, at most 13 bytes: src/crypto/timestamped-signature.ts accepts a t of at most 12
 * digits) and MAC prefix and body as one view, instead of copying the body behind the prefix.
 */
export const BODY_HEADROOM = 16;

/** A body read by `readBodyWithinLimit`. */
export interface ReadBody {
  /** Exactly the delivered bytes: a view that starts `headroom` bytes into a buffer of its own. */
  body: Uint8Array<ArrayBuffer>;
  /** The free bytes in front of `body` in its buffer, which belong to no one else. */
  headroom: number;
}

// Without a Content-Length, the buffer starts at this and doubles (up to the limit).
const INITIAL_CAPACITY = 16 * 1024;

/**
 * Reads the body as raw bytes into one buffer with BODY_HEADROOM free bytes at its front, never more
 * than `limit + 1` bytes of it: a body declared larger is refused unread, and one without a
 * Content-Length (chunked) is counted while it is read, straight into the buffer (a BYOB read).
 */
export async function readBodyWithinLimit(
  request: Request,
  limit: number,
): Promise<Result<ReadBody, Failure<"payload_too_large">>> {
  const tooLargeFailure = () => fail("payload_too_large", `body over ${limit} bytes`);
  const header = request.headers.get("content-length");
  const declared = /^\d+$/.test(String(header)) ? Number(header) : null;
  if ((declared ?? 0) > limit) return tooLargeFailure();
  if (!request.body)
    return ok({ body: new Uint8Array(new ArrayBuffer(BODY_HEADROOM), BODY_HEADROOM, 0), headroom: BODY_HEADROOM });
  if (declared !== null) {
    // Off the network a declared body is exactly that long (workerd frames it by Content-Length, and
    // drops the header when Transfer-Encoding is present), so it is bounded already. Taken whole and
    // copied once behind the headroom, it costs what a bare worker's arrayBuffer() does (bench/README.md,
    // bench:cpu profile).
    const bytes = await request.arrayBuffer();
    // A Request built in JavaScript may carry more than it declares.
    if (bytes.byteLength > limit) return tooLargeFailure();
    const buffer = new Uint8Array(BODY_HEADROOM + bytes.byteLength);
    buffer.set(new Uint8Array(bytes), BODY_HEADROOM);
    return ok({ body: buffer.subarray(BODY_HEADROOM), headroom: BODY_HEADROOM });
  }

  // +1: room to see the end of a body that fits without growing the buffer.
  let buffer = new ArrayBuffer(BODY_HEADROOM + Math.min(limit, INITIAL_CAPACITY) + 1);
  let length = 0;
  const body = () => ok({ body: new Uint8Array(buffer, BODY_HEADROOM, length), headroom: BODY_HEADROOM });

  const free = () => buffer.byteLength - BODY_HEADROOM - length;
  const grow = () => {
    buffer = buffer.transfer(Math.min(BODY_HEADROOM + limit + 1, 2 * buffer.byteLength));
  };
  const tooLarge = async (reader: ReadableStreamBYOBReader | ReadableStreamDefaultReader<Uint8Array>) => {
    await reader.cancel().catch(() => {});
    return tooLargeFailure();
  };

  const byob = byobReader(request.body);
  if (byob) {
    for (;;) {
      if (free() === 0) grow();
      const { done, value } = await byob.read(new Uint8Array(buffer, BODY_HEADROOM + length, free()));
      // The buffer was handed to the stream and comes back in `value` (done or not: only a
      // cancelled stream, which this read never cancels before it returns, answers without one).
      buffer = (value as Uint8Array).buffer as ArrayBuffer;
      if (done) return body();
      length += value.byteLength;
      if (length > limit) return tooLarge(byob);
    }
  }
  // A stream that does not hand out bytes on request (a JavaScript ReadableStream): chunks are copied.
  const reader = request.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return body();
    if (length + value.byteLength > limit) return tooLarge(reader);
    while (free() < value.byteLength) grow();
    new Uint8Array(buffer, BODY_HEADROOM + length, value.byteLength).set(value);
    length += value.byteLength;
  }
}

function byobReader(stream: ReadableStream<Uint8Array>): ReadableStreamBYOBReader | null {
  try {
    return stream.getReader({ mode: "byob" });
  } catch {
    return null; // not a byte stream
  }
}
