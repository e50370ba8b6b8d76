import type { NovaEvent } from "../providers/nova/schema";
import type { NuveiWebhook } from "../providers/nuvei/schema";
import type {
  APPROVAL_EVENT_TYPES,
  CONNECTION_EVENT_TYPES,
  NuvouchApprovalEvent,
  NuvouchConnectionEvent,
} from "../providers/nuvouch/schema";

/** `<provider>:<event type>` → the payload type its zod schema produces. */
export type EventPayloads = { [K in `nuvouch:${(typeof APPROVAL_EVENT_TYPES)[number]}`]: NuvouchApprovalEvent } & {
  [K in `nuvouch:${(typeof CONNECTION_EVENT_TYPES)[number]}`]: NuvouchConnectionEvent;
} & { [K: `nova:${string}`]: NovaEvent } & { [K: `nuvei:transaction.${string}`]: NuveiWebhook };

export type EventName = keyof EventPayloads;

export interface EventInfo {
  id: string;
  provider: string;
  type: string;
  dedupeKey: string;
  receivedAt: string;
  occurredAt: string | null;
}

export interface EffectContext<P> {
  event: EventInfo;
  payload: P;
  env: Env;
  /** Stable across retries of this effect: pass it downstream as an idempotency key. */
  effectId: string;
  attempt: number;
  signal: AbortSignal;
}

export type EffectHandler<P = unknown> = (context: EffectContext<P>) => Promise<void> | void;

export interface RegisteredEffect {
  name: string;
  handler: EffectHandler;
}

/** Thrown by a handler that was told when to come back (an HTTP 429 with Retry-After, say). */
export class RetryLaterError extends Error {
  constructor(
    message: string,
    readonly retryAfterSeconds: number,
  ) {
    super(message);
    this.name = "RetryLaterError";
  }
}

/**
 * Event name → effect handlers, in the manner of @octokit/webhooks' `on(name, fn)`.
 * A handler's `name` is its identity in the effects ledger, so keep it stable.
 */
export class EffectRegistry {
  private readonly byEvent = new Map<string, RegisteredEffect[]>();
  private readonly byName = new Map<string, RegisteredEffect>();

  on<N extends EventName>(event: N, name: string, handler: EffectHandler<EventPayloads[N]>): this {
    if (this.byName.has(name)) throw new Error(`effect name registered twice: ${name}`);
    const effect = { name, handler: handler as EffectHandler };
    this.byName.set(name, effect);
    this.byEvent.set(event, [...(this.byEvent.get(event) ?? []), effect]);
    return this;
  }

  for(provider: string, type: string): readonly RegisteredEffect[] {
    return this.byEvent.get(`${provider}:${type}`) ?? [];
  }

  get(name: string): RegisteredEffect | undefined {
    return this.byName.get(name);
  }
}
