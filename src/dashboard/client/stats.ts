// The traffic card: events per bucket and provider as stacked bars, the failure rate where a
// bucket has enough events for a rate to mean something, and the per-provider totals as counts.
import { api } from "./api";
import type { Ctx } from "./context";
import { $, type Child, el, providerClass, providerLabel, svg } from "./dom";
import { bucketGrid, failureSummary, hhmm, niceMax, pct, RATE_MIN_BUCKET_EVENTS, ratedCells } from "./format";
import type { Stats } from "./types";

/** Drawn at the card's own width so labels keep their size on a phone; never narrower than this. */
const MIN_CHART_WIDTH = 300;
const MAX_CHART_WIDTH = 900;

function chart(providers: readonly string[], stats: Stats, width: number): SVGSVGElement {
  const { from, to, step, cells } = bucketGrid(stats);
  const W = Math.round(Math.min(MAX_CHART_WIDTH, Math.max(MIN_CHART_WIDTH, width)));
  const H = W < 500 ? 190 : 230;
  const L = 34;
  const R = 40;
  const T = 12;
  const B = 26;
  const pw = W - L - R;
  const ph = H - T - B;
  const max = niceMax(Math.max(...cells.map((cell) => cell.total)));
  const bw = pw / cells.length;
  const gap = bw > 4 ? Math.min(3, bw * 0.2) : 0;
  const unit = stats.bucketSeconds === 60 ? "minute" : `${stats.bucketSeconds / 60} minutes`;
  const root = svg("svg", {
    class: "chart",
    viewBox: `0 0 ${W} ${H}`,
    width: W,
    height: H,
    role: "img",
    "aria-label": `Events per ${unit} by provider, with the failure rate`,
  });
  for (let k = 0; k <= 4; k++) {
    const y = T + ph - (ph * k) / 4;
    root.append(svg("line", { class: k ? "grid" : "baseline", x1: L, x2: L + pw, y1: y, y2: y }));
    root.append(svg("text", { class: "axis", x: L - 6, y: y + 3.5, "text-anchor": "end" }, Math.round((max * k) / 4)));
    root.append(svg("text", { class: "axis rate", x: L + pw + 6, y: y + 3.5 }, `${k * 25}%`));
  }
  cells.forEach((cell, index) => {
    const x = L + index * bw + gap / 2;
    let top = T + ph;
    for (const provider of providers) {
      const count = cell.byProvider.get(provider) ?? 0;
      if (!count) continue;
      const h = (ph * count) / max;
      top -= h;
      root.append(
        svg(
          "rect",
          {
            class: `bar ${providerClass(providers, provider)}`,
            x: x.toFixed(2),
            y: top.toFixed(2),
            width: Math.max(1, bw - gap).toFixed(2),
            height: h.toFixed(2),
          },
          svg("title", null, `${hhmm(cell.start)} · ${provider}: ${count}`),
        ),
      );
    }
    // Failures in a bucket too small for a rate are marked, with their counts, above the bar.
    if (cell.failed && cell.total < RATE_MIN_BUCKET_EVENTS) {
      root.append(
        svg(
          "circle",
          { class: "fail-mark", cx: (L + (index + 0.5) * bw).toFixed(1), cy: (top - 4).toFixed(1), r: 2.4 },
          svg("title", null, `${hhmm(cell.start)} · ${cell.failed} failed of ${cell.total}`),
        ),
      );
    }
  });
  const points = ratedCells(cells).map(({ index, rate, cell }) => ({
    x: L + (index + 0.5) * bw,
    y: T + ph - ph * rate,
    rate,
    cell,
  }));
  if (points.length > 1) {
    root.append(
      svg("polyline", {
        class: "rate-line",
        points: points.map((p) => `${p.x.toFixed(1)},${p.y.toFixed(1)}`).join(" "),
      }),
    );
  }
  for (const p of points) {
    root.append(
      svg(
        "circle",
        { class: "rate-dot", cx: p.x.toFixed(1), cy: p.y.toFixed(1), r: 2.6 },
        svg("title", null, `${hhmm(p.cell.start)} · failure rate ${pct(p.rate)} (${p.cell.failed} of ${p.cell.total})`),
      ),
    );
  }
  // Time labels on round clock times, as many as fit.
  const maxTicks = Math.max(2, Math.floor(pw / 56));
  const tickMinutes =
    [1, 2, 5, 10, 15, 30, 60, 120, 180, 360].find(
      (m) => m * 60_000 >= step && (to - from) / (m * 60_000) <= maxTicks,
    ) ?? 360;
  const tickMs = tickMinutes * 60_000;
  for (let at = Math.ceil(from / tickMs) * tickMs; at <= to; at += tickMs) {
    const tx = L + ((at - from) / (to - from)) * pw;
    root.append(svg("text", { class: "axis", x: tx.toFixed(1), y: H - 8, "text-anchor": "middle" }, hhmm(at)));
  }
  if (!stats.buckets.length) {
    root.append(
      svg(
        "text",
        { class: "nodata", x: L + pw / 2, y: T + ph / 2, "text-anchor": "middle" },
        "No events in this window",
      ),
    );
  }
  return root;
}

export class StatsCard {
  window = "1h";
  private stats: Stats | null = null;
  private gen = 0;
  private drawnWidth = 0;

  constructor(private readonly ctx: Ctx) {
    // Redrawn at the new width when the card is resized (a rotated phone, a resized window).
    new ResizeObserver(() => {
      if (this.stats && Math.abs(this.chartWidth() - this.drawnWidth) > 8) this.drawChart(this.stats);
    }).observe($("chart"));
  }

  clear(): void {
    this.gen++;
    this.stats = null;
    for (const id of ["chart", "legend", "stats-body"]) $(id).replaceChildren();
    $("stats-range").textContent = "";
  }

  async load(): Promise<void> {
    const gen = ++this.gen;
    const result = await api<Stats>(`/api/stats?window=${encodeURIComponent(this.window)}`);
    if (gen === this.gen) this.render(result.body);
  }

  private chartWidth(): number {
    return $("chart").clientWidth;
  }

  private drawChart(stats: Stats): void {
    this.drawnWidth = this.chartWidth();
    $("chart").replaceChildren(chart(this.ctx.providers, stats, this.drawnWidth));
  }

  private render(stats: Stats): void {
    this.stats = stats;
    this.ctx.providers = stats.providers.map((p) => p.provider);
    const providers = this.ctx.providers;
    this.drawChart(stats);
    const unit = stats.bucketSeconds === 60 ? "minute" : `${stats.bucketSeconds / 60} minutes`;
    const key = (...children: Child[]) => el("span", { class: "key" }, ...children);
    $("legend").replaceChildren(
      ...providers.map((p) => key(el("span", { class: `sw ${providerClass(providers, p)}` }), p)),
      key(
        el("span", { class: "sw rate" }),
        `failure rate (retrying + dead) where a bar has ≥ ${RATE_MIN_BUCKET_EVENTS} events`,
      ),
      key(el("span", { class: "sw fail" }), "failures where it has fewer"),
      key(`one bar per ${unit}`),
    );
    $("stats-range").textContent = `${hhmm(Date.parse(stats.from))}–${hhmm(Date.parse(stats.to))}`;
    $("stats-body").replaceChildren(
      ...stats.providers.map((p) =>
        el(
          "tr",
          null,
          el("td", null, providerLabel(providers, p.provider)),
          el("td", { class: "num" }, p.total),
          el("td", { class: "num" }, p.retrying),
          el("td", { class: "num" }, p.dead),
          el("td", { class: "num failed" }, failureSummary(p.retrying + p.dead, p.total)),
        ),
      ),
    );
  }
}
