// Payload builders for the provider simulator. Pure on purpose: no `node:` imports and no
// I/O, so tests running inside workerd can build the same deliveries the CLI sends.

export const PROVIDER_NAMES = ["nova", "nuvei", "nuvouch"] as const;
export type ProviderName = (typeof PROVIDER_NAMES)[number];

// The Nova document names categories (payment outcomes, survey completions, DMA events,
// third-party provider callbacks) but leaves the exact list to an API reference we do not
// have; these names follow its `payment.succeeded` pattern. The gateway accepts any type.
const NOVA_EVENTS = [
  "payment.succeeded",
  "payment.failed",
  "payment.refunded",
  "survey.completed",
  "dma.session.started",
  "dma.session.ended",
  "provider.callback.received",
] as const;

// One Nuvei transaction moves through these `result.status` values. `update` is the status
// the document lists; its example body says `updated`, so both are offered.
const NUVEI_EVENTS = ["pending", "update", "updated", "approved", "declined", "error"] as const;

// Contract §4, without the `nuvouch.` prefix the wire type carries.
const NUVOUCH_EVENTS = [
  "connection.accepted",
  "connection.revoked",
  "connection.expired",
  "approval.approved",
  "approval.denied",
  "approval.expired",
  "approval.cancelled",
] as const;

export const EVENTS: Record<ProviderName, readonly string[]> = {
  nova: NOVA_EVENTS,
  nuvei: NUVEI_EVENTS,
  nuvouch: NUVOUCH_EVENTS,
};

export function isProviderName(name: string): name is ProviderName {
  return (PROVIDER_NAMES as readonly string[]).includes(name);
}

/** The event's canonical name, or undefined when the provider does not know it. */
export function resolveEvent(provider: ProviderName, event: string): string | undefined {
  // Nuvouch's wire types carry a `nuvouch.` prefix; accept the event either way.
  const name = provider === "nuvouch" ? event.replace(/^nuvouch\./, "") : event;
  return EVENTS[provider].includes(name) ? name : undefined;
}

/**
 * What ties deliveries into one story: the same subject, approval or transaction across
 * several callbacks. Unset fields are generated once per story by `newStory`.
 */
export interface StoryFields {
  subject: string;
  contextKey: string;
  externalRequestId: string;
  connectionSessionId: string;
  approvalRequestId: string;
  transactionId: string;
  merchantTransactionId: string;
  amount: number;
  currency: string;
}

export const STORY_FIELD_NAMES = [
  "subject",
  "contextKey",
  "externalRequestId",
  "connectionSessionId",
  "approvalRequestId",
  "transactionId",
  "merchantTransactionId",
  "amount",
  "currency",
] as const satisfies readonly (keyof StoryFields)[];

/** Randomness and time, injectable so tests can pin every byte of a payload. */
export interface Sources {
  now: () => Date;
  /** Uniform in [0, 1). */
  random: () => number;
}

export const defaultSources: Sources = {
  now: () => new Date(),
  random: () => {
    // Web Crypto is a global in both Node and workerd, so no import is needed.
    const [word] = crypto.getRandomValues(new Uint32Array(1));
    return (word as number) / 2 ** 32;
  },
};

/** Deterministic [0, 1) generator (mulberry32) for reproducible shuffles and resends. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

const CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/** A ULID-shaped id (`evt_01H…` in the Nova document): time-sortable, then random. */
export function ulid(sources: Sources): string {
  let time = sources.now().getTime();
  let head = "";
  for (let i = 0; i < 10; i++) {
    head = CROCKFORD[time % 32] + head;
    time = Math.floor(time / 32);
  }
  let tail = "";
  for (let i = 0; i < 16; i++) tail += CROCKFORD[Math.floor(sources.random() * 32)];
  return head + tail;
}

/** Lowercase base32 noise, e.g. the per-run token that `{run}` expands to in scenarios. */
export function randomToken(sources: Sources = defaultSources, length = 8): string {
  let out = "";
  for (let i = 0; i < length; i++) out += CROCKFORD[Math.floor(sources.random() * 32)]?.toLowerCase();
  return out;
}

function digits(sources: Sources, length: number): string {
  let out = "";
  for (let i = 0; i < length; i++) out += Math.floor(sources.random() * 10);
  return out;
}

/** A fresh story; `fixed` fields (from flags or a scenario) win over generated ones. */
export function newStory(
  fixed: Partial<StoryFields>,
  sources: Sources = defaultSources,
  run = randomToken(sources),
): StoryFields {
  return {
    subject: `cus_${run}`,
    contextKey: "merchant:acct_sim_001",
    externalRequestId: `payment_auth_${run}`,
    connectionSessionId: `cs_${randomToken(sources, 16)}`,
    approvalRequestId: `apr_${randomToken(sources, 16)}`,
    // Nuvei's transactionId is a 64-bit number; kept as text so no digit is ever rounded.
    transactionId: `711${digits(sources, 16)}`,
    merchantTransactionId: `order_${run}`,
    amount: 10.5,
    currency: "USD",
    ...fixed,
  };
}

/** Nuvei's timeStamp carries nanoseconds; the extra digits also keep two bodies distinct. */
function nanoTimestamp(sources: Sources): string {
  return sources
    .now()
    .toISOString()
    .replace("Z", `${digits(sources, 6)}Z`);
}

type Json = Record<string, unknown>;

function novaData(event: string, story: StoryFields, sources: Sources): Json {
  const at = sources.now().toISOString();
  // Nova amounts are in minor units (the gateway's test payloads use 1000 for 10.00).
  const payment = {
    paymentId: `pay_${randomToken(sources, 14)}`,
    subscriberId: story.subject,
    amount: Math.round(story.amount * 100),
    currency: story.currency,
    method: "card",
  };
  switch (event) {
    case "payment.succeeded":
      return { ...payment, capturedAt: at };
    case "payment.failed":
      return { ...payment, failureCode: "card_declined", failureMessage: "The card was declined." };
    case "payment.refunded":
      return { ...payment, refundId: `re_${randomToken(sources, 14)}`, refundedAt: at };
    case "survey.completed":
      return {
        surveyId: "srv_onboarding_v2",
        responseId: `rsp_${randomToken(sources, 14)}`,
        subscriberId: story.subject,
        score: 1 + Math.floor(sources.random() * 10),
        completedAt: at,
      };
    case "dma.session.started":
      return {
        sessionId: `dma_${randomToken(sources, 14)}`,
        subscriberId: story.subject,
        msisdn: `+4477009${digits(sources, 5)}`,
        startedAt: at,
      };
    case "dma.session.ended":
      return {
        sessionId: `dma_${randomToken(sources, 14)}`,
        subscriberId: story.subject,
        endedAt: at,
        durationSeconds: 30 + Math.floor(sources.random() * 600),
      };
    default:
      return {
        thirdParty: "kyc_partner",
        callbackId: `cb_${randomToken(sources, 14)}`,
        subscriberId: story.subject,
        status: "verified",
        receivedAt: at,
      };
  }
}

function nova(event: string, story: StoryFields, sources: Sources, eventId?: string): Json {
  return {
    eventId: eventId ?? `evt_${ulid(sources)}`,
    type: event,
    occurredAt: sources.now().toISOString(),
    data: novaData(event, story, sources),
    version: 1,
  };
}

/** One transaction's webhook: every status of a story shares its ids and amounts. */
function nuvei(status: string, story: StoryFields, sources: Sources): Json {
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
}

function nuvouch(event: string, story: StoryFields, sources: Sources, eventId?: string): Json {
  const at = sources.now().toISOString();
  const envelope = { id: eventId ?? `evt_${ulid(sources)}`, type: `nuvouch.${event}`, createdAt: at };
  if (event.startsWith("connection.")) {
    const { connectionSessionId, subject: subjectId, contextKey } = story;
    return { ...envelope, data: { connectionSessionId, subjectId, contextKey } };
  }
  const { approvalRequestId, externalRequestId, subject: subjectId, contextKey } = story;
  return { ...envelope, data: { approvalRequestId, externalRequestId, subjectId, contextKey, decidedAt: at } };
}

/**
 * One delivery's payload. `event` must be canonical (see `resolveEvent`); `eventId` pins
 * Nova's `eventId` / Nuvouch's `id`, the dedupe key, so repeats become duplicates.
 */
export function buildPayload(
  provider: ProviderName,
  event: string,
  story: StoryFields,
  options: { eventId?: string; sources?: Sources } = {},
): Json {
  const sources = options.sources ?? defaultSources;
  switch (provider) {
    case "nova":
      return nova(event, story, sources, options.eventId);
    case "nuvei":
      return nuvei(event, story, sources);
    case "nuvouch": {
      // The wire type is built from the canonical name: a prefixed name would otherwise become
      // `nuvouch.nuvouch.…`, an unknown type the gateway accepts and no state rule reads.
      const canonical = resolveEvent("nuvouch", event);
      if (!canonical) throw new Error(`unknown Nuvouch event ${event}: one of ${NUVOUCH_EVENTS.join(", ")}`);
      return nuvouch(canonical, story, sources, options.eventId);
    }
  }
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

/** A short, human label for one delivery's output line: the id that makes it unique. */
export function describePayload(provider: ProviderName, payload: Json): string {
  if (provider === "nova") return String(payload.eventId);
  if (provider === "nuvouch") return String(payload.id);
  return `tx=${payload.transactionId}`;
}
