import type { SignatureCheck } from "../crypto/signature-check";

/** One delivery as it came off the wire: the exact bytes every signature is computed over. */
export interface Delivery {
  readonly headers: Headers;
  readonly body: Uint8Array;
  /**
   * Free bytes in front of `body` in its buffer (src/ingest/read-body.ts), which a verifier may
   * overwrite to MAC a prefix and the body as one view without copying the body. 0 or absent: none.
   */
  readonly headroom?: number;
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

/**
 * A verified body this provider cannot read (ingest quarantines it, contract §3). It carries the
 * event's id and type where they could still be read: the id keys the quarantined delivery, so its
 * retries are duplicates.
 */
export interface ParseFailure {
  error: "payload_invalid" | "unsupported_media_type";
  message: string;
  dedupeKey?: string;
  type?: string;
}

/** Env bindings that hold a provider's comma-separated signing secrets. */
export type SecretBinding = "NOVA_WEBHOOK_SECRET" | "NUVEI_WEBHOOK_SECRET" | "NUVOUCH_CALLBACK_SECRET";

/** A verified event as the consumer sees it: recorded, about to drive state. */
export interface ConsumeInput {
  db: D1Database;
  eventId: string;
  type: string;
  dedupeKey: string;
  payloadJson: string;
  /** ISO time of this processing, for `updated_at` columns. */
  now: string;
  /**
   * True while this delivery's body is the event's (the conflict rule, contract §3): every state
   * statement must hold only where it does, so a conflicting body under the same key changes nothing.
   */
  applies: SqlCondition;
}

/** A SQL boolean expression with its bound parameters, e.g. an `EXISTS (…)` gate. */
export interface SqlCondition {
  sql: string;
  params: unknown[];
}

export interface ConsumePlan {
  /** The payload validated by the provider's zod schema: what effect handlers receive. */
  payload: unknown;
  /** State rule writes, committed in the same D1 batch as the event record. */
  statements: D1PreparedStatement[];
  /**
   * Effects of this event are keyed by `onceKey`, and scheduled only where `condition`
   * holds once the statements ran (e.g. "this callback decided the approval").
   */
  onceKey: string;
  effectCondition?: SqlCondition;
  /** The `data` of the normalized event forwarded downstream (contract §6). */
  forwardData: unknown;
}

export interface Provider {
  /** The `:provider` segment of `POST /webhooks/:provider`. */
  readonly name: string;
  readonly secretBinding: SecretBinding;
  verify(delivery: Delivery, options: VerifyOptions): Promise<SignatureCheck>;
  /** Called only after `verify` succeeded, with the body decoded as strict UTF-8. */
  parse(text: string, delivery: Delivery): Promise<ParsedEvent | ParseFailure> | ParsedEvent | ParseFailure;
  /** Consumer side: validates the stored payload again and returns its state rule writes. */
  consume(input: ConsumeInput): ConsumePlan;
}

export function isParseFailure(result: ParsedEvent | ParseFailure): result is ParseFailure {
  return "error" in result;
}
