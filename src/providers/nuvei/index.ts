import { describeIssues } from "../../issues";
import { fail, ok } from "../../result";
import { parseJsonEnvelope, parseJsonObject } from "../json";
import { defineProvider, eventSchemas, type ParsedEvent, type ParseResult } from "../types";
import { NUVEI_EVENT_TYPES } from "./events";
import { parseDottedForm } from "./form";
import { nuveiApi } from "./routes";
import { keepNumberText, NuveiWebhook } from "./schema";
import { verifyNuveiSignature } from "./signature";
import { transactionFromWebhook } from "./state";
import { transactionStatements } from "./store";
import { parseXmlWebhook } from "./xml";

function describe(event: NuveiWebhook, dedupeKey: string): Omit<ParsedEvent, "payloadJson"> {
  return { dedupeKey, type: `transaction.${event.result.status}`, occurredAt: event.timeStamp ?? null };
}

type BodyFormat = "json" | "form" | "xml";

function formatOf(contentType: string, text: string): BodyFormat {
  const mediaType = contentType.split(";")[0]?.trim() ?? "";
  // application/xml, text/xml, application/…+xml; or no useful type on an XML body.
  if (mediaType.endsWith("xml") || text.trimStart().startsWith("<")) return "xml";
  if (mediaType === "application/x-www-form-urlencoded") return "form";
  return "json";
}

export const nuvei = defineProvider({
  name: "nuvei",
  secretBinding: "NUVEI_WEBHOOK_SECRET",
  events: eventSchemas(NUVEI_EVENT_TYPES, NuveiWebhook),
  envelope: NuveiWebhook,
  verify: verifyNuveiSignature,
  async parse(text, delivery): Promise<ParseResult> {
    // Nuvei sends no event id: a retry is the same body, so the body hash is the dedupe key.
    const dedupeKey = await delivery.bodySha256();
    const format = formatOf(delivery.headers.get("content-type")?.toLowerCase() ?? "", text);
    if (format === "json") {
      return parseJsonEnvelope(text, NuveiWebhook, (event) => describe(event, dedupeKey), { reviver: keepNumberText });
    }
    // Form and XML bodies are stored as the JSON they parse into (every value a string),
    // so the consumer reads every format the same way.
    const body = format === "xml" ? parseXmlWebhook(text) : parseDottedForm(text);
    if (!body.ok) return body;
    const result = NuveiWebhook.safeParse(body.value);
    if (!result.success) return fail("payload_invalid", describeIssues(result.error));
    return ok({ ...describe(result.data, dedupeKey), payloadJson: JSON.stringify(body.value) });
  },
  consume: ({ db, eventId, dedupeKey, payloadJson, now, applies }) => {
    const json = parseJsonObject(payloadJson, keepNumberText);
    if (!json.ok) throw new Error(`stored Nuvei payload unreadable: ${json.message}`);
    const webhook = NuveiWebhook.parse(json.value);
    const state = transactionFromWebhook(webhook, dedupeKey);
    return {
      payload: webhook,
      statements: state ? transactionStatements(db, state, now, applies) : [],
      onceKey: eventId,
      data: webhook,
    };
  },
  routes: nuveiApi,
});
