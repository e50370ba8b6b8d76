/** The dashboard's only stylesheet, inlined under the page's CSP nonce. */
export const DASHBOARD_CSS = `
:root {
  color-scheme: light;
  --bg: #f4f5f7; --card: #fff; --ink: #1d2330; --muted: #667085; --line: #e3e6eb;
  --accent: #2754c5; --ok: #1a7f4b; --ok-bg: #e3f5ea; --warn: #a15c00; --warn-bg: #fff1d6;
  --bad: #b42318; --bad-bg: #fde8e6; --c0: #2f6fdf; --c1: #8b45d6; --c2: #0f9488; --c3: #d97706;
  --c4: #db2777; --c5: #4b5563;
}
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--ink);
  font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
[hidden] { display: none !important; }
.top { display: flex; align-items: center; justify-content: space-between; gap: 16px; flex-wrap: wrap;
  padding: 12px 24px; background: #141a26; color: #fff; }
.top h1 { margin: 0; font-size: 17px; font-weight: 600; letter-spacing: .2px; }
.top h1 span { color: #9fb3d9; font-weight: 400; margin-left: 6px; }
.session { display: flex; align-items: center; gap: 12px; font-size: 13px; color: #c8d2e6; }
.session label { display: flex; align-items: center; gap: 4px; cursor: pointer; }
main { max-width: 1280px; margin: 0 auto; padding: 20px 24px 48px; }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 10px; padding: 16px 18px;
  margin-bottom: 18px; box-shadow: 0 1px 2px rgba(16, 24, 40, .04); }
.card h2 { margin: 0 0 12px; font-size: 15px; font-weight: 600; display: flex; align-items: center; gap: 8px; }
.card h2 .count { font-weight: 400; color: var(--muted); font-size: 13px; }
.card.dead { border-color: #f3c2bd; }
.card.dead h2 { color: var(--bad); }
.login { max-width: 460px; margin: 56px auto; }
.login p { color: var(--muted); margin: 0 0 14px; }
.login .message { margin: 14px 0 0; }
.login form { display: flex; gap: 8px; flex-wrap: wrap; align-items: center; }
.login label { width: 100%; font-weight: 600; font-size: 13px; }
.login input { flex: 1; min-width: 200px; }
input, select, button { font: inherit; color: inherit; }
input, select { border: 1px solid #cfd4dc; border-radius: 6px; padding: 6px 9px; background: #fff; }
input:focus, select:focus, button:focus-visible { outline: 2px solid #9db5ef; outline-offset: 1px; }
button { border: 1px solid #cfd4dc; background: #fff; border-radius: 6px; padding: 6px 12px; cursor: pointer; }
button:hover { background: #f2f4f7; }
button.primary { background: var(--accent); border-color: var(--accent); color: #fff; }
button.primary:hover { background: #1f45a6; }
button:disabled { opacity: .55; cursor: default; }
.top button { background: transparent; color: #fff; border-color: #3a465c; }
.top button:hover { background: #222c3e; }
.message { margin: 12px 0 0; padding: 8px 12px; border-radius: 6px; font-weight: 500; }
.message:empty { display: none; }
.message.error { background: var(--bad-bg); color: var(--bad); }
.message.info { background: #e8eefc; color: var(--accent); }
.message.ok { background: var(--ok-bg); color: var(--ok); }
#app-message { margin: 0 0 16px; }
.filters { display: flex; flex-wrap: wrap; gap: 10px; align-items: flex-end; margin-bottom: 12px; }
.filters label { display: flex; flex-direction: column; gap: 3px; font-size: 12px; color: var(--muted); }
.filters input[name="dedupeKey"], .filters input.wide { width: 260px; }
table { width: 100%; border-collapse: collapse; font-size: 13px; }
th { text-align: left; font-weight: 600; color: var(--muted); font-size: 12px; text-transform: uppercase;
  letter-spacing: .4px; padding: 6px 8px; border-bottom: 1px solid var(--line); white-space: nowrap; }
td { padding: 7px 8px; border-bottom: 1px solid #eef0f3; vertical-align: top; }
tbody tr.row { cursor: pointer; }
tbody tr.row:hover { background: #f7f9fc; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
td.time { white-space: nowrap; color: var(--muted); font-variant-numeric: tabular-nums; }
td.err { color: var(--bad); max-width: 360px; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
td.err.none { color: #b0b6c0; }
td.type { word-break: break-all; }
button.link { border: 0; background: none; padding: 0; color: var(--accent); text-align: left; cursor: pointer;
  font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 12.5px; word-break: break-all; }
button.link:hover { text-decoration: underline; background: none; }
.badge { display: inline-block; padding: 1px 8px; border-radius: 999px; font-size: 12px; font-weight: 600; }
.b-processed { background: var(--ok-bg); color: var(--ok); }
.b-retrying { background: var(--warn-bg); color: var(--warn); }
.b-dead { background: var(--bad-bg); color: var(--bad); }
.b-done { background: var(--ok-bg); color: var(--ok); }
.b-failed, .b-pending, .b-running { background: var(--warn-bg); color: var(--warn); }
.b-other { background: #eef0f3; color: var(--muted); }
.prov { display: inline-flex; align-items: center; gap: 6px; }
.sw { display: inline-block; width: 10px; height: 10px; border-radius: 3px; background: var(--c5); }
.sw.c0 { background: var(--c0); } .sw.c1 { background: var(--c1); } .sw.c2 { background: var(--c2); }
.sw.c3 { background: var(--c3); } .sw.c4 { background: var(--c4); }
.sw.rate { background: var(--bad); height: 3px; border-radius: 2px; }
.empty { color: var(--muted); margin: 10px 2px 0; }
.more { margin-top: 12px; }
.stats-head { display: flex; justify-content: space-between; align-items: center; gap: 12px; flex-wrap: wrap; }
.stats-head h2 { margin: 0; }
.stats-body { display: grid; grid-template-columns: minmax(0, 2.2fr) minmax(300px, 1fr); gap: 22px; margin-top: 10px;
  align-items: start; }
.stats-body th { padding: 6px 6px; }
.stats-body td { padding: 7px 6px; }
@media (max-width: 900px) { .stats-body { grid-template-columns: 1fr; } }
svg.chart { width: 100%; height: auto; display: block; }
svg.chart .grid { stroke: #eceef2; stroke-width: 1; }
svg.chart .baseline { stroke: #c5cad3; stroke-width: 1; }
svg.chart .axis { fill: var(--muted); font-size: 10.5px; }
svg.chart .axis.rate { fill: var(--bad); }
svg.chart .bar.c0 { fill: var(--c0); } svg.chart .bar.c1 { fill: var(--c1); }
svg.chart .bar.c2 { fill: var(--c2); } svg.chart .bar.c3 { fill: var(--c3); }
svg.chart .bar.c4 { fill: var(--c4); } svg.chart .bar.c5 { fill: var(--c5); }
svg.chart .rate-line { fill: none; stroke: var(--bad); stroke-width: 1.8; stroke-linejoin: round; }
svg.chart .rate-dot { fill: #fff; stroke: var(--bad); stroke-width: 1.6; }
svg.chart .nodata { fill: var(--muted); font-size: 13px; }
.legend { display: flex; gap: 14px; flex-wrap: wrap; font-size: 12px; color: var(--muted); margin-top: 6px; }
.legend span { display: inline-flex; align-items: center; gap: 5px; }
dialog { width: min(920px, calc(100vw - 32px)); max-height: calc(100vh - 48px); border: 1px solid var(--line);
  border-radius: 12px; padding: 0; box-shadow: 0 20px 50px rgba(16, 24, 40, .25); color: var(--ink); }
dialog::backdrop { background: rgba(16, 22, 34, .45); }
.dlg-head { display: flex; justify-content: space-between; align-items: center; gap: 12px; padding: 14px 18px;
  border-bottom: 1px solid var(--line); position: sticky; top: 0; background: #fff; }
.dlg-head h2 { margin: 0; font-size: 15px; word-break: break-all; }
.dlg-body { padding: 14px 18px 18px; }
.dlg-body h3 { font-size: 13px; margin: 18px 0 8px; color: var(--muted); text-transform: uppercase; letter-spacing: .4px; }
dl.meta { display: grid; grid-template-columns: max-content 1fr; gap: 4px 14px; margin: 0; font-size: 13px; }
dl.meta dt { color: var(--muted); }
dl.meta dd { margin: 0; word-break: break-all; font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace;
  font-size: 12.5px; }
.actions { display: flex; align-items: center; gap: 12px; margin-top: 14px; }
.actions .message { margin: 0; }
pre.payload { margin: 0; background: #0f1623; color: #dbe4f3; padding: 14px; border-radius: 8px; overflow: auto;
  max-height: 420px; font: 12.5px/1.5 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; white-space: pre; }
.hint { color: var(--muted); font-size: 12px; }
`;
