// The operator dashboard in a real browser (headless Debian Chromium via playwright-core)
// against a real `wrangler dev`: sign in, watch signed deliveries arrive through the queue,
// open one, replay it; then the contract v2 pieces (refusals, quarantine, attempt history,
// bulk replay) from fixtures, and how the page degrades without them. At 1280 px and at 390 px
// the page must not overflow sideways. Leaves screenshots in test-output/ (CI artifacts).
import assert from "node:assert/strict";
import { existsSync, mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { test } from "node:test";
import type { Browser, Page, Route } from "playwright-core";
import { newStory } from "../src/providers/simulation.node.ts";
import { buildPayload, type ProviderName, signatureHeaders, simulators } from "../src/providers/simulators.node.ts";
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
// Visible ASCII only, as every event type must be (a type with a space is quarantined), and still markup.
const XSS_TYPE = "<img/src=x/onerror=alert(1)>";
const XSS_TEXT = "<img src=x onerror=alert(2)><script>alert(3)</script>";
/** 120 characters without a break opportunity but its dots: it must wrap, never widen the page. */
const LONG_TYPE = `merchant.settlement.reconciliation.completed_with_adjustments.${"x".repeat(58)}`;
const TOKEN_KEY = "gateway.operatorToken";
const WIDTHS = [
  { width: 1280, height: 900 },
  { width: 390, height: 844 },
] as const;

async function until(check: () => Promise<boolean | undefined>, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out: ${check.toString()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function send(gateway: DevGateway, provider: ProviderName, payload: unknown): Promise<string> {
  const body = JSON.stringify(payload);
  const secret = gateway.secrets[simulators[provider].secretBinding] as string;
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

interface Overflow {
  scrollWidth: number;
  innerWidth: number;
  /** Elements reaching past the viewport's right edge outside a scrolling box: the culprits. */
  culprits: string[];
  dialogs: { id: string; scrollWidth: number; clientWidth: number }[];
}

// A string, not a function: e2e/ is type-checked without the DOM library.
const MEASURE_OVERFLOW = `(() => {
  const scrolls = (el) => { for (let p = el.parentElement; p; p = p.parentElement) {
    const o = getComputedStyle(p).overflowX; if (o === "auto" || o === "scroll" || o === "hidden") return true; } return false; };
  const culprits = [...document.querySelectorAll("body *")]
    .filter((el) => el.getClientRects().length && el.getBoundingClientRect().right > innerWidth + 0.5 && !scrolls(el))
    .slice(0, 8)
    .map((el) => el.tagName.toLowerCase() + (el.id ? "#" + el.id : "") + (el.className && typeof el.className === "string" ? "." + el.className.split(" ").join(".") : "") + " right=" + Math.round(el.getBoundingClientRect().right));
  const dialogs = [...document.querySelectorAll("dialog[open]")].map((d) => ({ id: d.id, scrollWidth: d.scrollWidth, clientWidth: d.clientWidth }));
  return { scrollWidth: document.documentElement.scrollWidth, innerWidth, culprits, dialogs };
})()`;

/** The layout rule of issue 11: nothing widens the page past the viewport; tables scroll in their cards. */
async function assertNoOverflow(page: Page, label: string) {
  const m = (await page.evaluate(MEASURE_OVERFLOW)) as Overflow;
  assert.ok(
    m.scrollWidth <= m.innerWidth,
    `${label}: the page is ${m.scrollWidth} px wide in a ${m.innerWidth} px viewport (${m.culprits.join(", ")})`,
  );
  for (const d of m.dialogs) {
    assert.ok(
      d.scrollWidth <= d.clientWidth,
      `${label}: #${d.id} scrolls sideways (${d.scrollWidth} > ${d.clientWidth})`,
    );
  }
}

/** Short type names stay on one line (the old layout broke them letter by letter at 390 px). */
async function assertTypesOnOneLine(page: Page, label: string) {
  const tall = (await page.evaluate(`[...document.querySelectorAll("#events-body td.type button")]
    .filter((b) => b.textContent.length <= 30)
    .filter((b) => b.getBoundingClientRect().height > parseFloat(getComputedStyle(b).fontSize) * 2)
    .map((b) => b.textContent)`)) as string[];
  assert.deepEqual(tall, [], `${label}: type names wrapped`);
}

// ---- contract v2 fixtures: routes being built in parallel, served to the browser here ----------

const at = (secondsAgo: number) => new Date(Date.now() - secondsAgo * 1000).toISOString();
const QUARANTINED_ID = "evt_quarantined_fixture_0001";

function quarantinedList() {
  const base = { provider: "nova", status: "quarantined", attempts: 0, occurredAt: null };
  return {
    events: [
      {
        ...base,
        id: QUARANTINED_ID,
        type: "payment.succeeded",
        dedupeKey: "evt_2Q6bJ0kHcY2ZxS9e1d5u8w3r",
        receivedAt: at(50),
        lastError: `payload_invalid: amount: expected a number, received a string; ${XSS_TEXT}`,
      },
      {
        ...base,
        id: "evt_quarantined_fixture_0002",
        provider: "nuvei",
        type: "unknown",
        dedupeKey: "9f2c4d1e0b7a65f3c2d1e0b7a65f3c2d1e0b7a65f3c2d1e0b7a65f3c2d1e0b7a",
        receivedAt: at(120),
        lastError: "payload_invalid: not a form body (invalid percent escape at byte 17)",
      },
    ],
    nextCursor: null,
  };
}

const REJECTIONS = {
  rejections: [
    {
      provider: "nova",
      code: "signature_invalid",
      status: 401,
      count: 1312,
      lastAt: at(4),
      lastReason: "no signature matches (2 v1 entries checked)",
    },
    {
      provider: "nova",
      code: "timestamp_out_of_tolerance",
      status: 401,
      count: 7,
      lastAt: at(30),
      lastReason: `timestamp 412 s old ${XSS_TEXT}`,
    },
    { provider: "nuvei", code: "payload_too_large", status: 413, count: 2, lastAt: at(600), lastReason: null },
  ],
};

function quarantinedDetail() {
  const [event] = quarantinedList().events;
  const body = '{"id":"evt_2Q6bJ0kHcY2ZxS9e1d5u8w3r","type":"payment.succeeded","data":{"amount":"12.00"}}';
  const detail = {
    ...event,
    updatedAt: at(20),
    rawBody: { encoding: "utf-8", contentType: "application/json", text: body },
    conflicts: {
      count: 2,
      lastBodySha256: "3b7e1c0f6a9d2b4e8f1a3c5d7e9f0b2d4f6a8c0e2b4d6f8a0c2e4b6d8f0a2c4e",
      lastAt: at(25),
    },
    effects: [
      {
        id: 1,
        name: "forward",
        status: "failed",
        attempts: 2,
        lastError: "HTTP 502 from https://erp.example.internal/hooks/gateway/v1/payments",
        nextRetryAt: new Date(Date.now() + 240_000).toISOString(),
        history: [
          {
            at: at(45),
            outcome: "timeout",
            error: "no answer within 10000 ms",
            durationMs: 10_002,
            target: "https://erp.example.internal/hooks/gateway/v1/payments",
          },
          {
            at: at(25),
            outcome: "failed",
            error: "HTTP 502",
            durationMs: 184,
            httpStatus: 502,
            responseBody: `<html><body><h1>502 Bad Gateway</h1>${XSS_TEXT}${"upstream_connect_error ".repeat(18)}</body></html>`,
            target: "https://erp.example.internal/hooks/gateway/v1/payments",
          },
        ],
      },
      {
        id: 2,
        name: "payment-succeeded",
        status: "done",
        attempts: 1,
        lastError: null,
        nextRetryAt: null,
        history: [{ at: at(44), outcome: "done", durationMs: 12 }],
      },
    ],
  };
  // The API splices the stored payload in as text; a quarantined non-JSON body would be null.
  return JSON.stringify({ ...detail, payload: JSON.parse(body) });
}

const json = (route: Route, status: number, body: unknown) =>
  route.fulfill({
    status,
    contentType: "application/json",
    body: typeof body === "string" ? body : JSON.stringify(body),
  });

test("operator dashboard: sign in, see events, open one, replay it; v2 pieces; no overflow at 1280 and 390 px", {
  timeout: 240_000,
}, async (t) => {
  // CI installs Chromium; a machine without it fails here rather than passing untested.
  assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is not installed (apt-get install -y chromium)`);
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
  const longId = await send(gateway, "nova", {
    ...buildPayload("nova", "payment.succeeded", newStory({})),
    type: LONG_TYPE,
  });

  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
  const context = await browser.newContext({ viewport: WIDTHS[0] });
  const page = await context.newPage();
  const dialogs: string[] = [];
  const problems: string[] = [];
  page.on("dialog", (dialog) => {
    dialogs.push(dialog.message());
    void dialog.dismiss();
  });
  page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
  page.on("console", (message) => {
    // A CSP or Trusted Types violation or a script error shows up here; refused logins (401,
    // 503) and the v2 routes an older gateway lacks (400, 404) are expected.
    const expected = /favicon|Failed to load resource: the server responded with a status of (400|401|404|503)/;
    if (message.type() === "error" && !expected.test(`${message.text()} ${message.location().url}`)) {
      problems.push(`console: ${message.text()}`);
    }
  });

  const response = await page.goto(`${gateway.url}/dashboard`);
  assert.equal(response?.status(), 200);
  assert.match(response?.headers()["content-security-policy"] ?? "", /script-src 'nonce-/);
  // The stylesheet applied under the CSP (a refused one would leave the default white body).
  assert.equal(await page.evaluate("getComputedStyle(document.body).backgroundColor"), "rgb(244, 245, 247)");

  // A wrong token is refused, visibly, and not kept.
  await page.fill("#token", "not-the-admin-token");
  await page.click("#login-form button[type=submit]");
  await page.locator("#login-message", { hasText: "token rejected" }).waitFor();
  assert.equal(await page.isVisible("#app"), false);
  assert.equal(await page.evaluate("sessionStorage.length"), 0);
  await page.screenshot({ path: join(OUTPUT, "dashboard-login.png") });

  // A gateway without ADMIN_API_TOKEN answers 503: the page says what to do.
  await page.route("**/api/events?*", (route) =>
    json(route, 503, { error: { code: "admin_api_disabled", message: "set ADMIN_API_TOKEN" } }),
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
  for (const id of [novaId, nuveiId, xssId, longId]) await waitForRow(page, id);
  assert.deepEqual((await row.locator("td").allTextContents()).slice(1, 5), [
    "nuvouch",
    "nuvouch.approval.approved",
    "processed",
    "1",
  ]);

  // The hostile event type is text, not markup.
  const xssRow = page.locator(`#events-body tr[data-id="${xssId}"]`);
  assert.equal(await xssRow.locator("button.link").textContent(), XSS_TYPE);
  assert.equal(await page.locator("img").count(), 0);

  // The chart and the per-provider table counted the deliveries: counts, no rate for 3 events.
  await page.click("#refresh");
  const novaStats = page.locator("#stats-body tr", { hasText: "nova" }).locator("td");
  await until(async () => (await novaStats.allTextContents()).join(" | ") === "nova | 3 | 0 | 0 | 0 of 3");
  assert.ok((await page.locator("#chart svg rect.bar").count()) >= 3, "a bar per provider");
  assert.equal(await page.locator("#chart svg .rate-dot").count(), 0, "no rate drawn for a handful of events");
  assert.ok(await page.isVisible("#dead-empty"), "no dead letters");

  // Filters: only Nuvei.
  await page.selectOption("#filters select[name=provider]", "nuvei");
  await page.click("#filters button[type=submit]");
  await until(async () => {
    const rows = await page.locator("#events-body tr").allTextContents();
    return rows.length === 1 && rows[0]?.includes("nuvei");
  });
  await page.click("#filters-clear");
  await until(async () => (await page.locator("#events-body tr").count()) === 5);

  // Detail: payload pretty-printed, effects listed; then Replay.
  await row.click();
  await page.waitForSelector("#detail[open]");
  await page.locator("#payload", { hasText: "externalRequestId" }).waitFor();
  const payload = (await page.locator("#payload").textContent()) ?? "";
  assert.ok(payload.includes(`"externalRequestId": "${story.externalRequestId}"`), payload);
  assert.ok(payload.split("\n").length > 5, "the payload is pretty-printed");
  assert.match((await page.locator("#effects").textContent()) ?? "", /approval-approved/);

  await page.click("#replay");
  await page.locator("#replay-message", { hasText: "replay queued" }).waitFor();
  assert.equal(await page.locator("#replay-message").textContent(), "replay queued");
  await page.screenshot({ path: join(OUTPUT, "dashboard.png") });
  await page.click("#detail-close");

  // ---- contract v2 pieces, from fixtures (the routes are built in parallel) ---------------
  const bulkRequests: unknown[] = [];
  await page.route("**/api/rejections?*", (route) => json(route, 200, REJECTIONS));
  await page.route(/\/api\/events\?.*status=quarantined/, (route) => json(route, 200, quarantinedList()));
  await page.route(`**/api/events/${QUARANTINED_ID}`, (route) => json(route, 200, quarantinedDetail()));
  await page.route("**/api/events/replay", (route) => {
    bulkRequests.push(route.request().postDataJSON());
    return json(route, 202, { replayed: 2 });
  });
  await page.click("#refresh");
  await page.locator(`#quarantined-body tr[data-id="${QUARANTINED_ID}"]`).waitFor();
  const refusal = page.locator("#rejections-list li").first();
  await refusal.waitFor();
  assert.equal(await refusal.locator(".refusal-head").textContent(), "nova401 signature_invalid1312");
  assert.match(
    (await refusal.locator(".refusal-last").textContent()) ?? "",
    /^last \d\d:\d\d:\d\dno signature matches \(2 v1 entries checked\)$/,
  );
  assert.equal(
    await page.locator("#rejections-list .reason", { hasText: "timestamp 412 s old" }).textContent(),
    `timestamp 412 s old ${XSS_TEXT}`,
  );
  assert.equal(await page.textContent("#quarantined-count"), "2 shown");
  assert.equal(await page.locator("img, #app script").count(), 0);

  for (const viewport of WIDTHS) {
    const label = `${viewport.width} px`;
    await page.setViewportSize(viewport);
    await page.click("#refresh");
    await page.locator(`#quarantined-body tr[data-id="${QUARANTINED_ID}"]`).waitFor();
    // The chart is redrawn at the card's new width (clamped to 300–900 px) before the screenshot.
    await page.waitForFunction(`(() => {
      const box = document.getElementById("chart");
      const width = Number(box.querySelector("svg")?.getAttribute("width"));
      return Math.abs(width - Math.min(900, Math.max(300, box.clientWidth))) <= 8;
    })()`);
    await page.screenshot({ path: join(OUTPUT, `dashboard-${viewport.width}.png`), fullPage: true });
    await assertNoOverflow(page, `${label} overview`);
    await assertTypesOnOneLine(page, label);

    // The quarantined event's detail: conflicts, attempt history, next retry, raw body.
    await page.locator(`#quarantined-body tr[data-id="${QUARANTINED_ID}"]`).click();
    await page.locator("#raw-body", { hasText: '"amount":"12.00"' }).waitFor();
    assert.equal(await page.isVisible("#conflicts"), true);
    assert.match((await page.textContent("#conflicts-meta")) ?? "", /3b7e1c0f6a9d2b4e8f1a3c5d7e9f0b2d4f6a8c0e/);
    const forward = page.locator('#effects article[data-effect="forward"]');
    assert.equal(await forward.locator("ol.history li").count(), 2);
    assert.match(
      (await forward.locator(".next-retry").textContent()) ?? "",
      /^next retry \d\d:\d\d:\d\d \(in 4 min\)$/,
    );
    assert.match((await forward.locator("ol.history li").nth(1).textContent()) ?? "", /failedHTTP 502184 ms/);
    assert.ok(
      ((await forward.locator("pre.snippet").textContent()) ?? "").includes(XSS_TEXT),
      "response shown as text",
    );
    assert.equal(await page.locator("#detail img, #detail script").count(), 0);
    assert.equal(await page.textContent("#raw-format"), "utf-8 · application/json");
    await page.screenshot({ path: join(OUTPUT, `dashboard-detail-${viewport.width}.png`) });
    await page.locator("#effects").scrollIntoViewIfNeeded();
    await page.screenshot({ path: join(OUTPUT, `dashboard-detail-effects-${viewport.width}.png`) });
    await page.locator("#payload").scrollIntoViewIfNeeded();
    await page.screenshot({ path: join(OUTPUT, `dashboard-detail-body-${viewport.width}.png`) });
    await assertNoOverflow(page, `${label} detail`);
    await page.click("#detail-close");
  }

  // "Replay all shown": a confirmation first; Cancel sends nothing.
  await page.setViewportSize(WIDTHS[0]);
  await page.click("#quarantined-replay-all");
  await page.waitForSelector("#confirm[open]");
  assert.equal(await page.textContent("#confirm-title"), "Replay all quarantined events?");
  assert.match((await page.textContent("#confirm-text")) ?? "", /\(2 shown\)/);
  await page.click("#confirm-cancel");
  await page.waitForSelector("#confirm", { state: "hidden" });
  assert.deepEqual(bulkRequests, []);
  await page.click("#quarantined-replay-all");
  await page.click("#confirm-ok");
  await page.locator("#quarantined-message", { hasText: "2 events queued for replay" }).waitFor();
  assert.deepEqual(bulkRequests, [{ status: "quarantined" }]);

  // From the events list it takes the current filter; a filter the API cannot express hides it.
  await page.selectOption("#filters select[name=provider]", "nova");
  await page.selectOption("#filters select[name=status]", "quarantined");
  await page.click("#filters button[type=submit]");
  await page.locator(`#events-body tr[data-id="${QUARANTINED_ID}"]`).waitFor();
  await page.click("#events-replay-all");
  assert.equal(await page.textContent("#confirm-title"), "Replay all quarantined events from nova?");
  await page.click("#confirm-ok");
  await page.locator("#events-message", { hasText: "2 events queued for replay" }).waitFor();
  assert.deepEqual(bulkRequests[1], { status: "quarantined", provider: "nova" });
  await page.fill("#filters input[name=type]", "payment.succeeded");
  await page.click("#filters button[type=submit]");
  await until(async () => !(await page.isVisible("#events-replay-all")));
  await page.click("#filters-clear");

  // ---- an older gateway: the v2 routes answer 404/400, and the page says so calmly ----------
  await page.unrouteAll();
  await page.route("**/api/rejections?*", (route) => json(route, 404, { error: { code: "not_found" } }));
  await page.route(/\/api\/events\?.*status=quarantined/, (route) =>
    json(route, 400, { error: { code: "invalid_query", message: "status: invalid option" } }),
  );
  await page.route("**/api/events/replay", (route) => json(route, 404, { error: { code: "not_found" } }));
  await page.click("#refresh");
  await page.waitForSelector("#rejections-unavailable", { state: "visible" });
  await page.waitForSelector("#quarantined-unavailable", { state: "visible" });
  assert.equal(await page.isVisible("#quarantined-table"), false);
  assert.equal(await page.isVisible("#quarantined-replay-all"), false);
  assert.equal(await page.textContent("#app-message"), "", "no error for what the gateway does not offer");
  await page.unrouteAll();

  // ---- the same pieces from this gateway's own API, with nothing served from fixtures -----------
  // A signed delivery the gateway cannot read (a type with a space) is quarantined, and forged ones
  // are refused and counted; both reach the page through the real routes.
  const unreadable = JSON.stringify({ eventId: `evt_dash_quarantined_${Date.now()}`, type: "has a space" });
  const kept = await fetch(`${gateway.url}/webhooks/nova`, {
    method: "POST",
    body: unreadable,
    headers: {
      "content-type": "application/json",
      ...signatureHeaders(
        "nova",
        new TextEncoder().encode(unreadable),
        gateway.secrets[simulators.nova.secretBinding] as string,
        Math.floor(Date.now() / 1000),
      ),
    },
  });
  assert.equal(kept.status, 202);
  const quarantinedId = ((await kept.json()) as { id: string }).id;
  for (let i = 0; i < 3; i++) {
    const forged = await fetch(`${gateway.url}/webhooks/nuvei`, {
      method: "POST",
      body: "{}",
      headers: {
        "x-authentication-timestamp": String(Math.floor(Date.now() / 1000)),
        "x-authentication-digest": btoa("x".repeat(32)),
      },
    });
    assert.equal(forged.status, 401);
  }
  const realRefusal = page.locator("#rejections-list li", { hasText: "nuvei" });
  await until(async () => {
    await page.click("#refresh");
    await page.waitForTimeout(500);
    return (
      (await page.locator(`#quarantined-body tr[data-id="${quarantinedId}"]`).count()) === 1 &&
      (await realRefusal.count()) > 0 &&
      ((await realRefusal.first().textContent()) ?? "").includes("no signature matches")
    );
  }, 30_000);
  await page.screenshot({ path: join(OUTPUT, "dashboard-real-v2-pieces.png"), fullPage: true });

  // Log out forgets the token.
  await page.click("#logout");
  await page.waitForSelector("#login", { state: "visible" });
  assert.equal(await page.evaluate(`sessionStorage.getItem("${TOKEN_KEY}")`), null);

  assert.deepEqual(dialogs, [], "no script from a payload ran");
  assert.deepEqual(problems, []);
});
