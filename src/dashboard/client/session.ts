// The operator token lives in this tab's sessionStorage only, and travels only in the
// Authorization header (api.ts).
const TOKEN_KEY = "gateway.operatorToken";

export function getToken(): string | null {
  try {
    return sessionStorage.getItem(TOKEN_KEY);
  } catch {
    return null;
  }
}

export function saveToken(token: string): void {
  try {
    sessionStorage.setItem(TOKEN_KEY, token);
  } catch {
    // storage unavailable: the token is kept for this page only
  }
}

export function forgetToken(): void {
  try {
    sessionStorage.removeItem(TOKEN_KEY);
  } catch {
    // storage unavailable: nothing was kept
  }
}

/** A bearer token is printable ASCII without spaces (RFC 6750 b64token is narrower still). */
export function isPlausibleToken(token: string): boolean {
  return /^[\x21-\x7e]+$/.test(token);
}
