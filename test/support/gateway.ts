import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { type AppOptions, createApp } from "../../src/app";
import { RefusalAggregator } from "../../src/monitor/rejections";
import { type ProviderName, signedHeaders } from "./sign";

export const NOW_MS = Date.UTC(2026, 10, 23, 12, 0, 0);
export const NOW_S = NOW_MS / 1000;

/** The real queue, KV and D1, with the messages the gateway sent recorded on the way through. */
export function recordingEnv(overrides: Partial<Env> = {}) {
  const sent: unknown[] = [];
  const queue = {
    send: async (message: unknown, options?: QueueSendOptions) => {
      sent.push(message);
      return env.EVENTS_QUEUE.send(message, options);
    },
    sendBatch: async (messages: Iterable<MessageSendRequest>, options?: QueueSendBatchOptions) => {
      const list = [...messages];
      sent.push(...list.map((message) => message.body));
      return env.EVENTS_QUEUE.sendBatch(list, options);
    },
    metrics: () => env.EVENTS_QUEUE.metrics(),
  } as unknown as Queue;
  return { env: { ...env, EVENTS_QUEUE: queue, ...overrides } as Env, sent };
}

// Flushes as soon as it is due instead of on a timer, so waiting on a request's
// waitUntil never means waiting out the flush interval.
const testRefusals = new RefusalAggregator({ sleep: async () => {} });

export async function callGateway(
  request: Request,
  options: {
    env?: Env;
    nowMs?: number;
    apiClient?: AppOptions["apiClient"];
    providers?: AppOptions["providers"];
    refusals?: RefusalAggregator;
  } = {},
): Promise<Response> {
  const app = createApp({
    now: () => options.nowMs ?? NOW_MS,
    apiClient: options.apiClient,
    providers: options.providers,
    refusals: options.refusals ?? testRefusals,
  });
  const ctx = createExecutionContext();
  const response = await app.fetch(request, options.env ?? env, ctx);
  await waitOnExecutionContext(ctx);
  return response;
}

export function webhookRequest(
  provider: string,
  body: BodyInit | null,
  headers: Record<string, string>,
  method = "POST",
) {
  return new Request(`https://gateway.test/webhooks/${provider}`, { method, body, headers });
}

/** A delivery signed the way the provider signs it, sent through the gateway. */
export function deliver(
  provider: ProviderName,
  payload: unknown,
  options: { env?: Env; signedAt?: number; nowMs?: number; secret?: string } = {},
) {
  const body = typeof payload === "string" ? payload : JSON.stringify(payload);
  const headers = signedHeaders(provider, body, options.signedAt ?? NOW_S, options.secret);
  return callGateway(webhookRequest(provider, body, headers), options);
}
