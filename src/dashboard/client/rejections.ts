// Refused deliveries (401, 400, 405, 413, 415) per provider and code with the last reason,
// beside the traffic chart: a bad secret rotation shows here, not only in the logs.
import { api, isUnsupported } from "./api";
import type { Ctx } from "./context";
import { $, el, providerLabel } from "./dom";
import { fmtTime, rejectionWindow } from "./format";
import type { Rejection, Rejections } from "./types";

/** One (provider, code) line: a list rather than a table, so it fits beside the chart and on a phone. */
function item(ctx: Ctx, r: Rejection): HTMLLIElement {
  return el(
    "li",
    { class: "refusal" },
    el(
      "div",
      { class: "refusal-head" },
      providerLabel(ctx.providers, r.provider),
      el("code", { class: "refusal-code" }, typeof r.status === "number" ? `${r.status} ${r.code}` : r.code),
      el("span", { class: "refusal-count", title: "refused deliveries" }, r.count),
    ),
    el(
      "div",
      { class: "refusal-last" },
      el("span", { class: "time", title: r.lastAt ?? "" }, `last ${fmtTime(r.lastAt, ctx.now())}`),
      el("span", { class: "reason" }, r.lastReason ?? "no reason recorded"),
    ),
  );
}

export class RejectionsPanel {
  private gen = 0;

  constructor(private readonly ctx: Ctx) {}

  clear(): void {
    this.gen++;
    $("rejections-list").replaceChildren();
  }

  async load(statsWindow: string): Promise<void> {
    const gen = ++this.gen;
    const window = rejectionWindow(statsWindow);
    try {
      const result = await api<Rejections>(`/api/rejections?window=${window}`);
      if (gen !== this.gen) return;
      const rejections = Array.isArray(result.body?.rejections) ? [...result.body.rejections] : [];
      rejections.sort((a, b) => a.provider.localeCompare(b.provider) || b.count - a.count);
      $("rejections-list").replaceChildren(...rejections.map((r) => item(this.ctx, r)));
      $("rejections-range").textContent = `last ${window}`;
      $("rejections-list").hidden = rejections.length === 0;
      $("rejections-empty").hidden = rejections.length > 0;
      $("rejections-unavailable").hidden = true;
    } catch (error) {
      if (gen !== this.gen) return;
      if (!isUnsupported(error)) throw error;
      $("rejections-list").replaceChildren();
      $("rejections-range").textContent = "";
      $("rejections-list").hidden = true;
      $("rejections-empty").hidden = true;
      $("rejections-unavailable").hidden = false;
    }
  }
}
