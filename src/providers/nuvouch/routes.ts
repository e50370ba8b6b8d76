import { type Context, Hono } from "hono";
import { z } from "zod";
import { zodValidate } from "../../admin/validate";
import { getConfig } from "../../config";
import { jsonError } from "../../http/errors";
import { log } from "../../log";
import { createNuvouchClient, isDuplicateExternalId, NuvouchApiError, type NuvouchClientOptions } from "./api-client";
import { CreateApprovalRequest, CreateConnectionSessionRequest, expiresInFuture } from "./api-schemas";
import {
  type ApprovalRow,
  approvalEffect,
  type ConnectionRow,
  connectionsOf,
  findApproval,
  isLive,
  recordApprovalCreated,
  saveConnectionSession,
  writeApprovalIntent,
} from "./integrator-store";

type AppEnv = { Bindings: Env };

export interface NuvouchRouteOptions {
  now: () => number;
  /** Test seam for backoff and sleeping; production uses the client's defaults. */
  client?: Partial<NuvouchClientOptions>;
}

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
  log("warn", "nuvouch api call failed", { status: error.status, code: error.code });
  if (error.status === 401 || error.status === 403) {
    return jsonError(c, 502, "nuvouch_unauthorized", "Nuvouch refused the API key: check NUVOUCH_INTEGRATOR_API_KEY");
  }
  if (error.retryable) {
    return jsonError(c, 502, "nuvouch_unavailable", `Nuvouch did not answer successfully (${error.code}); try again`);
  }
  return jsonError(c, 502, "nuvouch_rejected", error.message, { nuvouchCode: error.code });
}

const ConnectionQuery = z.object({ subjectId: z.string().min(1), contextKey: z.string().min(1) });

/**
 * The integrator's side of the Nuvouch loop (docs/contract.md §7): connection sessions and approval
 * requests. Mounted under the operator API, so every route needs the bearer token.
 */
export function nuvouchApi(options: NuvouchRouteOptions) {
  const api = new Hono<AppEnv>();

  const client = (c: Context<AppEnv>) => {
    const config = getConfig(c.env);
    if (!config.NUVOUCH_INTEGRATOR_API_KEY) return null;
    return createNuvouchClient({
      baseUrl: config.NUVOUCH_API_BASE_URL,
      apiKey: config.NUVOUCH_INTEGRATOR_API_KEY,
      ...options.client,
    });
  };
  const notConfigured = (c: Context<AppEnv>) =>
    jsonError(c, 503, "nuvouch_not_configured", "set NUVOUCH_INTEGRATOR_API_KEY to call Nuvouch");

  // A second "connect" for a subject returns its live session (accepted, or pending and not
  // expired) instead of opening another QR code; only an expired or ended one is replaced.
  api.post("/connections", zodValidate("json", CreateConnectionSessionRequest), async (c) => {
    const input = c.req.valid("json");
    const live = (await connectionsOf(c.env.DB, input.subjectId, input.contextKey)).find((row) =>
      isLive(row, options.now()),
    );
    if (live) return c.json(toConnection(live), 200);
    const nuvouch = client(c);
    if (!nuvouch) return notConfigured(c);
    let session: Awaited<ReturnType<typeof nuvouch.createConnectionSession>>;
    try {
      session = await nuvouch.createConnectionSession(input);
    } catch (error) {
      return nuvouchFailure(c, error);
    }
    await saveConnectionSession(c.env.DB, input, session, new Date(options.now()).toISOString());
    const row = (await connectionsOf(c.env.DB, input.subjectId, input.contextKey)).find(
      (r) => r.connection_session_id === session.id,
    );
    return c.json(toConnection(row as ConnectionRow), 201);
  });

  api.get("/connections", zodValidate("query", ConnectionQuery), async (c) => {
    const { subjectId, contextKey } = c.req.valid("query");
    const [current] = await connectionsOf(c.env.DB, subjectId, contextKey);
    return current ? c.json(toConnection(current)) : jsonError(c, 404, "connection_not_found");
  });

  api.post("/approvals", zodValidate("json", CreateApprovalRequest), async (c) => {
    const input = c.req.valid("json");
    const db = c.env.DB;
    const { externalRequestId } = input;
    const { subjectId, contextKey } = input.targetSubject;

    // Idempotent on externalRequestId: a repeat gets the stored record back.
    const stored = await findApproval(db, externalRequestId);
    if (stored && stored.status !== "creating") return c.json(toApproval(stored), 200);

    if (!stored) {
      if (!expiresInFuture(input, options.now())) {
        return jsonError(c, 400, "invalid_json", "context.expiresAt is in the past");
      }
      const connections = await connectionsOf(db, subjectId, contextKey);
      if (!connections.some((row) => row.status === "accepted")) {
        return jsonError(
          c,
          409,
          "connection_not_accepted",
          "wait for nuvouch.connection.accepted for this subject first",
        );
      }
    }
    const nuvouch = client(c);
    if (!nuvouch) return notConfigured(c);

    // The intent goes to D1 before the call and the result after it: a crash in between
    // leaves a `creating` row that the next identical request completes.
    const now = () => new Date(options.now()).toISOString();
    await writeApprovalIntent(db, { externalRequestId, subjectId, contextKey, request: input }, now());
    let approvalRequestId: string;
    let created = true;
    try {
      approvalRequestId = (await nuvouch.createApprovalRequest(input)).id;
    } catch (error) {
      if (!isDuplicateExternalId(error)) return nuvouchFailure(c, error);
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
    if (!row) return jsonError(c, 404, "approval_not_found");
    const effect = await approvalEffect(c.env.DB, row.external_request_id);
    return c.json({
      approvalRequestId: row.approval_request_id,
      externalRequestId: row.external_request_id,
      subjectId: row.subject_id,
      contextKey: row.context_key,
      status: row.status,
      decidedAt: row.decided_at,
      effect: effect ? { status: effect.status, attempts: effect.attempts } : null,
    });
  });

  return api;
}
