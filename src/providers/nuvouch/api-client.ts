import type { z } from "zod";
import { systemClock } from "../../clock";
import { retryAfterMs } from "../../http/retry-after";
import type { ApiClientOptions } from "../types";
import {
  ApprovalRequest,
  ConnectionSession,
  type CreateApprovalRequest,
  type CreateConnectionSessionRequest,
  NUVOUCH_INTEGRATOR_ERROR_CODES,
  NuvouchErrorBody,
} from "./api-schemas";

/** An error answered by (or on the way to) Nuvouch, carrying Nuvouch's own code. */
export class NuvouchApiError extends Error {
  constructor(
    /** HTTP status, or 0 when Nuvouch could not be reached or did not answer in time. */
    readonly status: number,
    readonly code: string,
    message: string,
    /** The URL the failed call went to: a wrong NUVOUCH_API_BASE_URL shows at once. */
    readonly url: string,
    /**
     * Set when the client gave up rather than wait: Nuvouch asked for this many seconds
     * (429 Retry-After), or the next retry would not fit the caller's time budget.
     */
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
    this.name = "NuvouchApiError";
  }

  get retryable(): boolean {
    return this.status === 0 || this.status === 429 || this.status >= 500;
  }
}

/** A call that would end past `budgetMs` fails with `retryAfterSeconds` (a Retry-After of 30 s twice is a minute). */
export interface NuvouchClientOptions extends ApiClientOptions {
  baseUrl: string;
  apiKey: string;
}

/**
 * A typed client for the Nuvouch integrator API (docs/contract.md §8) on `fetch`. Retries 429
 * (honouring Retry-After) and 5xx and unreachable with backoff and jitter, within a time
 * budget; never other 4xx, which retrying cannot fix (a 401 retried is a retry storm
 * against a bad key).
 */
export function createNuvouchClient(options: NuvouchClientOptions) {
  const {
    baseUrl,
    apiKey,
    timeoutMs = 8_000,
    maxAttempts = 3,
    backoffMs = 250,
    budgetMs = 10_000,
    sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    now = systemClock,
    random = Math.random,
  } = options;
  const root = baseUrl.replace(/\/+$/, "");

  async function once(
    method: string,
    url: string,
    body: unknown,
    attemptTimeoutMs: number,
  ): Promise<{ response: Response; json: unknown }> {
    let response: Response;
    try {
      response = await fetch(url, {
        method,
        headers: {
          "x-api-key": apiKey,
          accept: "application/json",
          ...(body ? { "content-type": "application/json" } : {}),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(attemptTimeoutMs),
      });
    } catch (error) {
      const timedOut = error instanceof Error && (error.name === "TimeoutError" || error.name === "AbortError");
      throw new NuvouchApiError(
        0,
        timedOut ? "TIMEOUT" : "UNREACHABLE",
        `Nuvouch ${method} ${url}: ${timedOut ? `no answer within ${attemptTimeoutMs} ms` : String(error)}`,
        url,
      );
    }
    const text = await response.text();
    let json: unknown = null;
    try {
      json = text ? JSON.parse(text) : null;
    } catch {
      json = null;
    }
    return { response, json };
  }

  async function request<S extends z.ZodType>(
    method: string,
    path: string,
    schema: S,
    body?: unknown,
  ): Promise<z.output<S>> {
    const url = `${root}${path}`;
    const deadline = now() + budgetMs;
    for (let attempt = 1; ; attempt++) {
      let error: NuvouchApiError;
      let wait: number | null = null;
      try {
        const { response, json } = await once(method, url, body, Math.max(1, Math.min(timeoutMs, deadline - now())));
        if (response.ok) {
          const parsed = schema.safeParse(json);
          if (parsed.success) return parsed.data;
          throw new NuvouchApiError(
            response.status,
            "INVALID_RESPONSE",
            `Nuvouch ${method} ${url} answered ${response.status} with an unexpected body`,
            url,
          );
        }
        const answered = NuvouchErrorBody.safeParse(json);
        const reason = answered.success && answered.data.error.message ? `: ${answered.data.error.message}` : "";
        error = new NuvouchApiError(
          response.status,
          answered.success ? answered.data.error.code : `HTTP_${response.status}`,
          `Nuvouch ${method} ${url} answered ${response.status}${reason}`,
          url,
        );
        if (response.status === 429) wait = retryAfterMs(response.headers.get("retry-after"), now());
      } catch (thrown) {
        if (!(thrown instanceof NuvouchApiError)) throw thrown;
        error = thrown;
      }
      if (!error.retryable) throw error;
      const delay = wait ?? Math.floor(random() * backoffMs * 2 ** (attempt - 1));
      const budgetHit = now() + delay >= deadline;
      if (attempt >= maxAttempts || budgetHit) {
        // Out of attempts or of time. For a 429, or a retry the budget cut short, say when
        // trying again makes sense, so an HTTP caller can pass it on as Retry-After.
        const retryAfterSeconds = error.status === 429 || budgetHit ? Math.max(1, Math.ceil(delay / 1000)) : undefined;
        throw new NuvouchApiError(
          error.status,
          error.code,
          budgetHit ? `${error.message} (not retried within the ${budgetMs} ms budget)` : error.message,
          url,
          retryAfterSeconds,
        );
      }
      await sleep(delay);
    }
  }

  return {
    createConnectionSession: (input: CreateConnectionSessionRequest) =>
      request("POST", "/v1/connection-sessions", ConnectionSession, input),

    createApprovalRequest: (input: CreateApprovalRequest) =>
      request("POST", "/v1/approval-requests", ApprovalRequest, input),

    /** null when Nuvouch has no request with that externalRequestId. */
    async getApprovalRequestByExternalId(externalRequestId: string) {
      try {
        return await request(
          "GET",
          `/v1/approval-requests/by-external-id/${encodeURIComponent(externalRequestId)}`,
          ApprovalRequest,
        );
      } catch (error) {
        if (error instanceof NuvouchApiError && error.status === 404) return null;
        throw error;
      }
    },
  };
}

export function isDuplicateExternalId(error: unknown): boolean {
  return error instanceof NuvouchApiError && error.code === NUVOUCH_INTEGRATOR_ERROR_CODES.DUPLICATE_EXTERNAL_ID;
}
