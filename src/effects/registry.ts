import type { z } from "zod";
import type { Clock } from "../clock";
import type { Config } from "../config";
import { type BuiltinProvider, providers as builtinProviders, type ProviderRegistry } from "../providers/registry";
import type { Provider } from "../providers/types";
import type { AttemptDetails } from "./attempts";

type UnionToIntersection<U> = (U extends unknown ? (union: U) => void : never) extends (all: infer I) => void
  ? I
  : never;

type NamesOf<P> =
  P extends Provider<infer Name, infer Events, infer Envelope>
    ? { [T in keyof Events & string as `${Name}:${T}`]: z.output<Events[T]> } & Record<`${Name}:*`, z.output<Envelope>>
    : never;

/**
 * Every name a handler may subscribe to → the payload it receives: `<provider>:<known type>` (the
 * type's zod schema), `<provider>:*` (any event of that provider) and `*` (any event at all).
 */
export type EventPayloads<P extends Provider = BuiltinProvider> = UnionToIntersection<NamesOf<P>> &
  Record<"*", z.output<P["envelope"]>>;

export type EventName<P extends Provider = BuiltinProvider> = keyof EventPayloads<P> & string;

export interface EventInfo {
  id: string;
  provider: string;
  type: string;
  dedupeKey: string;
  receivedAt: string;
  occurredAt: string | null;
  /** The `data` of the normalized event (docs/contract.md §6), as forwarding sends it. */
  data: unknown;
}

export interface EffectContext<P> {
  event: EventInfo;
  payload: P;
  env: Env;
  /** Stable across retries of this effect: pass it downstream as an idempotency key. */
  effectId: string;
  attempt: number;
  signal: AbortSignal;
  /** The consumer's clock. */
  now: Clock;
  /** What a call made by this attempt answered (status, a snippet, the target): kept in its history. */
  note(details: AttemptDetails): void;
}

export type EffectHandler<P = unknown> = (context: EffectContext<P>) => Promise<void> | void;

export interface EffectOptions {
  /**
   * `key` (the default): at most once per the provider's once-key, and only where its condition
   * holds (approvals: once per decision, for the callback that decided it). `event`: at most once
   * per event, for every event (forwarding).
   */
  oncePer?: "key" | "event";
  /** Scheduled only while this holds for the deployment's configuration (forwarding: FORWARD_URL). */
  enabled?: (config: Config) => boolean;
  /** Each attempt's time limit; EFFECT_TIMEOUT_MS unless given. */
  timeoutMs?: (config: Config) => number;
}

export interface RegisteredEffect {
  name: string;
  event: string;
  handler: EffectHandler;
  oncePer: "key" | "event";
  enabled: (config: Config) => boolean;
  timeoutMs: (config: Config) => number;
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

const always = () => true;
const effectTimeout = (config: Config) => config.EFFECT_TIMEOUT_MS;

/**
 * Event name → effect handlers, in the manner of @octokit/webhooks' `on(name, fn)`: a name is a
 * known event type of a registered provider, `<provider>:*` or `*`. A misspelt name is a type
 * error, and, should one get past the types, an error when the registry is built (at startup),
 * never a handler that silently never fires. A handler's `name` is its identity in the effects
 * ledger, so keep it stable.
 */
export class EffectRegistry<P extends Provider = BuiltinProvider> {
  private readonly effects: RegisteredEffect[] = [];

  /** The providers whose events this registry's handlers name: the ones its consumer serves. */
  constructor(readonly providers: ProviderRegistry<P> = builtinProviders as ProviderRegistry<never>) {}

  on<N extends EventName<P>>(
    event: N,
    name: string,
    handler: EffectHandler<EventPayloads<P>[N]>,
    options: EffectOptions = {},
  ): this {
    this.assertKnown(event);
    if (this.get(name)) throw new Error(`effect name registered twice: ${name}`);
    this.effects.push({
      name,
      event,
      handler: handler as EffectHandler,
      oncePer: options.oncePer ?? "key",
      enabled: options.enabled ?? always,
      timeoutMs: options.timeoutMs ?? effectTimeout,
    });
    return this;
  }

  /** A handler for every event of every provider: `on("*", …)`. */
  onAny(name: string, handler: EffectHandler<EventPayloads<P>["*"]>, options: EffectOptions = {}): this {
    return this.on("*" as EventName<P>, name, handler as EffectHandler<EventPayloads<P>[EventName<P>]>, options);
  }

  /** The effects an event of this type owes under `config`, in the order they were registered. */
  for(provider: string, type: string, config: Config): readonly RegisteredEffect[] {
    const names = new Set(["*", `${provider}:*`, `${provider}:${type}`]);
    return this.effects.filter((effect) => names.has(effect.event) && effect.enabled(config));
  }

  get(name: string): RegisteredEffect | undefined {
    return this.effects.find((effect) => effect.name === name);
  }

  /** Another registry with the same handlers, to extend without changing this one. */
  copy(): EffectRegistry<P> {
    const copy = new EffectRegistry(this.providers);
    copy.effects.push(...this.effects);
    return copy;
  }

  private assertKnown(event: string): void {
    if (event === "*") return;
    const colon = event.indexOf(":");
    const provider = colon > 0 ? this.providers.get(event.slice(0, colon)) : undefined;
    if (!provider) {
      throw new Error(
        `unknown event "${event}": a name is <provider>:<type>, <provider>:* or *; providers: ${this.providers.names.join(", ")}`,
      );
    }
    const type = event.slice(colon + 1);
    if (type === "*" || Object.hasOwn(provider.events, type)) return;
    throw new Error(
      `unknown event "${event}": ${provider.name} knows ${Object.keys(provider.events).join(", ")}; or use "${provider.name}:*" or "*"`,
    );
  }
}
