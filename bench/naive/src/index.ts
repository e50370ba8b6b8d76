import { Hono } from "hono";
import { z } from "zod";

// "The tutorial way": what a developer would write from the platform's examples, without the
// gateway's guarantees (no size cap while reading, no exact-bytes verification, no body hash, no
// conflict rule, no quarantine, no budget on the dedupe lookup, no structured log line). It caches
// the imported key, as the gateway does, so that the comparison is not won on a key import.

// Structural, so bench/ type-checks against Node's types without @cloudflare/workers-types.
interface Env {
  NOVA_WEBHOOK_SECRET: string;
  SEEN: {
    get(key: string): Promise<string | null>;
    put(key: string, value: string, options?: { expirationTtl?: number }): Promise<void>;
  };
  EVENTS: { send(message: unknown): Promise<void> };
}

const NovaEvent = z.object({
  eventId: z.string().min(1),
  type: z.string().min(1),
  occurredAt: z.string().optional(),
  data: z.record(z.string(), z.unknown()).optional(),
});

const encoder = new TextEncoder();
let key: Promise<CryptoKey> | undefined;

function fromHex(hex: string): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}

const app = new Hono<{ Bindings: Env }>();

app.post("/webhooks/nova", async (c) => {
  const body = await c.req.text();
  const header = c.req.header("x-nova-signature") ?? "";
  const parts = Object.fromEntries(header.split(",").map((part) => part.split("=", 2) as [string, string]));
  const t = Number(parts.t);
  if (!parts.v1 || !Number.isInteger(t) || Math.abs(Date.now() / 1000 - t) > 300) {
    return c.json({ error: "invalid signature" }, 401);
  }
  key ??= crypto.subtle.importKey(
    "raw",
    encoder.encode(c.env.NOVA_WEBHOOK_SECRET),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["verify"],
  );
  const valid = await crypto.subtle.verify("HMAC", await key, fromHex(parts.v1), encoder.encode(`${parts.t}.${body}`));
  if (!valid) return c.json({ error: "invalid signature" }, 401);

  const event = NovaEvent.safeParse(JSON.parse(body));
  if (!event.success) return c.json({ error: "invalid payload" }, 400);
  const seenKey = `nova:${event.data.eventId}`;
  if (await c.env.SEEN.get(seenKey)) return c.json({ status: "duplicate" }, 200);
  await c.env.EVENTS.send(event.data);
  await c.env.SEEN.put(seenKey, "1", { expirationTtl: 72 * 3600 });
  return c.json({ status: "accepted" }, 202);
});

export default {
  fetch: app.fetch,
  async queue(batch: { ackAll(): void }): Promise<void> {
    batch.ackAll();
  },
};
