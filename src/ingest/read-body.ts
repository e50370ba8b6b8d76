/**
 * Free bytes kept in front of a body read here. A verifier may write a signed prefix into them
 * (`<t>.`, at most 13 bytes: contract §2 caps t at 12 digits) and MAC prefix and body as one view,
 * instead of copying the body behind the prefix.
 */
export const BODY_HEADROOM = 16;

/** A body read by `readBodyWithinLimit`. */
export interface ReadBody {
  /** Exactly the delivered bytes: a view that starts `headroom` bytes into a buffer of its own. */
  body: Uint8Array<ArrayBuffer>;
  /** The free bytes in front of `body` in its buffer, which belong to no one else. */
  headroom: number;
}

// Without a usable Content-Length, the buffer starts at this and doubles (up to the limit).
const INITIAL_CAPACITY = 16 * 1024;

/**
 * Reads the body as raw bytes, counting while reading: a lying or absent Content-Length
 * (chunked) body is cut off at `limit + 1` bytes instead of being buffered whole. The bytes go
 * straight into one buffer with BODY_HEADROOM free bytes at its front (a BYOB read: no chunk is
 * copied, where the runtime streams the body as bytes, as workerd does for a request).
 */
export async function readBodyWithinLimit(request: Request, limit: number): Promise<ReadBody | "too_large"> {
  const header = request.headers.get("content-length");
  const declared = header !== null && /^\d+$/.test(header) ? Number(header) : null;
  if (declared !== null && declared > limit) return "too_large";
  // +1: room to see the end of a body of the declared length without growing the buffer.
  let buffer = new ArrayBuffer(BODY_HEADROOM + Math.min(limit, declared ?? INITIAL_CAPACITY) + 1);
  let length = 0;
  const body = () => ({ body: new Uint8Array(buffer, BODY_HEADROOM, length), headroom: BODY_HEADROOM });
  if (!request.body) return body();

  const free = () => buffer.byteLength - BODY_HEADROOM - length;
  const grow = () => {
    buffer = buffer.transfer(Math.min(BODY_HEADROOM + limit + 1, 2 * buffer.byteLength));
  };
  const tooLarge = async (reader: ReadableStreamBYOBReader | ReadableStreamDefaultReader<Uint8Array>) => {
    await reader.cancel().catch(() => {});
    return "too_large" as const;
  };

  const byob = byobReader(request.body);
  if (byob) {
    for (;;) {
      if (free() === 0) grow();
      const { done, value } = await byob.read(new Uint8Array(buffer, BODY_HEADROOM + length, free()));
      // The buffer was handed to the stream and comes back in `value` (done or not).
      if (value) buffer = value.buffer as ArrayBuffer;
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
