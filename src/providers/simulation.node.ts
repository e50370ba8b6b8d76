// What every provider's simulator shares (src/providers/<name>/simulator.node.ts): the story that
// ties deliveries together, injectable randomness and time, and the shape of a simulator. Tools
// only (the simulator CLI, tests, benchmarks, the fake Nuvouch): nothing in the gateway imports a
// `.node.ts` file, and these import nothing of the gateway's (scripts/layers.test.ts).

export type Json = Record<string, unknown>;

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

/** A provider as the tools see it: its deliveries built, described and signed like the real one's. */
export interface Simulator<Name extends string = string> {
  readonly name: Name;
  /** The Worker binding the gateway verifies this provider's signatures with. */
  readonly secretBinding: string;
  /** The events it can build, by their short names (`approval.approved`, `pending`). */
  readonly events: readonly string[];
  /** The canonical short name of `event`, or undefined when this provider has no such event. */
  resolve(event: string): string | undefined;
  /** The `type` the gateway gives the delivery of a (canonical) event. */
  eventType(event: string): string;
  /** One delivery's payload; `eventId` pins the dedupe key where the provider sends one. */
  build(event: string, story: StoryFields, options?: { eventId?: string; sources?: Sources }): Json;
  /** A short label for one delivery: the id that makes it unique. */
  describe(payload: Json): string;
  /** The signature headers the provider adds to `body`, signed at `t` (unix seconds). */
  sign(body: string | Uint8Array, secret: string, t: number): Record<string, string>;
  /** Its name-value-pair form of a payload, for a provider that sends one (Nuvei). */
  formBody?(payload: Json): string;
  /** Its XML form of a payload, for a provider that sends one (Nuvei). */
  xmlBody?(payload: Json): string;
}

/** A simulator's events when their names are those of a list: each resolves to itself. */
export function listedEvents(
  events: readonly string[],
  eventType: (event: string) => string = (event) => event,
): Pick<Simulator, "events" | "resolve" | "eventType"> {
  return { events, resolve: (event) => (events.includes(event) ? event : undefined), eventType };
}

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

export function digits(sources: Sources, length: number): string {
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
