import type { z } from "zod";
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
  ) {
    super(message);
    this.name = "NuvouchApiError";
  }

  get retryable(): boolean {
    return this.status === 0 || this.status === 429 || this.status >= 500;
  }
}

export interface NuvouchClientOptions {
  baseUrl: string;
  apiKey: string;
  timeoutMs?: number;
  /** Attempts per call, the first included. */
  maxAttempts?: number;
  /** Backoff base; attempt n waits about base·2^(n-1), with full jitter. */
  backoffMs?: number;
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
}

const MAX_RETRY_AFTER_MS = 30_000;

function retryAfterMs(response: Response): number | null {
  const value = response.headers.get("retry-after")?.trim();
  if (!value) return null;
  if (/^\d+$/.test(value)) return Math.min(Number(value) * 1000, MAX_RETRY_AFTER_MS);
  const at = Date.parse(value);
  return Number.isFinite(at) ? Math.min(Math.max(0, at - Date.now()), MAX_RETRY_AFTER_MS) : null;
}

/**
 * A typed client for the Nuvouch integrator API (docs/contract.md §8) on `fetch`. Retries 429
 * (honouring Retry-After) and 5xx and unreachable with backoff and jitter; never other
 * 4xx, which retrying cannot fix (a 401 retried is a retry storm against a bad key).
 */
export function createNuvouchClient(options: NuvouchClientOptions) {
  const {
    baseUrl,
    apiKey,
    timeoutMs = 8_000,
    maxAttempts = 3,
    backoffMs = 250,
    sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    random = Math.random,
  } = options;
  const root = baseUrl.replace(/\/+$/, "");

  async function once(method: string, path: string, body?: unknown): Promise<{ response: Response; json: unknown }> {
    let response: Response;
    try {
      response = await fetch(`${root}${path}`, {
        method,
        headers: {
          "x-api-key": apiKey,
          accept: "application/json",
          ...(body ? { "content-type": "application/json" } : {}),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (error) {
      const timedOut = error instanceof Error && (error.name === "TimeoutError" || error.name === "AbortError");
      throw new NuvouchApiError(0, timedOut ? "TIMEOUT" : "UNREACHABLE", `Nuvouch ${method} ${path}: ${String(error)}`);
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
    for (let attempt = 1; ; attempt++) {
      let error: NuvouchApiError;
      let wait: number | null = null;
      try {
        const { response, json } = await once(method, path, body);
        if (response.ok) {
          const parsed = schema.safeParse(json);
          if (parsed.success) return parsed.data;
          throw new NuvouchApiError(
            response.status,
            "INVALID_RESPONSE",
            `Nuvouch ${method} ${path} answered an unexpected body`,
          );
        }
        const answered = NuvouchErrorBody.safeParse(json);
        error = new NuvouchApiError(
          response.status,
          answered.success ? answered.data.error.code : `HTTP_${response.status}`,
          answered.success && answered.data.error.message
            ? answered.data.error.message
            : `Nuvouch answered ${response.status}`,
        );
        if (response.status === 429) wait = retryAfterMs(response);
      } catch (thrown) {
        if (!(thrown instanceof NuvouchApiError)) throw thrown;
        error = thrown;
      }
      if (!error.retryable || attempt >= maxAttempts) throw error;
      await sleep(wait ?? Math.floor(random() * backoffMs * 2 ** (attempt - 1)));
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

export type NuvouchClient = ReturnType<typeof createNuvouchClient>;

export function isDuplicateExternalId(error: unknown): boolean {
  return error instanceof NuvouchApiError && error.code === NUVOUCH_INTEGRATOR_ERROR_CODES.DUPLICATE_EXTERNAL_ID;
}
