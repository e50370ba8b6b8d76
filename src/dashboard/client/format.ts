// Pure formatting and chart arithmetic: no DOM, so Vitest checks it in workerd as well.
import type { Stats } from "./types";

/** Below this many events a failure rate says nothing (one failure of two is "50 %"): show counts only. */
export const RATE_MIN_EVENTS = 20;
/** A chart bucket needs this many events before its failure rate is drawn on the line. */
export const RATE_MIN_BUCKET_EVENTS = 10;

const two = (n: number) => String(n).padStart(2, "0");

export function hhmm(ms: number): string {
  const d = new Date(ms);
  return `${two(d.getHours())}:${two(d.getMinutes())}`;
}

/** Local clock time, with the date when it is not today. */
export function fmtTime(iso: string | null | undefined, nowMs: number): string {
  if (!iso) return "—";
  const now = new Date(nowMs);
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return String(iso);
  const time = `${hhmm(d.getTime())}:${two(d.getSeconds())}`;
  if (d.toDateString() === now.toDateString()) return time;
  return `${d.getFullYear()}-${two(d.getMonth() + 1)}-${two(d.getDate())} ${time}`;
}

/** "in 4 min", "12 s ago": how far a time is from now, for the next retry. */
export function relative(iso: string, nowMs: number): string {
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) return "";
  const seconds = Math.round((ms - nowMs) / 1000);
  const size = Math.abs(seconds);
  const amount =
    size < 90 ? `${size} s` : size < 90 * 60 ? `${Math.round(size / 60)} min` : `${Math.round(size / 3600)} h`;
  return seconds >= 0 ? `in ${amount}` : `${amount} ago`;
}

export function pct(x: number): string {
  return `${Math.round(x * 1000) / 10}%`;
}

/** "2 of 2" for a handful of events; "5 of 40 (12.5%)" once a rate means something. */
export function failureSummary(failed: number, total: number): string {
  if (!total) return "—";
  const counts = `${failed} of ${total}`;
  return total < RATE_MIN_EVENTS ? counts : `${counts} (${pct(failed / total)})`;
}

export function fmtDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return "";
  return ms < 1000 ? `${Math.round(ms)} ms` : `${Math.round(ms / 100) / 10} s`;
}

/** The smallest refusal window (`/api/rejections` offers 15m, 1h, 24h) that covers a stats window. */
export function rejectionWindow(statsWindow: string): "15m" | "1h" | "24h" {
  if (statsWindow === "15m" || statsWindow === "1h") return statsWindow;
  return "24h";
}

/** A round axis maximum divisible into four gridlines. */
export function niceMax(n: number): number {
  if (n <= 4) return 4;
  const magnitude = 10 ** Math.floor(Math.log10(n));
  for (const step of [1, 2, 2.5, 5, 10]) {
    if (step * magnitude >= n) return Math.ceil((step * magnitude) / 4) * 4;
  }
  return n;
}

export interface Cell {
  start: number;
  total: number;
  failed: number;
  byProvider: Map<string, number>;
}

/** One cell per bucket of the window, empty ones included, so bars sit at their time. */
export function bucketGrid(stats: Stats): { from: number; to: number; step: number; cells: Cell[] } {
  const from = Date.parse(stats.from);
  const to = Date.parse(stats.to);
  const step = stats.bucketSeconds * 1000;
  const n = Math.max(1, Math.round((to - from) / step));
  const cells: Cell[] = Array.from({ length: n }, (_, i) => ({
    start: from + i * step,
    total: 0,
    failed: 0,
    byProvider: new Map(),
  }));
  for (const bucket of stats.buckets) {
    const cell = cells[Math.floor((Date.parse(bucket.start) - from) / step)];
    if (!cell) continue;
    cell.total += bucket.total;
    cell.failed += bucket.retrying + bucket.dead;
    cell.byProvider.set(bucket.provider, (cell.byProvider.get(bucket.provider) ?? 0) + bucket.total);
  }
  return { from, to, step, cells };
}

/** The cells whose failure rate is drawn: enough events that one failure is not a 0 → 100 % swing. */
export function ratedCells(cells: readonly Cell[]): { index: number; rate: number; cell: Cell }[] {
  return cells.flatMap((cell, index) =>
    cell.total >= RATE_MIN_BUCKET_EVENTS ? [{ index, rate: cell.failed / cell.total, cell }] : [],
  );
}

/** The confirmation for "Replay all shown": every matching event is replayed, not only the loaded page. */
export function bulkReplayText(request: { status: string; provider?: string; shown: number; more: boolean }): {
  title: string;
  text: string;
  ok: string;
} {
  const which = `${request.status} ${request.shown === 1 && !request.more ? "event" : "events"}`;
  const from = request.provider ? ` from ${request.provider}` : "";
  const count = request.more ? `${request.shown} shown, and more not loaded yet` : `${request.shown} shown`;
  return {
    title: `Replay all ${which}${from}?`,
    text:
      `Every ${request.status} event${from} is queued again (${count}). ` +
      "Each is processed under the state rules; effects that already ran do not run again.",
    ok: request.more ? `Replay all ${request.status}` : `Replay ${request.shown}`,
  };
}
