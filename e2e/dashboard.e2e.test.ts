// The operator dashboard in a real browser (headless Debian Chromium via playwright-core)
// against a real `wrangler dev`: sign in, watch signed deliveries arrive through the queue,
// open one, replay it. Leaves screenshots in test-output/.
import assert from "node:assert/strict";
import { existsSync, mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { test } from "node:test";
import type { Browser, Page } from "playwright-core";
import { buildPayload, newStory, type ProviderName } from "../scripts/simulator/payloads.ts";
import { SECRET_BINDINGS, signatureHeaders } from "../scripts/simulator/sign.ts";
import { type DevGateway, startDevGateway } from "./support/dev-gateway.ts";

const CHROMIUM = "/usr/bin/chromium";
const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];
const OUTPUT = resolve(import.meta.dirname, "../test-output");
const XSS_TYPE = "<img src=x onerror=alert(1)>";
const TOKEN_KEY = "gateway.operatorToken";

async function until(check: () => Promise<boolean | undefined>, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out: ${check.toString()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function send(gateway: DevGateway, provider: ProviderName, payload: unknown): Promise<string> {
  const body = JSON.stringify(payload);
  const secret = gateway.secrets[SECRET_BINDINGS[provider]] as string;
  const headers = {
    "content-type": "application/json",
    ...signatureHeaders(provider, new TextEncoder().encode(body), secret, Math.floor(Date.now() / 1000)),
  };
  const response = await fetch(`${gateway.url}/webhooks/${provider}`, { method: "POST", body, headers });
  assert.equal(response.status, 202, `${provider} delivery accepted`);
  return ((await response.json()) as { id: string }).id;
}

/** Presses Refresh until the event's row is listed as processed: the queue consumer records it first. */
async function waitForRow(page: Page, id: string, timeoutMs = 45_000) {
  const row = page.locator(`#events-body tr[data-id="${id}"]`);
  const deadline = Date.now() + timeoutMs;
  while ((await row.count()) === 0 || !(await row.textContent())?.includes("processed")) {
    if (Date.now() > deadline) throw new Error(`event ${id} never appeared as processed on the dashboard`);
    await page.click("#refresh");
    await page.waitForTimeout(500);
  }
  return row;
}

test("operator dashboard: sign in, see events, open one, replay it", { timeout: 180_000 }, async (t) => {
  if (!existsSync(CHROMIUM)) {
    t.skip(`${CHROMIUM} is not installed (apt-get install -y chromium); the browser test cannot run`);
    return;
  }
  const { chromium } = await import("playwright-core");
  mkdirSync(OUTPUT, { recursive: true });

  const gateway = await startDevGateway();
  let browser: Browser | undefined;
  t.after(async () => {
    await browser?.close();
    await gateway.stop();
  });

  const story = newStory({});
  const approvalId = await send(gateway, "nuvouch", buildPayload("nuvouch", "approval.approved", story));
  const novaId = await send(gateway, "nova", buildPayload("nova", "payment.succeeded", newStory({})));
  const nuveiId = await send(gateway, "nuvei", buildPayload("nuvei", "approved", newStory({})));
  const xssId = await send(gateway, "nova", {
    ...buildPayload("nova", "payment.failed", newStory({})),
    type: XSS_TYPE,
  });

  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
  const context = await browser.newContext({ viewport: { width: 1360, height: 900 } });
  const page = await context.newPage();
  const dialogs: string[] = [];
  const problems: string[] = [];
  page.on("dialog", (dialog) => {
    dialogs.push(dialog.message());
    void dialog.dismiss();
  });
  page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
  page.on("console", (message) => {
    // A CSP violation or a script error shows up here; the refused logins' 401/503 are expected.
    const expected = /favicon|Failed to load resource: the server responded with a status of (401|404|503)/;
    if (message.type() === "error" && !expected.test(`${message.text()} ${message.location().url}`)) {
      problems.push(`console: ${message.text()}`);
    }
  });

  const response = await page.goto(`${gateway.url}/dashboard`);
  assert.equal(response?.status(), 200);
  assert.match(response?.headers()["content-security-policy"] ?? "", /script-src 'nonce-/);

  // A wrong token is refused, visibly, and not kept.
  await page.fill("#token", "not-the-admin-token");
  await page.click("#login-form button[type=submit]");
  await page.locator("#login-message", { hasText: "token rejected" }).waitFor();
  assert.equal(await page.isVisible("#app"), false);
  assert.equal(await page.evaluate("sessionStorage.length"), 0);
  await page.screenshot({ path: join(OUTPUT, "dashboard-login.png") });

  // A gateway without ADMIN_API_TOKEN answers 503: the page says what to do.
  await page.route("**/api/events?*", (route) =>
    route.fulfill({
      status: 503,
      contentType: "application/json",
      body: JSON.stringify({ error: { code: "admin_api_disabled", message: "set ADMIN_API_TOKEN" } }),
    }),
  );
  await page.fill("#token", "any-token");
  await page.click("#login-form button[type=submit]");
  await page.locator("#login-message", { hasText: "operator API disabled: set ADMIN_API_TOKEN" }).waitFor();
  await page.unrouteAll();

  // The right token: the dashboard loads, and the token lives only in sessionStorage.
  const token = gateway.secrets.ADMIN_API_TOKEN as string;
  await page.fill("#token", token);
  await page.click("#login-form button[type=submit]");
  await page.waitForSelector("#app", { state: "visible" });
  assert.equal(await page.evaluate(`sessionStorage.getItem("${TOKEN_KEY}")`), token);
  assert.equal(await page.evaluate("document.cookie"), "");
  assert.ok(!page.url().includes(token), "the token is never in the URL");

  const row = await waitForRow(page, approvalId);
  for (const id of [novaId, nuveiId, xssId]) await waitForRow(page, id);
  assert.deepEqual((await row.locator("td").allTextContents()).slice(1, 5), [
    "nuvouch",
    "nuvouch.approval.approved",
    "processed",
    "1",
  ]);

  // The hostile event type is text, not markup.
  const xssRow = page.locator(`#events-body tr[data-id="${xssId}"]`);
  assert.equal(await xssRow.locator("button.link").textContent(), XSS_TYPE);
  assert.equal(await page.locator("#events-body img, #dead-body img").count(), 0);

  // The chart and the per-provider table counted the deliveries.
  await page.click("#refresh");
  const novaStats = page.locator("#stats-body tr", { hasText: "nova" }).locator("td");
  await until(async () => (await novaStats.allTextContents()).join(" ") === "nova 2 0 0 0%");
  assert.ok((await page.locator("#chart svg rect.bar").count()) >= 3, "a bar per provider");
  assert.ok(await page.isVisible("#dead-empty"), "no dead letters");

  // Filters: only Nuvei.
  await page.selectOption("#filters select[name=provider]", "nuvei");
  await page.click("#filters button[type=submit]");
  await until(async () => {
    const rows = await page.locator("#events-body tr").allTextContents();
    return rows.length === 1 && rows[0]?.includes("nuvei");
  });
  await page.click("#filters-clear");
  await until(async () => (await page.locator("#events-body tr").count()) === 4);
  await page.screenshot({ path: join(OUTPUT, "dashboard-overview.png"), fullPage: true });

  // Detail: payload pretty-printed, effects listed; then Replay.
  await row.click();
  await page.waitForSelector("#detail[open]");
  await page.locator("#payload", { hasText: "externalRequestId" }).waitFor();
  const payload = (await page.locator("#payload").textContent()) ?? "";
  assert.ok(payload.includes(`"externalRequestId": "${story.externalRequestId}"`), payload);
  assert.ok(payload.split("\n").length > 5, "the payload is pretty-printed");
  assert.match((await page.locator("#effects-body").textContent()) ?? "", /approval-approved/);

  await page.click("#replay");
  await page.locator("#replay-message", { hasText: "replay queued" }).waitFor();
  assert.equal(await page.locator("#replay-message").textContent(), "replay queued");
  await page.screenshot({ path: join(OUTPUT, "dashboard.png") });

  // Log out forgets the token.
  await page.click("#detail-close");
  await page.click("#logout");
  await page.waitForSelector("#login", { state: "visible" });
  assert.equal(await page.evaluate(`sessionStorage.getItem("${TOKEN_KEY}")`), null);

  assert.deepEqual(dialogs, [], "no script from a payload ran");
  assert.deepEqual(problems, []);
});
