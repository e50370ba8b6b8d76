import { verifyTimestampedSignature } from "../../crypto/timestamped-signature";
import { parseJsonEnvelope } from "../json";
import type { Provider } from "../types";
import { NuvouchEvent } from "./schema";

export const nuvouch: Provider = {
  name: "nuvouch",
  secretBinding: "NUVOUCH_CALLBACK_SECRET",
  // Assumption (contract §2): the docs name `x-nuvouch-signature` but not its format; it is
  // taken to be Nova's `t=…,v1=…` scheme. A different real format changes only this line.
  verify: (delivery, options) =>
    verifyTimestampedSignature({
      header: delivery.headers.get("x-nuvouch-signature"),
      body: delivery.body,
      ...options,
    }),
  parse: (text) =>
    parseJsonEnvelope(text, NuvouchEvent, (event) => ({
      dedupeKey: event.id,
      type: event.type,
      occurredAt: event.createdAt ?? null,
    })),
};
