// Nuvei for the tools: one transaction's webhooks as the Nuvei document shows them (JSON, or
// name-value pairs), or as XML in the shape the gateway assumes (./xml.ts), signed with its
// timestamp and digest headers.
import { createHash } from "node:crypto";
import { hmacSha256 } from "../signing.node.ts";
import { defaultSources, digits, type Json, listedEvents, type Simulator, type Sources } from "../simulation.node.ts";
import { NUVEI_STATUSES } from "./events.ts";

/** D = base64(HMAC-SHA256(secret, H + T)), H the lowercase hex SHA-256 of the raw body. */
export function nuveiDigest(body: string | Uint8Array, secret: string, t: number | string): string {
  const h = createHash("sha256").update(body).digest("hex");
  return hmacSha256(secret, `${h}${t}`).toString("base64");
}

/** Nuvei's timeStamp carries nanoseconds; the extra digits also keep two bodies distinct. */
function nanoTimestamp(sources: Sources): string {
  return sources
    .now()
    .toISOString()
    .replace("Z", `${digits(sources, 6)}Z`);
}

/** Nuvei's name-value-pair form: nested fields become dotted names (`result.status=…`). */
export function toDottedForm(payload: Json): string {
  const params = new URLSearchParams();
  const walk = (value: unknown, path: string) => {
    if (value !== null && typeof value === "object" && !Array.isArray(value)) {
      for (const [key, child] of Object.entries(value)) walk(child, path ? `${path}.${key}` : key);
    } else {
      params.append(path, String(value));
    }
  };
  walk(payload, "");
  return params.toString();
}

const XML_ESCAPES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;" };

/**
 * The XML the gateway reads into the same shape (./xml.ts): one root element, each field a
 * child element named as its JSON key, nested objects nested elements, every value text,
 * no attributes. Values are written as text, digit for digit (`String(value)`).
 */
export function toXml(payload: Json, root = "notification"): string {
  const element = (name: string, value: unknown): string => {
    if (value !== null && typeof value === "object" && !Array.isArray(value)) {
      return `<${name}>${Object.entries(value)
        .map(([key, child]) => element(key, child))
        .join("")}</${name}>`;
    }
    const text = String(value ?? "").replace(/[&<>]/g, (c) => XML_ESCAPES[c] as string);
    return `<${name}>${text}</${name}>`;
  };
  return `<?xml version="1.0" encoding="UTF-8"?>\n${element(root, payload)}\n`;
}

export const nuveiSimulator = {
  name: "nuvei",
  secretBinding: "NUVEI_WEBHOOK_SECRET",
  // The statuses one transaction moves through; the event is its `result.status`.
  ...listedEvents(NUVEI_STATUSES, (status) => `transaction.${status}`),
  /** One transaction's webhook: every status of a story shares its ids and amounts. */
  build(status, story, options = {}) {
    const sources = options.sources ?? defaultSources;
    const body: Json = {
      authorizingEntityId: "sim_authorizing_entity",
      processingEntityId: "sim_processing_entity",
      transactionId: story.transactionId,
      externalTransactionId: `ext_${story.transactionId.slice(-10)}`,
      merchantTransactionId: story.merchantTransactionId,
      buyerId: story.subject,
      version: "2.0",
      amount: story.amount,
      currency: story.currency,
      transactionType: "Sale",
      result: { status } as Json,
      timeStamp: nanoTimestamp(sources),
      paymentOption: {
        alternativePaymentMethod: {
          name: "ACH",
          data: { accountNumber: "111111111", routingNumber: "123456780" },
          merchantReference: `ref_${story.merchantTransactionId}`,
          paymentTokenId: `tok_${story.transactionId.slice(-12)}`,
        },
      },
    };
    if (status === "approved") body.authCode = digits(sources, 6);
    if (status === "declined" || status === "error") {
      (body.result as Json).error = { code: status === "declined" ? "-1" : "1001", reason: `Transaction ${status}` };
      body.providerResponseDetails = { code: "R01", reason: "Insufficient funds" };
    }
    return body;
  },
  describe: (payload) => `tx=${payload.transactionId}`,
  sign: (body, secret, t) => ({
    "x-authentication-timestamp": String(t),
    "x-authentication-digest": nuveiDigest(body, secret, t),
  }),
  formBody: toDottedForm,
  xmlBody: (payload) => toXml(payload),
} as const satisfies Simulator<"nuvei">;
