/** The report's and the viewer's stylesheet (inlined in every page: no network). */
export const STYLE = `
:root {
  --fg: #1d2330; --muted: #5d6677; --bg: #fff; --panel: #f5f7fa; --line: #d8dde6;
  --ok: #1f7a3a; --ok-bg: #e3f4e8; --warn: #8a5a00; --warn-bg: #fff3d6; --bad: #b3261e; --bad-bg: #fde7e5;
  --na: #6b7280; --na-bg: #eef0f3; --rcu: #2e7d32; --irq: #c62828; --soft: #6a1b9a; --ipi: #ef6c00;
  --cur: #fff6c2; --bad-ring: #d32f2f;
}
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--fg); background: var(--bg); }
header, main, footer { padding: 12px 20px; }
header { border-bottom: 1px solid var(--line); background: var(--panel); }
h1 { font-size: 18px; margin: 0 0 4px; }
h2 { font-size: 15px; margin: 18px 0 8px; }
h3 { font-size: 13px; margin: 10px 0 4px; }
code, .mono, td.act, .what { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 12px; }
a { color: #0b57d0; }
.muted { color: var(--muted); }
.pill { display: inline-block; padding: 0 6px; border-radius: 9px; font-size: 12px; font-weight: 600; }
.v-verified { color: var(--ok); background: var(--ok-bg); }
.v-verified-bounded { color: var(--ok); background: var(--ok-bg); }
.v-sampled { color: var(--warn); background: var(--warn-bg); }
.v-fail, .v-error { color: var(--bad); background: var(--bad-bg); }
.v-na { color: var(--na); background: var(--na-bg); }
table.grid { border-collapse: collapse; margin: 6px 0 14px; }
table.grid th, table.grid td { border: 1px solid var(--line); padding: 3px 6px; vertical-align: top; }
table.grid th { background: var(--panel); text-align: left; font-weight: 600; }
table.matrix td { text-align: center; white-space: nowrap; }
table.matrix td.scen { text-align: left; }
.cov { display: block; font-size: 11px; color: var(--muted); }
.banner { padding: 6px 10px; border-radius: 6px; margin: 8px 0; }
.banner.bad { background: var(--bad-bg); color: var(--bad); }
.banner.ok { background: var(--ok-bg); color: var(--ok); }
.banner.warn { background: var(--warn-bg); color: var(--warn); }
/* viewer */
.controls { display: flex; gap: 14px; align-items: center; flex-wrap: wrap; margin: 8px 0; }
.controls button { font: inherit; padding: 2px 10px; }
.kbd { border: 1px solid var(--line); border-bottom-width: 2px; border-radius: 4px; padding: 0 4px; font-size: 11px; }
.racing { display: grid; grid-template-columns: auto 1fr; gap: 2px 10px; background: var(--bad-bg); padding: 8px 10px; border-radius: 6px; }
.racing button { font: inherit; font-size: 12px; }
.layout { display: grid; grid-template-columns: minmax(0, 1fr) 380px; gap: 16px; align-items: start; }
.scroll { overflow: auto; max-height: 78vh; border: 1px solid var(--line); }
table.lanes { border-collapse: separate; border-spacing: 0; }
table.lanes th { position: sticky; top: 0; background: var(--panel); z-index: 2; border-bottom: 1px solid var(--line); padding: 4px 6px; text-align: left; font-size: 12px; white-space: nowrap; }
table.lanes td { border-bottom: 1px solid #eef0f4; padding: 2px 6px 2px 0; vertical-align: top; position: relative; }
table.lanes td.n { color: var(--muted); text-align: right; padding-left: 4px; font-size: 12px; width: 3em; }
table.lanes td.lane { min-width: 150px; max-width: 340px; padding-left: 18px; }
table.lanes td.act { background: #f0f5ff; }
table.lanes td.act .fn { font-weight: 600; }
table.lanes tr.current td { background: var(--cur); }
table.lanes tr.finding td.n { color: var(--bad); font-weight: 700; }
table.lanes tr.racer td.n { color: var(--bad); }
table.lanes tr { cursor: pointer; }
table.lanes thead tr { cursor: default; }
.note { color: var(--muted); display: block; }
.bands { position: absolute; left: 2px; top: 0; bottom: 0; display: flex; gap: 1px; }
.bands span { width: 3px; display: block; height: 100%; }
.bands span.b-rcu, .bands span.b-irq, .bands span.b-soft, .bands span.b-ipi { width: 5px; }
.b-rcu { background: var(--rcu); }
.b-irq { background: var(--irq); }
.b-soft { background: var(--soft); }
.b-ipi { background: var(--ipi); }
.b-lock { background: var(--c, #555); }
th.pt-col { border-left: 2px solid var(--line); }
td.pt { width: 58px; min-width: 58px; border-left: 2px solid var(--line); text-align: center; font-size: 11px; }
td.pt.s-none { background: transparent; }
td.pt.s-alloc { background: #e8eefb; }
td.pt.s-live { background: #c9d8f5; }
td.pt.s-detached { background: repeating-linear-gradient(45deg, #c9d8f5 0 4px, #fff 4px 8px); }
td.pt.s-deferred, td.pt.s-queued { background: #fde9b8; }
td.pt.s-gp { background: #d4efd9; }
td.pt.s-freed, td.pt.s-page-freed { background: #e4e4e4; }
td.pt.s-gone { background: #f4f4f4; color: #999; }
.ev { display: block; font-weight: 600; color: #333; }
.access { display: inline-block; width: 9px; height: 9px; border-radius: 50%; background: #3b5bdb; vertical-align: middle; }
.access.w { background: #7b2cbf; }
.access.bad { background: var(--bad-ring); box-shadow: 0 0 0 3px #ffcdd2; width: 12px; height: 12px; }
aside { position: sticky; top: 8px; }
.panel { background: var(--panel); border: 1px solid var(--line); border-radius: 6px; padding: 8px 10px; margin-bottom: 10px; }
.panel ul { margin: 2px 0; padding-left: 18px; }
.slots { display: grid; grid-template-columns: repeat(auto-fill, minmax(330px, 1fr)); gap: 10px; }
.slot { border: 1px solid var(--line); border-radius: 6px; padding: 6px 8px; }
.slot table { border-collapse: collapse; width: 100%; font-size: 12px; }
.slot td { border: 1px solid var(--line); padding: 2px 4px; }
.slot .member { margin-right: 6px; color: #999; text-decoration: line-through; }
.slot .member.holds { color: var(--fg); text-decoration: none; font-weight: 700; }
.legend span { margin-right: 12px; white-space: nowrap; }
.legend i { display: inline-block; width: 10px; height: 10px; margin-right: 4px; vertical-align: middle; }
`;
