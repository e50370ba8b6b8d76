// The event lists: dead letters, quarantined, and recent events with filters. Each fills the
// `<name>-…` elements of an EventTable (page.tsx).
import { api, isUnsupported } from "./api";
import { replayAllShown } from "./bulk";
import type { Ctx } from "./context";
import { $, badge, el, providerLabel, setMessage } from "./dom";
import { fmtTime } from "./format";
import type { ApiEvent, BulkStatus, EventPage } from "./types";

export type Filters = Partial<Record<"provider" | "type" | "status" | "dedupeKey", string>>;

export interface ListSpec {
  /** The id prefix of the list's elements in page.tsx. */
  name: string;
  pageSize: number;
  filters: () => Filters;
  /** A list the gateway may not know yet (contract v2): hidden with a note instead of an error. */
  optional?: boolean;
}

function eventRow(ctx: Ctx, event: ApiEvent): HTMLTableRowElement {
  const row = el(
    "tr",
    { class: "row", "data-id": event.id },
    el("td", { class: "time", title: event.receivedAt }, fmtTime(event.receivedAt, ctx.now())),
    el("td", { class: "provider" }, providerLabel(ctx.providers, event.provider)),
    el("td", { class: "type" }, el("button", { type: "button", class: "link", title: event.id }, event.type)),
    el("td", { class: "status" }, badge(event.status)),
    el("td", { class: "num attempts", "data-label": "attempts" }, event.attempts),
    el("td", { class: event.lastError ? "err" : "err none", title: event.lastError ?? "" }, event.lastError ?? "—"),
  );
  row.addEventListener("click", () => ctx.openDetail(event.id));
  return row;
}

/** The bulk-replay request a filter describes, or null when the filter is narrower than the API's. */
export function bulkFilter(filters: Filters): { status: BulkStatus; provider?: string } | null {
  const { status, provider, type, dedupeKey } = filters;
  if ((status !== "dead" && status !== "quarantined") || type || dedupeKey) return null;
  return provider ? { status, provider } : { status };
}

export class EventList {
  private cursor: string | null = null;
  /** Pages loaded; auto-refresh leaves a list alone once the operator paged into it. */
  pages = 0;
  /** Bumped by every fresh load, so an older answer arriving late is dropped. */
  private gen = 0;
  private readonly part: (suffix: string) => HTMLElement;

  constructor(
    private readonly ctx: Ctx,
    private readonly spec: ListSpec,
  ) {
    this.part = (suffix) => $(`${spec.name}-${suffix}`);
    this.part("more").addEventListener("click", () => {
      this.load(true).catch((error) => ctx.fail(error));
    });
    this.part("replay-all").addEventListener("click", () => {
      const bulk = bulkFilter(this.spec.filters());
      if (!bulk) return;
      const shown = this.part("body").children.length;
      replayAllShown(this.ctx, { ...bulk, shown, more: this.cursor !== null }, this.part("message")).catch((error) =>
        ctx.fail(error),
      );
    });
  }

  clear(): void {
    this.gen++;
    this.cursor = null;
    this.pages = 0;
    this.part("body").replaceChildren();
    this.part("count").textContent = "";
    setMessage(this.part("message"));
  }

  async load(append: boolean): Promise<void> {
    const params = new URLSearchParams();
    for (const [key, value] of Object.entries(this.spec.filters())) if (value) params.set(key, value);
    params.set("limit", String(this.spec.pageSize));
    if (append) {
      if (!this.cursor) return;
      params.set("cursor", this.cursor);
    } else {
      this.gen++;
    }
    const gen = this.gen;
    const more = this.part("more") as HTMLButtonElement;
    more.disabled = true;
    try {
      const result = await api<EventPage>(`/api/events?${params}`);
      if (gen !== this.gen) return;
      this.show(result.body, append);
    } catch (error) {
      if (gen !== this.gen) return;
      if (this.spec.optional && isUnsupported(error)) {
        this.unavailable();
        return;
      }
      throw error;
    } finally {
      more.disabled = false;
    }
  }

  private show(page: EventPage, append: boolean): void {
    const body = this.part("body");
    const events = Array.isArray(page?.events) ? page.events : [];
    if (!append) body.replaceChildren();
    for (const event of events) body.append(eventRow(this.ctx, event));
    this.cursor = typeof page?.nextCursor === "string" ? page.nextCursor : null;
    this.pages = append ? this.pages + 1 : 1;
    const rows = body.children.length;
    this.part("more").hidden = !this.cursor;
    this.part("empty").hidden = rows > 0;
    this.part("table").hidden = rows === 0;
    this.part("unavailable").hidden = true;
    this.part("count").textContent = rows ? `${rows}${this.cursor ? "+" : ""} shown` : "";
    this.part("replay-all").hidden = rows === 0 || bulkFilter(this.spec.filters()) === null;
  }

  private unavailable(): void {
    this.cursor = null;
    this.part("body").replaceChildren();
    for (const suffix of ["table", "empty", "more", "replay-all"]) this.part(suffix).hidden = true;
    this.part("count").textContent = "";
    this.part("unavailable").hidden = false;
  }
}
