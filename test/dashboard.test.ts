import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { callGateway } from "./support/gateway";
import { TEST_SECRETS } from "./support/secrets";

const getDashboard = (testEnv: Env = env) =>
  callGateway(new Request("https://gateway.test/dashboard"), { env: testEnv });

function nonceOf(csp: string): string {
  const match = /script-src 'nonce-([A-Za-z0-9+/=]+)'/.exec(csp);
  if (!match?.[1]) throw new Error(`no script nonce in ${csp}`);
  return match[1];
}

describe("GET /dashboard", () => {
  it("serves the page without a token, as HTML", async () => {
    const response = await getDashboard();
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toMatch(/^text\/html/);
    const html = await response.text();
    expect(html).toMatch(/^<!doctype html>/i);
    expect(html).toContain('id="login-form"');
    expect(response.headers.get("cache-control")).toBe("no-store");
    expect(response.headers.get("x-content-type-options")).toBe("nosniff");
  });

  it("sends a CSP that allows only its own nonce'd inline script and style, and connects only to itself", async () => {
    const response = await getDashboard();
    const csp = response.headers.get("content-security-policy") ?? "";
    const nonce = nonceOf(csp);
    const directives = Object.fromEntries(
      csp.split(";").map((part) => {
        const [name = "", ...values] = part.trim().split(/\s+/);
        return [name, values.join(" ")];
      }),
    );
    expect(directives).toMatchObject({
      "default-src": "'none'",
      "script-src": `'nonce-${nonce}'`,
      "style-src": `'nonce-${nonce}'`,
      "connect-src": "'self'",
      "frame-ancestors": "'none'",
    });
    expect(csp).not.toContain("unsafe-inline");
    expect(csp).not.toContain("unsafe-eval");

    const html = await response.text();
    const scripts = [...html.matchAll(/<script\b([^>]*)>/g)].map((m) => m[1]);
    const styles = [...html.matchAll(/<style\b([^>]*)>/g)].map((m) => m[1]);
    expect(scripts).toHaveLength(1);
    expect(styles).toHaveLength(1);
    for (const attributes of [...scripts, ...styles]) expect(attributes).toContain(`nonce="${nonce}"`);
    // Everything is inline: nothing is loaded from elsewhere, and no inline handlers or styles.
    expect(html).not.toMatch(/\s(src|href|action)=|<link\b|<iframe\b|<object\b/i);
    expect(html).not.toMatch(/\son[a-z]+=|\sstyle=/i);
  });

  it("uses a fresh nonce on every response", async () => {
    const first = nonceOf((await getDashboard()).headers.get("content-security-policy") ?? "");
    const second = nonceOf((await getDashboard()).headers.get("content-security-policy") ?? "");
    expect(first).not.toBe(second);
  });

  it("holds no secrets and no configuration values", async () => {
    const html = await (await getDashboard()).text();
    for (const [name, value] of Object.entries(TEST_SECRETS)) {
      expect(html, name).not.toContain(value);
      expect(html, name).not.toContain(`${name}=`);
    }
  });

  it("is served even while the operator API is disabled (the page itself explains the 503)", async () => {
    const response = await getDashboard({ ...env, ADMIN_API_TOKEN: "" } as Env);
    expect(response.status).toBe(200);
    expect(await response.text()).toContain("operator API disabled: set ADMIN_API_TOKEN");
  });
});
