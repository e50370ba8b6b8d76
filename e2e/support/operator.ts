// Small helpers the end-to-end tests share: signed deliveries in, operator API out
// (docs/contract.md §7), and a bounded-concurrency loop so no test floods a 2-core runner.
import { type ProviderName, signatureHeaders, simulators } from "../../src/providers/simulators.node.ts";
import type { EventStatus } from "../../src/statuses.ts";
import { type DevGateway, eventually } from "./dev-gateway.ts";

/** One row of `GET /api/events`. */
export interface ApiEvent {
  id: string;
  provider: string;
  type: string;
  dedupeKey: string;
  status: EventStatus;
  receivedAt: string;
  occurredAt: string | null;
  attempts: number;
  lastError: string | null;
}

/** One attempt in an effect's `history` (docs/contract.md §7). */
export interface ApiAttempt {
  at: string;
  outcome: "done" | "failed" | "timeout";
  error?: string;
  durationMs: number;
  httpStatus?: number;
  responseBody?: string;
  target?: string;
}

/** One row of the effects ledger, as `GET /api/events/:id` shows it. */
export interface ApiEffect {
  id: string;
  name: string;
  status: string;
  attempts: number;
  lastError: string | null;
  nextRetryAt: string | null;
  history: ApiAttempt[];
}

export type ApiEventDetail = ApiEvent & {
  effects: ApiEffect[];
  payload: unknown;
  updatedAt: string;
  /** A quarantined event's exact bytes. */
  rawBody?: { encoding: "utf-8" | "base64"; contentType: string | null; text: string };
};

/** One row of `GET /api/rejections`: refusals counted per provider and code. */
export interface ApiRejection {
  provider: string;
  code: string;
  status: number;
  count: number;
  lastAt: string;
  lastReason: string | null;
}

export interface Answer {
  status: number;
  body: { status?: string; id?: string; error?: { code?: string } };
}

const REQUEST_TIMEOUT_MS = 15_000;

export function adminHeaders(gateway: DevGateway): Record<string, string> {
  return { authorization: `Bearer ${gateway.secrets.ADMIN_API_TOKEN}` };
}

/** GET an operator route: the status and the parsed JSON body (undefined when not JSON). */
export async function adminGet<T>(gateway: DevGateway, path: string): Promise<{ status: number; body: T }> {
  const response = await fetch(`${gateway.url}${path}`, {
    headers: adminHeaders(gateway),
    signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
  });
  const text = await response.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  return { status: response.status, body: body as T };
}

export async function adminPost(gateway: DevGateway, path: string, json?: unknown): Promise<Response> {
  return fetch(`${gateway.url}${path}`, {
    method: "POST",
    headers: { ...adminHeaders(gateway), ...(json === undefined ? {} : { "content-type": "application/json" }) },
    ...(json === undefined ? {} : { body: JSON.stringify(json) }),
    signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
  });
}

/** `GET /api/events/:id`, or undefined while the consumer has not recorded it yet. */
export async function getEvent(gateway: DevGateway, id: string): Promise<ApiEventDetail | undefined> {
  const { status, body } = await adminGet<ApiEventDetail>(gateway, `/api/events/${encodeURIComponent(id)}`);
  if (status === 404) return undefined;
  if (status !== 200) throw new Error(`GET /api/events/${id} answered ${status}`);
  return body;
}

/** Polls until the consumer has recorded the event and settled it as `processed`. */
export function processedEvent(gateway: DevGateway, id: string, timeoutMs = 30_000): Promise<ApiEventDetail> {
  return eventually(
    async () => {
      const event = await getEvent(gateway, id);
      return event?.status === "processed" ? event : undefined;
    },
    timeoutMs,
    `event ${id} processed`,
  );
}

/**
 * Every event matching `filters`, newest first, following `nextCursor` (limit 200 a page).
 * Bounded: more than `maxPages` pages is an error, not an endless loop.
 */
export async function listAllEvents(
  gateway: DevGateway,
  filters: Record<string, string> = {},
  maxPages = 50,
): Promise<ApiEvent[]> {
  const events: ApiEvent[] = [];
  let cursor: string | null = null;
  for (let page = 0; page < maxPages; page++) {
    const query = new URLSearchParams({ ...filters, limit: "200", ...(cursor ? { cursor } : {}) });
    const { status, body } = await adminGet<{ events: ApiEvent[]; nextCursor: string | null }>(
      gateway,
      `/api/events?${query}`,
    );
    if (status !== 200) throw new Error(`GET /api/events?${query} answered ${status}`);
    events.push(...body.events);
    cursor = body.nextCursor;
    if (cursor === null) return events;
  }
  throw new Error(`GET /api/events did not end within ${maxPages} pages`);
}

/** Signs `body` as `provider` would (docs/contract.md §2), at send time, and POSTs it. */
export async function sendSigned(
  gateway: DevGateway,
  provider: ProviderName,
  body: string | Uint8Array<ArrayBuffer>,
  contentType = "application/json",
  secret = gateway.secrets[simulators[provider].secretBinding] as string,
): Promise<Answer> {
  const bytes = typeof body === "string" ? new TextEncoder().encode(body) : body;
  const response = await fetch(`${gateway.url}/webhooks/${provider}`, {
    method: "POST",
    body: bytes,
    headers: {
      "content-type": contentType,
      ...signatureHeaders(provider, bytes, secret, Math.floor(Date.now() / 1000)),
    },
    signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
  });
  const text = await response.text();
  let parsed: Answer["body"] = {};
  try {
    parsed = JSON.parse(text) as Answer["body"];
  } catch {
    // not JSON: the status says enough
  }
  return { status: response.status, body: parsed };
}

/** Maps `items` with at most `limit` calls in flight; results keep the input order. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>) {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await fn(items[index] as T, index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
