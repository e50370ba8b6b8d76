import type { SignatureCheck } from "../crypto/signature-check";

/** One delivery as it came off the wire: the exact bytes every signature is computed over. */
export interface Delivery {
  readonly headers: Headers;
  readonly body: Uint8Array;
  /** Lowercase hex SHA-256 of the body, computed once and shared by verification and dedupe. */
  bodySha256(): Promise<string>;
}

export interface VerifyOptions {
  readonly secrets: readonly string[];
  readonly nowSeconds: number;
  readonly toleranceSeconds: number;
}

/** What ingest needs from a verified payload: enough to dedupe, queue and list it. */
export interface ParsedEvent {
  dedupeKey: string;
  type: string;
  occurredAt: string | null;
  /** The payload as JSON text. For JSON bodies, the body itself, byte for byte. */
  payloadJson: string;
}

export type ParseFailure = { error: "payload_invalid" | "unsupported_media_type"; message: string };

/** Env bindings that hold a provider's comma-separated signing secrets. */
export type SecretBinding = "NOVA_WEBHOOK_SECRET" | "NUVEI_WEBHOOK_SECRET" | "NUVOUCH_CALLBACK_SECRET";

export interface Provider {
  /** The `:provider` segment of `POST /webhooks/:provider`. */
  readonly name: string;
  readonly secretBinding: SecretBinding;
  verify(delivery: Delivery, options: VerifyOptions): Promise<SignatureCheck>;
  /** Called only after `verify` succeeded, with the body decoded as strict UTF-8. */
  parse(text: string, delivery: Delivery): Promise<ParsedEvent | ParseFailure> | ParsedEvent | ParseFailure;
}

export function isParseFailure(result: ParsedEvent | ParseFailure): result is ParseFailure {
  return "error" in result;
}
