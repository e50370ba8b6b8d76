import { type Context, Hono } from "hono";
import { z } from "zod";
import { getConfig } from "../../config";
import { jsonError } from "../../http/errors";
import { zodValidate } from "../../http/validate";
import { log } from "../../log";
import { readSecret } from "../../secrets";
import type { ProviderRouteContext } from "../types";
import { createNuvouchClient, isDuplicateExternalId, NuvouchApiError } from "./api-client";
import {
  CreateApprovalRequest,
  CreateConnectionSessionRequest,
  expiresInFuture,
  requestFingerprint,
} from "./api-schemas";
import { approvalOnceKey } from "./state";
import {
  type ApprovalRow,
  approvalFailure,
  type ConnectionRow,
  claimApprovalIntent,
  claimConnectionIntent,
  connectionsOf,
  findApproval,
  isLive,
  recordApprovalCreated,
  recordApprovalFailed,
  releaseConnectionIntent,
  saveConnectionSession,
} from "./store";

type AppEnv = { Bindings: Env };

/**
 * A connection request that finds another one for the same pair in flight waits this long
 * for its session, then answers 409 with Retry-After. The holder's lease outlives the
 * client's whole time budget (10 s by default), so a live holder is never overtaken.
 */
const CONNECTION_WAIT = { pollMs: 100, polls: 20 };
const CONNECTION_LEASE_MS = 60_000;

function toConnection(row: ConnectionRow) {
  return {
    connectionSessionId: row.connection_session_id,
    subjectId: row.subject_id,
    contextKey: row.context_key,
    status: row.status,
    shortCode: row.short_code,
    qrCodeUrl: row.qr_code_url,
    expiresAt: row.expires_at,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

function toApproval(row: ApprovalRow) {
  return { approvalRequestId: row.approval_request_id, externalRequestId: row.external_request_id, status: row.status };
}

/** Nuvouch failures as answers a caller can act on; never a retry storm against a bad key. */
function nuvouchFailure(c: Context<AppEnv>, error: unknown): Response {
  if (!(error instanceof NuvouchApiError)) throw error;
  log("warn", "nuvouch api call failed", { status: error.status, code: error.code, url: error.url });
  if (error.status === 401 || error.status === 403) {
    return jsonError(
      c,
      "nuvouch_unauthorized",
      `Nuvouch refused the API key at ${error.url}: check NUVOUCH_INTEGRATOR_API_KEY`,
    );
  }
  if (error.retryAfterSeconds !== undefined) {
    // Rate limited, or the retries did not fit the request's time budget: the caller is told
    // when to come back rather than held open.
    c.header("Retry-After", String(error.retryAfterSeconds));
    const message = `${error.message}; retry after ${error.retryAfterSeconds} s`;
    return error.status === 429
      ? jsonError(c, "nuvouch_rate_limited", message)
      : jsonError(c, "nuvouch_unavailable", message, { status: 503 });
  }
  if (error.retryable) {
    return jsonError(
      c,
      "nuvouch_unavailable",
      `Nuvouch did not answer successfully (${error.code}): ${error.message}; try again`,
    );
  }
  return jsonError(c, "nuvouch_rejected", error.message, { fields: { nuvouchCode: error.code } });
}

/** A 4xx Nuvouch meant about this request (not a rate limit): retrying the same body cannot help. */
function refusedByNuvouch(error: unknown): error is NuvouchApiError {
  return error instanceof NuvouchApiError && error.status >= 400 && error.status < 500 && error.status !== 429;
}

const idempotencyConflict = (c: Context<AppEnv>) =>
  jsonError(
    c,
    "idempotency_conflict",
    "this externalRequestId was already used with a different request body; use a new externalRequestId",
  );

const ConnectionQuery = z.object({ subjectId: z.string().min(1), contextKey: z.string().min(1) });

/**
 * The integrator's side of the Nuvouch loop (docs/contract.md §7): connection sessions and approval
 * requests. Mounted under the operator API, so every route needs the bearer token.
 */
export function nuvouchApi(options: ProviderRouteContext) {
  const api = new Hono<AppEnv>();

  // The API key may be a Worker secret or a Secrets Store binding (src/secrets.ts).
  const client = async (c: Context<AppEnv>) => {
    const apiKey = await readSecret(c.env, "NUVOUCH_INTEGRATOR_API_KEY", options.now());
    if (!apiKey) return null;
    return createNuvouchClient({
      baseUrl: getConfig(c.env).NUVOUCH_API_BASE_URL,
      apiKey,
      ...options.apiClient,
    });
  };
  const notConfigured = (c: Context<AppEnv>) =>
    jsonError(c, "nuvouch_not_configured", "set NUVOUCH_INTEGRATOR_API_KEY to call Nuvouch");

  // A second "connect" for a subject returns its live session (accepted, or pending and not
  // expired) instead of opening another QR code; only an expired or ended one is replaced.
  // Concurrent requests for one pair create at most one session: the first claims the pair's
  // intent row, the others wait for its session and answer it (200), or 409 with Retry-After
  // if it takes too long.
  api.post("/connections", zodValidate("json", CreateConnectionSessionRequest), async (c) => {
    const input = c.req.valid("json");
    const db = c.env.DB;
    const liveSession = async () =>
      (await connectionsOf(db, input.subjectId, input.contextKey)).find((row) => isLive(row, options.now()));

    const live = await liveSession();
    if (live) return c.json(toConnection(live), 200);
    const nuvouch = await client(c);
    if (!nuvouch) return notConfigured(c);

    const claimId = crypto.randomUUID();
    if (!(await claimConnectionIntent(db, input, claimId, { nowMs: options.now(), leaseMs: CONNECTION_LEASE_MS }))) {
      for (let poll = 0; poll < CONNECTION_WAIT.polls; poll++) {
        await new Promise((resolve) => setTimeout(resolve, CONNECTION_WAIT.pollMs));
        const created = await liveSession();
        if (created) return c.json(toConnection(created), 200);
      }
      c.header("Retry-After", "1");
      return jsonError(
        c,
        "connection_in_progress",
        "a connection session for this subject and context is being created; retry shortly",
      );
    }

    let session: Awaited<ReturnType<typeof nuvouch.createConnectionSession>>;
    try {
      // A request that finished just before this claim has stored its session by now.
      const justCreated = await liveSession();
      if (justCreated) {
        await releaseConnectionIntent(db, input, claimId).run();
        return c.json(toConnection(justCreated), 200);
      }
      session = await nuvouch.createConnectionSession(input);
    } catch (error) {
      await releaseConnectionIntent(db, input, claimId).run();
      return nuvouchFailure(c, error);
    }
    const [saved] = await db.batch([
      saveConnectionSession(db, input, session, new Date(options.now()).toISOString()),
      releaseConnectionIntent(db, input, claimId),
    ]);
    if (saved?.meta.changes !== 1) {
      log("warn", "nuvouch reused a connection session id", { connectionSessionId: session.id });
      return jsonError(
        c,
        "nuvouch_rejected",
        `Nuvouch answered connection session ${session.id}, which already belongs to another subject or context`,
      );
    }
    const row = (await connectionsOf(db, input.subjectId, input.contextKey)).find(
      (r) => r.connection_session_id === session.id,
    );
    return c.json(toConnection(row as ConnectionRow), 201);
  });

  api.get("/connections", zodValidate("query", ConnectionQuery), async (c) => {
    const { subjectId, contextKey } = c.req.valid("query");
    const [current] = await connectionsOf(c.env.DB, subjectId, contextKey);
    return current ? c.json(toConnection(current)) : jsonError(c, "connection_not_found");
  });

  api.post("/approvals", zodValidate("json", CreateApprovalRequest), async (c) => {
    const input = c.req.valid("json");
    const db = c.env.DB;
    const { externalRequestId } = input;
    const { subjectId, contextKey } = input.targetSubject;
    const fingerprint = await requestFingerprint(input);
    const now = () => new Date(options.now()).toISOString();

    // Idempotent on externalRequestId, the way Stripe treats an idempotency key: the same
    // request again gets the stored record; another request under the same id is refused.
    const stored = await findApproval(db, externalRequestId);
    if (stored?.request_sha256 && stored.request_sha256 !== fingerprint) return idempotencyConflict(c);
    if (stored?.request_sha256 && stored.status !== "creating" && stored.status !== "failed") {
      return c.json(toApproval(stored), 200);
    }

    // Everything that may reach Nuvouch passes every check, whatever an earlier attempt at
    // this externalRequestId left behind (a crash's `creating`, a refusal's `failed`).
    if (!expiresInFuture(input, options.now())) {
      return jsonError(c, "expires_at_in_past", "context.expiresAt is in the past");
    }
    const connections = await connectionsOf(db, subjectId, contextKey);
    if (!connections.some((row) => row.status === "accepted")) {
      return jsonError(c, "connection_not_accepted", "wait for nuvouch.connection.accepted for this subject first");
    }
    const nuvouch = await client(c);
    if (!nuvouch) return notConfigured(c);

    // The intent goes to D1 before the call and the result after it: a crash in between
    // leaves a `creating` row that the next identical request completes.
    const claimed = await claimApprovalIntent(
      db,
      { externalRequestId, subjectId, contextKey, request: input, requestSha256: fingerprint },
      now(),
    );
    // A concurrent request with another body got there first.
    if (claimed.request_sha256 !== fingerprint) return idempotencyConflict(c);
    // A callback, or a concurrent identical request, got there first.
    if (claimed.status !== "creating") return c.json(toApproval(claimed), 200);

    let approvalRequestId: string;
    let created = true;
    try {
      approvalRequestId = (await nuvouch.createApprovalRequest(input)).id;
    } catch (error) {
      if (!isDuplicateExternalId(error)) {
        if (refusedByNuvouch(error)) {
          await recordApprovalFailed(
            db,
            externalRequestId,
            { code: error.code, status: error.status, message: error.message },
            now(),
          );
        }
        return nuvouchFailure(c, error);
      }
      // Nuvouch has it already (our earlier attempt got through): fetch it, as its docs show.
      created = false;
      try {
        const existing = await nuvouch.getApprovalRequestByExternalId(externalRequestId);
        if (!existing) return nuvouchFailure(c, error);
        approvalRequestId = existing.id;
      } catch (lookupError) {
        return nuvouchFailure(c, lookupError);
      }
    }
    await recordApprovalCreated(db, externalRequestId, approvalRequestId, now());
    const row = (await findApproval(db, externalRequestId)) as ApprovalRow;
    return c.json(toApproval(row), created ? 201 : 200);
  });

  api.get("/approvals/:externalRequestId", async (c) => {
    const row = await findApproval(c.env.DB, c.req.param("externalRequestId"));
    if (!row) return jsonError(c, "approval_not_found");
    // The decision's effect: what the deciding event scheduled under the approval's once-key.
    const effect = row.decided_by_event
      ? await options.effectUnderKey(c.env.DB, row.decided_by_event, approvalOnceKey(row.external_request_id))
      : null;
    const failure = approvalFailure(row);
    return c.json({
      approvalRequestId: row.approval_request_id,
      externalRequestId: row.external_request_id,
      subjectId: row.subject_id,
      contextKey: row.context_key,
      status: row.status,
      decidedAt: row.decided_at,
      effect: effect ? { status: effect.status, attempts: effect.attempts } : null,
      ...(failure ? { error: failure } : {}),
    });
  });

  return api;
}
