import { env } from "cloudflare:workers";
import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { callGateway } from "./support/gateway";
import { TEST_SECRETS } from "./support/secrets";

const get = (path: string, testEnv: Env = env) =>
  callGateway(new Request(`https://gateway.test${path}`), { env: testEnv });
const getDashboard = (testEnv: Env = env) => get("/dashboard", testEnv);

function nonceOf(csp: string): string {
  const match = /script-src 'nonce-([A-Za-z0-9+/=]+)'/.exec(csp);
  if (!match?.[1]) throw new Error(`no script nonce in ${csp}`);
  return match[1];
}

function attribute(tag: string, name: string): string | undefined {
  return new RegExp(`\\s${name}="([^"]*)"`).exec(tag)?.[1];
}

/** The page's one <script> and one stylesheet <link>, as tags. */
async function pageAssets() {
  const response = await getDashboard();
  const html = await response.text();
  const scripts = [...html.matchAll(/<script\b[^>]*>([\s\S]*?)<\/script>/g)];
  const links = [...html.matchAll(/<link\b[^>]*>/g)].map((m) => m[0]);
  return { response, html, scripts, links };
}

/** Subresource Integrity computed outside the Worker (node:crypto, not WebCrypto). */
function sri(body: string): string {
  return `sha384-${createHash("sha384").update(body, "utf8").digest("base64")}`;
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

  it("sends a CSP that allows only its own nonce'd script and stylesheet, connects only to itself, and enforces Trusted Types", async () => {
    const { response, html, scripts, links } = await pageAssets();
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
      "require-trusted-types-for": "'script'",
      "trusted-types": "'none'",
    });
    expect(csp).not.toContain("unsafe-inline");
    expect(csp).not.toContain("unsafe-eval");

    // One script and one stylesheet, both files of this gateway, both nonce'd; no inline code.
    expect(scripts).toHaveLength(1);
    expect(scripts[0]?.[1]).toBe("");
    expect(links).toHaveLength(1);
    for (const tag of [scripts[0]?.[0] ?? "", links[0] ?? ""]) {
      expect(attribute(tag, "nonce")).toBe(nonce);
      expect(attribute(tag, "src") ?? attribute(tag, "href")).toMatch(/^\/dashboard\/client\.[0-9a-f]{16}\.(js|css)$/);
    }
    expect(html).not.toMatch(/<style\b|<iframe\b|<object\b/i);
    expect(html).not.toMatch(/\son[a-z]+=|\sstyle=/i);
    // Nothing else is loaded: the script's src and the stylesheet's href are the only URLs.
    expect([...html.matchAll(/\s(src|href|action)=/gi)]).toHaveLength(2);
  });

  it("uses a fresh nonce on every response", async () => {
    const first = nonceOf((await getDashboard()).headers.get("content-security-policy") ?? "");
    const second = nonceOf((await getDashboard()).headers.get("content-security-policy") ?? "");
    expect(first).not.toBe(second);
  });

  it("holds no secrets and no configuration values, nor does its script", async () => {
    const { html, scripts } = await pageAssets();
    const script = await (await get(attribute(scripts[0]?.[0] ?? "", "src") ?? "")).text();
    for (const [name, value] of Object.entries(TEST_SECRETS)) {
      for (const text of [html, script]) {
        expect(text, name).not.toContain(value);
        expect(text, name).not.toContain(`${name}=`);
      }
    }
  });
});

describe("the dashboard's script and stylesheet", () => {
  it("are served as the bundled files the page names, with the integrity hash the page gives", async () => {
    const { scripts, links } = await pageAssets();
    const cases = [
      { tag: scripts[0]?.[0] ?? "", url: "src", type: /^text\/javascript; charset=utf-8$/ },
      { tag: links[0] ?? "", url: "href", type: /^text\/css; charset=utf-8$/ },
    ];
    for (const { tag, url, type } of cases) {
      const response = await get(attribute(tag, url) ?? "");
      expect(response.status).toBe(200);
      expect(response.headers.get("content-type")).toMatch(type);
      expect(response.headers.get("x-content-type-options")).toBe("nosniff");
      expect(response.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
      const body = await response.text();
      expect(body.length).toBeGreaterThan(1000);
      expect(attribute(tag, "integrity")).toBe(sri(body));
    }
  });

  it("is browser JavaScript: one bundled script, no module syntax, no TypeScript left", async () => {
    const { scripts } = await pageAssets();
    expect(attribute(scripts[0]?.[0] ?? "", "type")).toBeUndefined();
    const script = await (await get(attribute(scripts[0]?.[0] ?? "", "src") ?? "")).text();
    expect(script).not.toMatch(/^\s*(import|export)\s/m);
    expect(script).not.toMatch(/\binterface\s+\w+\s*\{|:\s*HTMLElement\b/);
    // It parses as a classic script (workerd forbids eval, so only the shape is checked here;
    // the browser test runs it).
    expect(script.trim()).toMatch(/^"use strict";\s*\(\(\) => \{[\s\S]*\}\)\(\);$/);
  });

  it("never parses API text as HTML: no innerHTML, outerHTML, insertAdjacentHTML or document.write", async () => {
    const { scripts } = await pageAssets();
    const script = await (await get(attribute(scripts[0]?.[0] ?? "", "src") ?? "")).text();
    expect(script).not.toMatch(
      /innerHTML|outerHTML|insertAdjacentHTML|document\.write|DOMParser|createContextualFragment/,
    );
  });

  it("finds every element it looks up by id on the page", async () => {
    const { html, scripts } = await pageAssets();
    const script = await (await get(attribute(scripts[0]?.[0] ?? "", "src") ?? "")).text();
    const ids = new Set([...script.matchAll(/\$\("([a-z][\w-]*)"\)/g)].map((m) => m[1] ?? ""));
    expect(ids.size).toBeGreaterThan(30);
    const missing = [...ids].filter((id) => !html.includes(`id="${id}"`));
    expect(missing).toEqual([]);
    // The lists build ids from their name (`${name}-body` …): those exist for all three.
    for (const name of ["dead", "quarantined", "events"]) {
      for (const part of ["table", "body", "empty", "more", "count", "message", "replay-all", "unavailable"]) {
        expect(html, `${name}-${part}`).toContain(`id="${name}-${part}"`);
      }
    }
  });

  it("answers an unknown or stale file name with a 404 in the error shape", async () => {
    for (const path of ["/dashboard/client.0000000000000000.js", "/dashboard/client.ts", "/dashboard/x"]) {
      const response = await get(path);
      expect(response.status).toBe(404);
      expect(await response.json()).toEqual({ error: { code: "not_found" } });
    }
  });

  it("is served while the operator API is disabled, and explains the 503 itself", async () => {
    const disabled = { ...env, ADMIN_API_TOKEN: "" } as Env;
    const page = await getDashboard(disabled);
    expect(page.status).toBe(200);
    const src = attribute(/<script\b[^>]*>/.exec(await page.text())?.[0] ?? "", "src") ?? "";
    const script = await get(src, disabled);
    expect(script.status).toBe(200);
    expect(await script.text()).toContain("operator API disabled: set ADMIN_API_TOKEN");
  });
});
