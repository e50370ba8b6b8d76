import { Hono } from "hono";

// The least a webhook endpoint can do: take the whole body, answer 202. Same framework, same
// runtime, same `wrangler dev` process and the same router hop as the gateway, so the ratio
// full/bare is the cost of verify + parse + dedupe + enqueue + log, not of the plumbing.
const app = new Hono();

app.post("/webhooks/:provider", async (c) => {
  const body = await c.req.arrayBuffer();
  return c.json({ status: "accepted", bytes: body.byteLength }, 202);
});

export default app;
