import { describeIssues, parseJsonEnvelope, parseJsonObject } from "../json";
import type { ParsedEvent, ParseFailure, Provider } from "../types";
import { parseDottedForm } from "./form";
import { keepNumberText, NuveiWebhook } from "./schema";
import { verifyNuveiSignature } from "./signature";
import { transactionFromWebhook } from "./state";
import { upsertTransaction } from "./store";

function describe(event: NuveiWebhook, dedupeKey: string): Omit<ParsedEvent, "payloadJson"> {
  return { dedupeKey, type: `transaction.${event.result.status}`, occurredAt: event.timeStamp ?? null };
}

export const nuvei: Provider = {
  name: "nuvei",
  secretBinding: "NUVEI_WEBHOOK_SECRET",
  verify: verifyNuveiSignature,
  async parse(text, delivery): Promise<ParsedEvent | ParseFailure> {
    // Nuvei sends no event id: a retry is the same body, so the body hash is the dedupe key.
    const dedupeKey = await delivery.bodySha256();
    const contentType = delivery.headers.get("content-type")?.toLowerCase() ?? "";
    if (contentType.includes("xml") || text.trimStart().startsWith("<")) {
      return { error: "unsupported_media_type", message: "XML webhooks are not supported; configure JSON" };
    }
    if (contentType.startsWith("application/x-www-form-urlencoded")) {
      const form = parseDottedForm(text);
      if (!form.ok) return { error: "payload_invalid", message: form.message };
      const result = NuveiWebhook.safeParse(form.value);
      if (!result.success) return { error: "payload_invalid", message: describeIssues(result.error) };
      return { ...describe(result.data, dedupeKey), payloadJson: JSON.stringify(form.value) };
    }
    return parseJsonEnvelope(text, NuveiWebhook, (event) => describe(event, dedupeKey), keepNumberText);
  },
  consume: ({ db, eventId, dedupeKey, payloadJson, now }) => {
    const json = parseJsonObject(payloadJson, keepNumberText);
    if (!json.ok) throw new Error(`stored Nuvei payload unreadable: ${json.message}`);
    const webhook = NuveiWebhook.parse(json.value);
    const state = transactionFromWebhook(webhook, dedupeKey);
    return {
      payload: webhook,
      statements: state ? [upsertTransaction(db, state, now)] : [],
      onceKey: eventId,
      forwardData: webhook,
    };
  },
};
