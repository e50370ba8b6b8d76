// A fake of the Nuvouch integrator API (docs/contract.md §8) on node:http, for tests and for
// running the whole Nuvouch loop offline. It can be told to misbehave (429, 500, a slow
// answer, a body of your choosing), decide an approval with or without a callback (a
// missed callback, for reconciliation), and, like the real Nuvouch, send signed callbacks
// to the gateway.
//
// A base URL ending in /ns/<name> is a separate fake with its own sessions, approvals,
// faults and request log, so test files running side by side never consume each other's
// faults: point NUVOUCH_API_BASE_URL at `${url}/ns/<name>` and its control routes follow.
import { randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { nuvouchSimulator } from "../../src/providers/nuvouch/simulator.node.ts";

export interface Fault {
  status?: number;
  retryAfter?: number;
  delayMs?: number;
  code?: string;
  /** Answer this JSON (with `status`, default 200) instead of serving the call. */
  body?: unknown;
}

export interface FakeNuvouchOptions {
  apiKey: string;
  callbackSecret: string;
  /** Where callbacks go, e.g. http://127.0.0.1:8787 (the gateway's /webhooks/nuvouch is appended). */
  gatewayUrl?: string;
  port?: number;
  host?: string;
}

interface Session {
  id: string;
  subjectId: string;
  contextKey: string;
  status: string;
  shortCode: string;
  qrCodeUrl: string;
  expiresAt: string;
}

interface Approval {
  id: string;
  externalRequestId: string;
  status: string;
  targetSubject: { subjectId: string; contextKey: string };
  decidedAt?: string;
  [field: string]: unknown;
}

const APPROVAL_ACTIONS: Record<string, string> = {
  approve: "approved",
  deny: "denied",
  expire: "expired",
  cancel: "cancelled",
};

const id = (prefix: string) => `${prefix}_${randomBytes(8).toString("hex")}`;

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
  res.writeHead(status, { "content-type": "application/json", ...headers }).end(JSON.stringify(body));
}

const apiError = (
  res: ServerResponse,
  status: number,
  code: string,
  message: string,
  headers?: Record<string, string>,
) => send(res, status, { error: { code, message } }, headers);

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString("utf8");
  return text ? JSON.parse(text) : {};
}

interface FakeState {
  sessions: Map<string, Session>;
  approvals: Map<string, Approval>;
  faults: Fault[];
  requests: { method: string; path: string; apiKey: string | undefined }[];
}

const newState = (): FakeState => ({ sessions: new Map(), approvals: new Map(), faults: [], requests: [] });

export async function startFakeNuvouch(options: FakeNuvouchOptions) {
  const namespaces = new Map<string, FakeState>();
  const stateOf = (name: string) => {
    let state = namespaces.get(name);
    if (!state) {
      state = newState();
      namespaces.set(name, state);
    }
    return state;
  };
  let gatewayUrl = options.gatewayUrl;

  async function callback(type: string, data: Record<string, unknown>) {
    if (!gatewayUrl) throw new Error("no gateway URL configured for callbacks");
    const body = JSON.stringify({ id: id("evt"), type, createdAt: new Date().toISOString(), data });
    const response = await fetch(`${gatewayUrl.replace(/\/+$/, "")}/webhooks/nuvouch`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        ...nuvouchSimulator.sign(body, options.callbackSecret, Math.floor(Date.now() / 1000)),
      },
      body,
    });
    return { status: response.status, body: await response.json().catch(() => null), sent: JSON.parse(body) };
  }

  /** Decides a pending approval at Nuvouch (a later decision never replaces the first). */
  function decide(approval: Approval, action: string): string {
    const status = APPROVAL_ACTIONS[action] as string;
    if (approval.status === "pending") {
      approval.status = status;
      approval.decidedAt = new Date().toISOString();
    }
    return status;
  }

  const approvalData = (approval: Approval) => ({
    approvalRequestId: approval.id,
    externalRequestId: approval.externalRequestId,
    subjectId: approval.targetSubject.subjectId,
    contextKey: approval.targetSubject.contextKey,
    decidedAt: approval.decidedAt ?? new Date().toISOString(),
  });

  async function control(req: IncomingMessage, res: ServerResponse, path: string[], state: FakeState) {
    const { sessions, approvals, faults, requests } = state;
    const [, what, action, target] = path;
    if (what === "faults" && req.method === "POST") {
      const body = (await readJson(req)) as { faults?: Fault[] };
      faults.push(...(body.faults ?? []));
      return send(res, 200, { queued: faults.length });
    }
    if (what === "requests") return send(res, 200, requests);
    if (what === "sessions") {
      const subjectId = new URL(req.url ?? "/", "http://fake").searchParams.get("subjectId");
      return send(
        res,
        200,
        [...sessions.values()].filter((session) => subjectId === null || session.subjectId === subjectId),
      );
    }
    if (what === "reset") {
      faults.length = 0;
      requests.length = 0;
      return send(res, 200, { reset: true });
    }
    if (what === "gateway" && req.method === "POST") {
      gatewayUrl = ((await readJson(req)) as { url: string }).url;
      return send(res, 200, { gatewayUrl });
    }
    if (what === "callbacks" && action && target) {
      const session = sessions.get(target);
      if (session && ["accept", "revoke", "expire"].includes(action)) {
        const status = { accept: "accepted", revoke: "revoked", expire: "expired" }[action] as string;
        session.status = status;
        const data = { connectionSessionId: session.id, subjectId: session.subjectId, contextKey: session.contextKey };
        return send(res, 200, await callback(`nuvouch.connection.${status}`, data));
      }
      const approval = approvals.get(target);
      if (approval && action in APPROVAL_ACTIONS) {
        const status = decide(approval, action);
        return send(res, 200, await callback(`nuvouch.approval.${status}`, approvalData(approval)));
      }
      return apiError(res, 404, "NOT_FOUND", `no session or approval ${target} for ${action}`);
    }
    // Decided at Nuvouch, but the callback never arrives: what reconciliation is for.
    if (what === "decisions" && req.method === "POST" && action && target) {
      const approval = approvals.get(target);
      if (!approval || !(action in APPROVAL_ACTIONS)) {
        return apiError(res, 404, "NOT_FOUND", `no approval ${target} for ${action}`);
      }
      decide(approval, action);
      return send(res, 200, approval);
    }
    return apiError(res, 404, "NOT_FOUND", "unknown control route");
  }

  async function api(req: IncomingMessage, res: ServerResponse, path: string[], state: FakeState) {
    const { sessions, approvals, faults, requests } = state;
    const apiKey = req.headers["x-api-key"] as string | undefined;
    requests.push({ method: req.method ?? "", path: `/${path.join("/")}`, apiKey });
    const fault = faults.shift();
    if (fault?.delayMs) await new Promise((r) => setTimeout(r, fault.delayMs));
    if (fault?.body !== undefined) return send(res, fault.status ?? 200, fault.body);
    if (fault?.status) {
      const headers: Record<string, string> =
        fault.retryAfter === undefined ? {} : { "retry-after": String(fault.retryAfter) };
      return apiError(res, fault.status, fault.code ?? `HTTP_${fault.status}`, "injected fault", headers);
    }
    if (apiKey !== options.apiKey) return apiError(res, 401, "UNAUTHORIZED", "invalid API key");

    if (req.method === "POST" && path.join("/") === "v1/connection-sessions") {
      const body = (await readJson(req)) as { subjectId?: string; contextKey?: string };
      if (!body.subjectId || !body.contextKey)
        return apiError(res, 400, "VALIDATION_ERROR", "subjectId and contextKey required");
      const session: Session = {
        id: id("cs"),
        subjectId: body.subjectId,
        contextKey: body.contextKey,
        status: "pending",
        shortCode: randomBytes(4).toString("hex").toUpperCase().slice(0, 6),
        qrCodeUrl: "",
        expiresAt: new Date(Date.now() + 10 * 60_000).toISOString(),
      };
      session.qrCodeUrl = `https://nuvouch.example/connect/${session.id}.png`;
      sessions.set(session.id, session);
      return send(res, 201, session);
    }
    if (req.method === "POST" && path.join("/") === "v1/approval-requests") {
      const body = (await readJson(req)) as Approval;
      if (!body.externalRequestId || !body.targetSubject?.subjectId) {
        return apiError(res, 400, "VALIDATION_ERROR", "externalRequestId and targetSubject required");
      }
      if ([...approvals.values()].some((a) => a.externalRequestId === body.externalRequestId)) {
        return apiError(res, 409, "DUPLICATE_EXTERNAL_ID", "an approval request with this externalRequestId exists");
      }
      const approval: Approval = { ...body, id: id("apr"), status: "pending" };
      approvals.set(approval.id, approval);
      approvals.set(approval.externalRequestId, approval);
      return send(res, 201, approval);
    }
    if (req.method === "GET" && path.slice(0, 3).join("/") === "v1/approval-requests/by-external-id" && path[3]) {
      const approval = approvals.get(decodeURIComponent(path[3]));
      return approval ? send(res, 200, approval) : apiError(res, 404, "NOT_FOUND", "no such approval request");
    }
    return apiError(res, 404, "NOT_FOUND", "unknown route");
  }

  const server: Server = createServer((req, res) => {
    let path = new URL(req.url ?? "/", "http://fake").pathname.split("/").filter(Boolean);
    let namespace = "";
    if (path[0] === "ns" && path[1]) {
      namespace = path[1];
      path = path.slice(2);
    }
    const state = stateOf(namespace);
    const handle = path[0] === "_control" ? control(req, res, path, state) : api(req, res, path, state);
    handle.catch((error: unknown) => apiError(res, 500, "FAKE_ERROR", String(error)));
  });
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, options.host ?? "127.0.0.1", resolve));
  const address = server.address();
  if (!address || typeof address === "string") throw new Error("fake Nuvouch did not bind");
  return {
    url: `http://${options.host ?? "127.0.0.1"}:${address.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
