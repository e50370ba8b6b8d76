// Error codes are a closed union with one status each (src/http/errors.ts); the `@ts-expect-error`
// lines fail `npm run typecheck` the day a free string or a wrong status compiles again.
import { Hono } from "hono";
import { describe, expect, it } from "vitest";
import { type ErrorCode, jsonError, statusOf } from "../src/http/errors";

function answer(send: (c: Parameters<typeof jsonError>[0]) => Response) {
  const app = new Hono();
  app.get("/", (c) => send(c));
  return app.request("/");
}

describe("error answers", () => {
  it("carry their code's status and the one error shape", async () => {
    const response = await answer((c) => jsonError(c, "event_not_found"));
    expect(response.status).toBe(404);
    expect(await response.json()).toEqual({ error: { code: "event_not_found" } });

    const withFields = await answer((c) =>
      jsonError(c, "nuvouch_rejected", "Nuvouch said no", { fields: { nuvouchCode: "VALIDATION_ERROR" } }),
    );
    expect(withFields.status).toBe(502);
    expect(await withFields.json()).toEqual({
      error: { code: "nuvouch_rejected", message: "Nuvouch said no", nuvouchCode: "VALIDATION_ERROR" },
    });
  });

  it("a code with several statuses answers its usual one unless told another of its own", async () => {
    expect((await answer((c) => jsonError(c, "nuvouch_unavailable"))).status).toBe(502);
    expect((await answer((c) => jsonError(c, "nuvouch_unavailable", "later", { status: 503 }))).status).toBe(503);
    // @ts-expect-error 500 is not one of nuvouch_unavailable's statuses
    expect((await answer((c) => jsonError(c, "nuvouch_unavailable", "x", { status: 500 }))).status).toBe(500);
    // @ts-expect-error a code with one status takes no other
    expect((await answer((c) => jsonError(c, "event_not_found", "x", { status: 400 }))).status).toBe(400);
  });

  it("only codes of the union compile", () => {
    // @ts-expect-error http_418 is no error code of this gateway
    const code: ErrorCode = "http_418";
    expect(code).toBe("http_418");
    expect(statusOf("signature_invalid")).toBe(401);
    expect(statusOf("payload_too_large")).toBe(413);
  });
});
