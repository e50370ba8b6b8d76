// The event detail dialog: the event, its conflicts, each effect with its attempt history and
// next retry, the quarantined raw body, the payload, and a single replay.
import { type ApiResult, api } from "./api";
import type { Ctx } from "./context";
import { $, badge, type Child, el, setMessage } from "./dom";
import { fmtDuration, fmtTime, relative } from "./format";
import { prettyJson, rawMember } from "./json";
import type { Attempt, Conflicts, Effect, EventDetail, RawBody } from "./types";

/** The consumer picks a replay up within seconds; reload the detail once it had time to run. */
const RELOAD_AFTER_REPLAY_MS = 2500;

const present = (value: unknown) => value !== null && value !== undefined && value !== "";

function attemptItem(attempt: Attempt, nowMs: number): HTMLLIElement {
  const duration = fmtDuration(attempt.durationMs);
  return el(
    "li",
    { class: "attempt" },
    el(
      "div",
      { class: "attempt-head" },
      el("span", { class: "time", title: attempt.at }, fmtTime(attempt.at, nowMs)),
      badge(String(attempt.outcome)),
      present(attempt.httpStatus) && el("span", { class: "http" }, `HTTP ${attempt.httpStatus}`),
      duration ? el("span", { class: "hint" }, duration) : null,
      present(attempt.target) && el("span", { class: "target", title: attempt.target ?? "" }, attempt.target ?? ""),
    ),
    present(attempt.error) && el("p", { class: "err-line" }, attempt.error ?? ""),
    present(attempt.responseBody) &&
      el("pre", { class: "snippet", "aria-label": "response body (first 512 bytes)" }, attempt.responseBody ?? ""),
  );
}

function effectCard(effect: Effect, nowMs: number): HTMLElement {
  const history = Array.isArray(effect.history) ? effect.history : null;
  const next = effect.nextRetryAt;
  return el(
    "article",
    { class: "effect", "data-effect": effect.name },
    el(
      "div",
      { class: "effect-head" },
      el("span", { class: "effect-name" }, effect.name),
      badge(String(effect.status)),
      el("span", { class: "hint" }, `${effect.attempts} ${effect.attempts === 1 ? "attempt" : "attempts"}`),
      present(next) &&
        el(
          "span",
          { class: "next-retry", title: next ?? "" },
          `next retry ${fmtTime(next, nowMs)} (${relative(next ?? "", nowMs)})`,
        ),
    ),
    present(effect.lastError) && el("p", { class: "err-line" }, effect.lastError ?? ""),
    history === null
      ? null
      : history.length === 0
        ? el("p", { class: "empty" }, "No attempts recorded yet.")
        : el(
            "ol",
            { class: "history", "aria-label": `attempts of ${effect.name}, oldest first` },
            ...history.map((attempt) => attemptItem(attempt, nowMs)),
          ),
  );
}

function definitions(fields: readonly [string, Child][]): Node[] {
  return fields.flatMap(([name, value]) => [el("dt", null, name), el("dd", null, present(value) ? value : "—")]);
}

function conflictSummary(conflicts: Conflicts | null | undefined): Child {
  if (!conflicts) return null;
  return conflicts.count ? `${conflicts.count} (see below)` : "none";
}

export class Detail {
  private id: string | null = null;
  /** Bumped on open and close, so an answer for an event no longer shown is dropped. */
  private gen = 0;

  constructor(private readonly ctx: Ctx) {
    $("detail-close").addEventListener("click", () => $<HTMLDialogElement>("detail").close());
    $("detail").addEventListener("close", () => {
      this.id = null;
      this.gen++;
    });
    $("replay").addEventListener("click", () => {
      this.replay().catch((error) => ctx.fail(error, $("replay-message")));
    });
  }

  get isOpen(): boolean {
    return $<HTMLDialogElement>("detail").open;
  }

  close(): void {
    this.clear();
    if (this.isOpen) $<HTMLDialogElement>("detail").close();
  }

  open(id: string): void {
    this.id = id;
    this.clear();
    $("detail-title").textContent = "Loading…";
    ($("replay") as HTMLButtonElement).disabled = false;
    const dialog = $<HTMLDialogElement>("detail");
    if (!dialog.open) dialog.showModal();
    this.load(id).catch((error) => this.ctx.fail(error, $("detail-message")));
  }

  private clear(): void {
    this.gen++;
    for (const id of ["detail-meta", "effects", "conflicts-meta"]) $(id).replaceChildren();
    for (const id of ["payload", "raw-body", "raw-format"]) $(id).textContent = "";
    for (const id of ["effects-empty", "conflicts", "raw", "payload-section"]) $(id).hidden = true;
    setMessage($("detail-message"));
    setMessage($("replay-message"));
  }

  private async load(id: string): Promise<void> {
    const gen = ++this.gen;
    const result = await api<EventDetail>(`/api/events/${encodeURIComponent(id)}`);
    if (gen === this.gen) this.render(result);
  }

  private render(result: ApiResult<EventDetail>): void {
    const event = result.body;
    $("detail-title").textContent = event.type;
    $("detail-meta").replaceChildren(
      ...definitions([
        ["id", event.id],
        ["provider", event.provider],
        ["type", event.type],
        ["status", badge(String(event.status))],
        ["attempts", event.attempts],
        ["dedupe key", event.dedupeKey],
        ["received", event.receivedAt],
        ["occurred", event.occurredAt],
        ["updated", event.updatedAt],
        ["last error", event.lastError],
        ...(event.conflicts ? [["conflicts", conflictSummary(event.conflicts)] as [string, Child]] : []),
      ]),
    );
    this.renderConflicts(event.conflicts);
    const effects = Array.isArray(event.effects) ? event.effects : [];
    const now = this.ctx.now();
    $("effects").replaceChildren(...effects.map((effect) => effectCard(effect, now)));
    $("effects-empty").hidden = effects.length > 0;
    this.renderRawBody(event.rawBody);
    this.renderPayload(result.text, event);
  }

  private renderConflicts(conflicts: Conflicts | null | undefined): void {
    $("conflicts").hidden = !conflicts?.count;
    if (!conflicts?.count) return;
    $("conflicts-meta").replaceChildren(
      ...definitions([
        ["deliveries", conflicts.count],
        ["last at", conflicts.lastAt],
        ["last body SHA-256", conflicts.lastBodySha256],
      ]),
    );
  }

  private renderRawBody(raw: RawBody | null | undefined): void {
    $("raw").hidden = !raw;
    if (!raw) return;
    $("raw-format").textContent = `${raw.encoding}${raw.contentType ? ` · ${raw.contentType}` : ""}`;
    $("raw-body").textContent = raw.text;
  }

  private renderPayload(text: string, event: EventDetail): void {
    let raw: string | null = null;
    try {
      raw = rawMember(text, "payload");
    } catch {
      raw = null;
    }
    // A quarantined body that is not JSON has payload null: its raw body above says it all.
    if ((raw === null && event.payload === undefined) || (raw === "null" && event.rawBody)) return;
    $("payload-section").hidden = false;
    $("payload").textContent = raw === null ? JSON.stringify(event.payload, null, 2) : prettyJson(raw);
  }

  private async replay(): Promise<void> {
    const id = this.id;
    if (!id) return;
    const button = $("replay") as HTMLButtonElement;
    button.disabled = true;
    setMessage($("replay-message"), "Queueing replay…", "info");
    try {
      await api(`/api/events/${encodeURIComponent(id)}/replay`, { method: "POST" });
      if (this.id !== id) return;
      setMessage($("replay-message"), "replay queued", "ok");
      setTimeout(() => {
        if (this.id === id) this.load(id).catch((error) => this.ctx.fail(error, $("detail-message")));
        this.ctx.refresh();
      }, RELOAD_AFTER_REPLAY_MS);
    } finally {
      button.disabled = false;
    }
  }
}
