// The operator API (docs/contract.md §7), called with the operator's bearer token.
import { getToken } from "./session";

export class ApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly code: string,
  ) {
    super(message);
  }
}

export interface ApiResult<T> {
  status: number;
  body: T;
  /** The answer as sent, for members read as text (rawMember in json.ts). */
  text: string;
}

interface ApiOptions {
  method?: "GET" | "POST";
  /** Overrides the stored token: the login form checks a token before keeping it. */
  token?: string;
  json?: unknown;
}

function errorCode(body: unknown, status: number): { code: string; message?: string } {
  if (body && typeof body === "object" && "error" in body) {
    const error = (body as { error: unknown }).error;
    if (error && typeof error === "object") {
      const { code, message } = error as { code?: unknown; message?: unknown };
      return {
        code: typeof code === "string" ? code : `http_${status}`,
        ...(typeof message === "string" ? { message } : {}),
      };
    }
  }
  return { code: `http_${status}` };
}

export async function api<T>(path: string, options: ApiOptions = {}): Promise<ApiResult<T>> {
  const token = options.token ?? getToken();
  if (!token) throw new ApiError("token rejected: not signed in", 401, "unauthorized");
  const headers: Record<string, string> = { authorization: `Bearer ${token}`, accept: "application/json" };
  if (options.json !== undefined) headers["content-type"] = "application/json";
  let response: Response;
  try {
    response = await fetch(path, {
      method: options.method ?? "GET",
      headers,
      ...(options.json === undefined ? {} : { body: JSON.stringify(options.json) }),
      cache: "no-store",
      credentials: "omit",
      redirect: "error",
    });
  } catch (error) {
    throw new ApiError(`network error: ${error instanceof Error ? error.message : String(error)}`, 0, "network");
  }
  const text = await response.text();
  let body: unknown = null;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    body = null;
  }
  if (response.ok) return { status: response.status, body: body as T, text };
  const { code, message } = errorCode(body, response.status);
  if (response.status === 401) {
    throw new ApiError("token rejected: the operator API refused this token (401)", 401, code);
  }
  if (response.status === 503 && code === "admin_api_disabled") {
    throw new ApiError("operator API disabled: set ADMIN_API_TOKEN on the gateway", 503, code);
  }
  const detail = message ? `: ${message}` : "";
  throw new ApiError(`request failed (${response.status} ${code})${detail}`, response.status, code);
}

/** The sign-in is over: a refused token, or the API switched off. */
export function endsSession(error: unknown): boolean {
  return error instanceof ApiError && (error.status === 401 || error.code === "admin_api_disabled");
}

/**
 * A gateway older than contract v2 has no such route (404/405) or refuses the new filter value
 * (400 `invalid_query` for `status=quarantined`): the page hides that piece instead of failing.
 */
export function isUnsupported(error: unknown): boolean {
  return (
    error instanceof ApiError &&
    (error.status === 404 || error.status === 405 || (error.status === 400 && error.code === "invalid_query"))
  );
}
