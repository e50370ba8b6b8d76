// The Nova deliveries the benchmarks send (bench:ingest, bench:cpu): a payment.succeeded body padded
// to a size, signed by the tools' one signer (src/providers/simulators.node.ts), with the dev-only
// secret of .dev.vars.example read by the tools' one reader (scripts/lib/dev-vars.ts).
import { join } from "node:path";
import { PROJECT_ROOT, readDevVars } from "../../scripts/lib/dev-vars.ts";
import { signatureHeaders } from "../../src/providers/simulators.node.ts";

/** The published dev-only variables the benchmarks run the gateway with. */
export function devVarsExample(): Record<string, string> {
  return readDevVars(join(PROJECT_ROOT, ".dev.vars.example"));
}

/** A Nova payment.succeeded of about `size` bytes (its note pads it), occurring now. */
export function novaBody(eventId: string, size: number): string {
  const event = {
    eventId,
    type: "payment.succeeded",
    occurredAt: new Date().toISOString(),
    version: 1,
    data: {
      paymentId: `pay_${eventId.slice(-12)}`,
      amount: 1999,
      currency: "EUR",
      customer: { id: "cus_bench", email: "someone@example.com" },
      note: "",
    },
  };
  event.data.note = "x".repeat(Math.max(0, size - JSON.stringify(event).length));
  return JSON.stringify(event);
}

/** The `x-nova-signature` of `body` under `secret`, signed at `t` (unix seconds; now by default). */
export function novaSignature(body: string, secret: string, t = Math.floor(Date.now() / 1000)): string {
  const header = signatureHeaders("nova", body, secret, t)["x-nova-signature"];
  if (header === undefined) throw new Error("the Nova simulator signs no x-nova-signature");
  return header;
}
