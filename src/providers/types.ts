import type { Hono } from "hono";
import type { z } from "zod";
import type { Clock } from "../clock";
import type { SignatureCheck } from "../crypto/signature-check";
import type { Failure, Result } from "../result";
import type { SqlCondition } from "../sql";

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
 * A verified body this provider cannot read (ingest quarantines it, docs/contract.md §3). It carries the
 * event's id and type where they could still be read: the id keys the quarantined delivery, so its
 * retries are duplicates.
 */
export interface ParseFailure extends Failure<"payload_invalid"> {
  dedupeKey?: string;
  type?: string;
}

export type ParseResult = Result<ParsedEvent, ParseFailure>;

/** The Env binding that holds a provider's comma-separated signing secrets. */
export type SecretBinding = `${string}_SECRET`;

/** A verified event as the consumer sees it: recorded, about to drive state. */
export interface ConsumeInput {
  db: D1Database;
  eventId: string;
  dedupeKey: string;
  payloadJson: string;
  /** ISO time of this processing, for `updated_at` columns. */
  now: string;
  /**
   * True while this delivery's body is the event's (the conflict rule, docs/contract.md §3): every state
   * statement must hold only where it does, so a conflicting body under the same key changes nothing.
   */
  applies: SqlCondition;
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
  /** The `data` of the normalized event (docs/contract.md §6): what forwarding sends downstream. */
  data: unknown;
}

/**
 * What the operator API lends a provider's routes. Providers sit below the effects ledger, so the
 * one read of it they need is handed to them.
 */
export interface ProviderRouteContext {
  now: Clock;
  /** How the routes call their provider's API, where they do: a test seam for backoff and time limits. */
  apiClient?: ApiClientOptions;
  /** The effect an event scheduled under a once-key (src/effects/ledger.ts `effectUnderKey`). */
  effectUnderKey(
    db: D1Database,
    eventId: string,
    onceKey: string,
  ): Promise<{ status: string; attempts: number } | null>;
}

/** The knobs of an outbound API client that tests turn; production uses each client's defaults. */
export interface ApiClientOptions {
  timeoutMs?: number;
  /** Attempts per call, the first included. */
  maxAttempts?: number;
  /** Backoff base; attempt n waits about base·2^(n-1), with full jitter. */
  backoffMs?: number;
  /**
   * The most one call may take, waits and attempts included. A retry that would end past it is
   * not made, so an HTTP caller is answered 503 + Retry-After instead of being held.
   */
  budgetMs?: number;
  sleep?: (ms: number) => Promise<void>;
  now?: Clock;
  random?: () => number;
}

/** Event type → the zod schema its payload passes: the names effect handlers may subscribe to. */
export type EventSchemas = Readonly<Record<string, z.ZodType>>;

export interface Provider<
  Name extends string = string,
  Events extends EventSchemas = EventSchemas,
  Envelope extends z.ZodType = z.ZodType,
  Binding extends SecretBinding = SecretBinding,
> {
  /** The `:provider` segment of `POST /webhooks/:provider`, and the prefix of its event names. */
  readonly name: Name;
  /** A Worker secret or Secrets Store binding: declare it in .dev.vars.example and wrangler.toml. */
  readonly secretBinding: Binding;
  /**
   * The event types this gateway knows (`.on("<name>:<type>")`). A provider may deliver others:
   * they are recorded and forwarded, and reach its catch-all handlers (`<name>:*`, `*`) only.
   */
  readonly events: Events;
  /** Any event of this provider, of a known type or not: what its catch-all handlers receive. */
  readonly envelope: Envelope;
  verify(delivery: Delivery, options: VerifyOptions): Promise<SignatureCheck>;
  /** Called only after `verify` succeeded, with the body decoded as strict UTF-8. */
  parse(text: string, delivery: Delivery): Promise<ParseResult> | ParseResult;
  /** Consumer side: validates the stored payload again and returns its state rule writes. */
  consume(input: ConsumeInput): ConsumePlan;
  /** Its operator routes, if it has any: mounted at `/api/<name>`, behind the admin token. */
  routes?(context: ProviderRouteContext): Hono<{ Bindings: Env }>;
}

/** A provider, its literal name and event types kept for the types of effect handlers. */
export function defineProvider<
  const Name extends string,
  Events extends EventSchemas,
  Envelope extends z.ZodType,
  const Binding extends SecretBinding,
>(provider: Provider<Name, Events, Envelope, Binding>): Provider<Name, Events, Envelope, Binding> {
  return provider;
}

/** Every type of a list, with the one schema their payloads share. */
export function eventSchemas<const Types extends readonly string[], S extends z.ZodType>(
  types: Types,
  schema: S,
): { readonly [T in Types[number]]: S } {
  return Object.fromEntries(types.map((type) => [type, schema])) as { readonly [T in Types[number]]: S };
}
