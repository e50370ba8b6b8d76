// The operator dashboard's browser code, bundled by scripts/build-dashboard.ts (with
// dashboard.css) and served by the Worker as files under the page's CSP (src/dashboard/index.tsx).
// The page (page.tsx) is a static shell; everything shown comes from the operator API with the
// operator's token.
import { ApiError, api, endsSession } from "./api";
import { browserNow } from "./clock";
import type { Ctx } from "./context";
import { Detail } from "./detail";
import { $, setMessage } from "./dom";
import { fmtTime } from "./format";
import { EventList, type Filters } from "./lists";
import { RejectionsPanel } from "./rejections";
import { forgetToken, getToken, isPlausibleToken, saveToken } from "./session";
import { StatsCard } from "./stats";

const AUTO_REFRESH_MS = 10_000;
const FILTER_NAMES = ["provider", "type", "status", "dedupeKey"] as const;

let filters: Filters = {};
let timer: ReturnType<typeof setTimeout> | undefined;

/** The providers in the filter's order (the page lists them), so colours match before the stats arrive. */
function pageProviders(): string[] {
  const select = $<HTMLFormElement>("filters").elements.namedItem("provider");
  return select instanceof HTMLSelectElement ? [...select.options].map((o) => o.value).filter(Boolean) : [];
}

const ctx: Ctx = {
  now: browserNow,
  providers: pageProviders(),
  fail(error, where) {
    if (endsSession(error)) {
      logout((error as ApiError).message);
      return;
    }
    const message = error instanceof Error ? error.message : String(error);
    setMessage(where ?? $("app-message"), message, "error");
  },
  openDetail: (id) => detail.open(id),
  refresh: () => void refreshAll(false),
};

const detail = new Detail(ctx);
const stats = new StatsCard(ctx);
const rejections = new RejectionsPanel(ctx);
const dead = new EventList(ctx, { name: "dead", pageSize: 20, filters: () => ({ status: "dead" }) });
const quarantined = new EventList(ctx, {
  name: "quarantined",
  pageSize: 20,
  filters: () => ({ status: "quarantined" }),
  optional: true,
});
const events = new EventList(ctx, { name: "events", pageSize: 50, filters: () => filters });
const lists = [dead, quarantined, events];

// ---- session -------------------------------------------------------------------------

function showApp(signedIn: boolean): void {
  $("login").hidden = signedIn;
  $("app").hidden = !signedIn;
  $("session").hidden = !signedIn;
}

function logout(message?: string): void {
  forgetToken();
  stopTimer();
  for (const list of lists) list.clear();
  stats.clear();
  rejections.clear();
  detail.close();
  setMessage($("app-message"));
  showApp(false);
  setMessage($("login-message"), message ?? "Signed out.", message ? "error" : "info");
  const token = $<HTMLInputElement>("token");
  token.value = "";
  token.focus();
}

$("login-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const input = $<HTMLInputElement>("token");
  const token = input.value.trim();
  const message = $("login-message");
  if (!token) return setMessage(message, "Enter the operator token.");
  if (!isPlausibleToken(token)) {
    return setMessage(message, "token rejected: a bearer token is printable ASCII without spaces");
  }
  setMessage(message, "Checking the token…", "info");
  api("/api/events?limit=1", { token }).then(
    () => {
      saveToken(token);
      input.value = "";
      setMessage(message);
      showApp(true);
      void refreshAll(true);
    },
    (error) => setMessage(message, error instanceof ApiError ? error.message : String(error)),
  );
});
$("logout").addEventListener("click", () => logout());

// ---- filters and window --------------------------------------------------------------

function readFilters(): Filters {
  const form = $<HTMLFormElement>("filters");
  const read: Filters = {};
  for (const name of FILTER_NAMES) {
    const field = form.elements.namedItem(name);
    const value = field instanceof HTMLInputElement || field instanceof HTMLSelectElement ? field.value.trim() : "";
    if (value) read[name] = value;
  }
  return read;
}

$("filters").addEventListener("submit", (event) => {
  event.preventDefault();
  filters = readFilters();
  setMessage($("app-message"));
  setMessage($("events-message"));
  events.load(false).catch((error) => ctx.fail(error));
});
$("filters").addEventListener("reset", () => {
  filters = {};
  setMessage($("events-message"));
  // The form's fields are reset after this event; load once they are.
  setTimeout(() => events.load(false).catch((error) => ctx.fail(error)), 0);
});

$("window").addEventListener("change", (event) => {
  stats.window = (event.target as HTMLSelectElement).value;
  stats.load().catch((error) => ctx.fail(error));
  rejections.load(stats.window).catch((error) => ctx.fail(error));
});

// ---- refresh -------------------------------------------------------------------------

async function refreshAll(reset: boolean): Promise<void> {
  if (!getToken()) return;
  const loads: Promise<void>[] = [stats.load(), rejections.load(stats.window)];
  // Auto-refresh leaves a list alone once the operator paged into it.
  for (const list of lists) if (reset || list.pages <= 1) loads.push(list.load(false));
  const failures = (await Promise.allSettled(loads)).flatMap((r) => (r.status === "rejected" ? [r.reason] : []));
  const fatal = failures.find(endsSession);
  if (fatal) return ctx.fail(fatal);
  if (failures.length) ctx.fail(failures[0]);
  else if ($("app-message").classList.contains("error")) setMessage($("app-message"));
  const nowMs = ctx.now();
  $("updated").textContent = `updated ${fmtTime(new Date(nowMs).toISOString(), nowMs)}`;
  startTimer();
}

function stopTimer(): void {
  if (timer !== undefined) clearTimeout(timer);
  timer = undefined;
}

function startTimer(): void {
  stopTimer();
  if (!$<HTMLInputElement>("auto").checked || !getToken()) return;
  timer = setTimeout(() => {
    // Nothing moves under an operator reading a detail or a hidden tab.
    if (document.visibilityState === "hidden" || detail.isOpen) startTimer();
    else void refreshAll(false);
  }, AUTO_REFRESH_MS);
}

$("refresh").addEventListener("click", () => void refreshAll(true));
$("auto").addEventListener("change", startTimer);

if (getToken()) {
  showApp(true);
  void refreshAll(true);
} else {
  showApp(false);
  $("token").focus();
}
