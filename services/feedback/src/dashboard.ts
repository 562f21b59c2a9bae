/**
 * The delivery dashboard: one self-contained page (inline CSS, JS and SVG; nothing fetched from
 * elsewhere) that polls /deliveries and /throughput every second and redraws. Data is written
 * with textContent only, never as HTML.
 */
export const DASHBOARD_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Enhanced MTA · deliveries</title>
<style>
  :root { --bg:#f6f7f9; --fg:#1d2330; --muted:#667085; --card:#fff; --line:#e3e6ec; --sent:#1a7f37; --failed:#c9372c; --taken:#8a94a6; --soft:#d98a00; }
  * { box-sizing: border-box; }
  body { margin:0; font:14px/1.4 system-ui, sans-serif; background:var(--bg); color:var(--fg); }
  header { display:flex; align-items:baseline; gap:16px; padding:14px 24px; background:#1d2330; color:#fff; }
  header h1 { font-size:18px; margin:0; }
  header .state { color:#b8c0cc; font-size:13px; }
  main { padding:16px 24px; display:grid; gap:16px; grid-template-columns: 1fr 1fr; }
  section { background:var(--card); border:1px solid var(--line); border-radius:8px; padding:12px 16px; }
  section.wide { grid-column: 1 / -1; }
  h2 { font-size:14px; margin:0 0 8px; color:var(--muted); font-weight:600; text-transform:uppercase; letter-spacing:.04em; }
  .cards { display:grid; grid-template-columns: repeat(auto-fit, minmax(130px, 1fr)); gap:10px; }
  .card { border:1px solid var(--line); border-radius:8px; padding:10px 12px; }
  .card .label { display:block; color:var(--muted); font-size:12px; }
  .card .value { display:block; font-size:26px; font-weight:650; font-variant-numeric: tabular-nums; }
  .card[data-kpi=sent] .value, .card[data-kpi=successRate] .value { color:var(--sent); }
  .card[data-kpi=failed] .value, .card[data-kpi=bounceRate] .value { color:var(--failed); }
  table { width:100%; border-collapse:collapse; font-variant-numeric: tabular-nums; }
  th, td { text-align:right; padding:4px 6px; border-bottom:1px solid var(--line); }
  th:first-child, td:first-child { text-align:left; }
  th { color:var(--muted); font-weight:600; font-size:12px; }
  #deliveries tbody tr { cursor:pointer; }
  #deliveries tbody tr.selected { background:#eef4ff; }
  .bar { display:flex; height:22px; border-radius:4px; overflow:hidden; background:var(--line); margin:6px 0 8px; }
  .bar span { display:block; height:100%; }
  .legend { display:flex; gap:14px; flex-wrap:wrap; color:var(--muted); font-size:12px; }
  .dot { display:inline-block; width:10px; height:10px; border-radius:2px; margin-right:4px; vertical-align:-1px; }
  svg text { font-size:11px; fill:var(--muted); }
  .empty { color:var(--muted); }
</style>
</head>
<body>
<header><h1>Enhanced MTA · Email Feedback</h1><span class="state" id="state">loading…</span></header>
<main>
  <section class="wide">
    <h2>Delivery <span id="selected-id" data-testid="selected-delivery"></span></h2>
    <div class="cards" id="cards">
      <div class="card" data-kpi="messages"><span class="label">Messages</span><span class="value">0</span></div>
      <div class="card" data-kpi="takenIntoAccount"><span class="label">Taken into account</span><span class="value">0</span></div>
      <div class="card" data-kpi="sent"><span class="label">Sent</span><span class="value">0</span></div>
      <div class="card" data-kpi="failed"><span class="label">Failed</span><span class="value">0</span></div>
      <div class="card" data-kpi="successRate"><span class="label">Success</span><span class="value">0 %</span></div>
      <div class="card" data-kpi="bounceRate"><span class="label">Bounces + errors</span><span class="value">0 %</span></div>
      <div class="card" data-kpi="softBounces"><span class="label">Soft-bounce updates</span><span class="value">0</span></div>
      <div class="card" data-kpi="complaints"><span class="label">Complaints</span><span class="value">0</span></div>
    </div>
  </section>
  <section>
    <h2>Status counts</h2>
    <div class="bar" id="status-bar"><span id="bar-taken" style="background:var(--taken)"></span><span id="bar-sent" style="background:var(--sent)"></span><span id="bar-failed" style="background:var(--failed)"></span></div>
    <div class="legend">
      <span><i class="dot" style="background:var(--taken)"></i>Taken into account <b id="count-taken">0</b></span>
      <span><i class="dot" style="background:var(--sent)"></i>Sent <b id="count-sent">0</b></span>
      <span><i class="dot" style="background:var(--failed)"></i>Failed <b id="count-failed">0</b>
        (hard <b id="count-hard">0</b>, expired <b id="count-expired">0</b>, rejected <b id="count-rejected">0</b>)</span>
    </div>
  </section>
  <section>
    <h2>Top failure reasons</h2>
    <table id="reasons"><thead><tr><th>Reason</th><th>Failed</th><th>Soft bounces</th></tr></thead><tbody></tbody></table>
  </section>
  <section class="wide">
    <h2>Throughput, all deliveries (status changes per 5 s, last 5 minutes)</h2>
    <svg id="chart" viewBox="0 0 900 180" width="100%" height="180" role="img" aria-label="throughput chart"></svg>
    <div class="legend">
      <span><i class="dot" style="background:var(--taken)"></i>accepted</span>
      <span><i class="dot" style="background:var(--sent)"></i>sent</span>
      <span><i class="dot" style="background:var(--failed)"></i>failed</span>
      <span><i class="dot" style="background:var(--soft)"></i>soft bounces</span>
    </div>
  </section>
  <section>
    <h2>By recipient domain</h2>
    <table id="domains"><thead><tr><th>Domain</th><th>Messages</th><th>Sent</th><th>Failed</th><th>Soft bounces</th><th>Success</th></tr></thead><tbody></tbody></table>
  </section>
  <section>
    <h2>Deliveries</h2>
    <table id="deliveries"><thead><tr><th>Delivery</th><th>Messages</th><th>Sent</th><th>Failed</th><th>Success</th><th>Last event</th></tr></thead><tbody></tbody></table>
  </section>
</main>
<script>
(() => {
  'use strict';
  let selected = '';
  try { selected = decodeURIComponent((location.hash.match(/^#d=(.*)$/) || [])[1] || ''); } catch { /* a malformed link: show the latest delivery */ }
  const $ = (id) => document.getElementById(id);
  const pct = (n) => (Math.round(n * 100) / 100) + ' %';
  const fmt = (n) => n.toLocaleString('en-US');
  function row(cells) {
    const tr = document.createElement('tr');
    for (const c of cells) { const td = document.createElement('td'); td.textContent = String(c); tr.appendChild(td); }
    return tr;
  }
  function fill(tbody, rows, empty, width) {
    tbody.replaceChildren(...(rows.length ? rows : [(() => { const tr = row([empty]); tr.firstChild.colSpan = width; tr.className = 'empty'; return tr; })()]));
  }
  function showDelivery(d) {
    $('selected-id').textContent = d ? d.deliveryId : '(none yet)';
    const k = d || { messages: 0, takenIntoAccount: 0, sent: 0, failed: 0, successRate: 0, bounceRate: 0, softBounces: 0, complaints: 0,
      failedHard: 0, failedExpired: 0, failedRejected: 0, byReason: {}, byDomain: {} };
    for (const card of document.querySelectorAll('.card')) {
      const key = card.dataset.kpi;
      card.querySelector('.value').textContent = key.endsWith('Rate') ? pct(k[key]) : fmt(k[key]);
    }
    const total = Math.max(k.messages, 1);
    $('bar-taken').style.width = (100 * k.takenIntoAccount / total) + '%';
    $('bar-sent').style.width = (100 * k.sent / total) + '%';
    $('bar-failed').style.width = (100 * k.failed / total) + '%';
    $('count-taken').textContent = fmt(k.takenIntoAccount);
    $('count-sent').textContent = fmt(k.sent);
    $('count-failed').textContent = fmt(k.failed);
    $('count-hard').textContent = fmt(k.failedHard);
    $('count-expired').textContent = fmt(k.failedExpired);
    $('count-rejected').textContent = fmt(k.failedRejected);
    const reasons = Object.entries(k.byReason).slice(0, 10).map(([r, c]) => row([r, fmt(c.failed), fmt(c.softBounces)]));
    fill($('reasons').tBodies[0], reasons, 'no failures', 3);
    const domains = Object.entries(k.byDomain).slice(0, 50)
      .map(([name, c]) => row([name, fmt(c.messages), fmt(c.sent), fmt(c.failed), fmt(c.softBounces), pct(c.messages ? 100 * c.sent / c.messages : 0)]));
    fill($('domains').tBodies[0], domains, 'no messages', 6);
  }
  function showList(list) {
    const rows = list.map((d) => {
      const tr = row([d.deliveryId, fmt(d.messages), fmt(d.sent), fmt(d.failed), pct(d.successRate), d.lastEventAt.replace('T', ' ').slice(0, 19)]);
      if (d.deliveryId === selected) tr.className = 'selected';
      tr.addEventListener('click', () => { selected = d.deliveryId; location.hash = 'd=' + encodeURIComponent(selected); refresh(); });
      return tr;
    });
    fill($('deliveries').tBodies[0], rows, 'no deliveries yet', 6);
  }
  const NS = 'http://www.w3.org/2000/svg';
  function svg(tag, attrs, text) {
    const el = document.createElementNS(NS, tag);
    for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
    if (text !== undefined) el.textContent = text;
    return el;
  }
  function showChart(t) {
    const W = 900, H = 180, L = 40, B = 20, pts = t.points;
    const max = Math.max(1, ...pts.map((p) => Math.max(p.accepted, p.sent, p.failed, p.softBounces)));
    const x = (i) => L + (W - L - 10) * (pts.length > 1 ? i / (pts.length - 1) : 0);
    const y = (v) => H - B - (H - B - 10) * v / max;
    const nodes = [svg('line', { x1: L, y1: H - B, x2: W - 10, y2: H - B, stroke: '#c9ced6' }), svg('text', { x: 4, y: 14 }, String(max)), svg('text', { x: 4, y: H - B }, '0')];
    const lines = [['accepted', '#8a94a6'], ['sent', '#1a7f37'], ['failed', '#c9372c'], ['softBounces', '#d98a00']];
    for (const [key, color] of lines) {
      nodes.push(svg('polyline', { fill: 'none', stroke: color, 'stroke-width': 2, 'data-series': key, points: pts.map((p, i) => x(i).toFixed(1) + ',' + y(p[key]).toFixed(1)).join(' ') }));
    }
    if (pts.length) {
      nodes.push(svg('text', { x: L, y: H - 4 }, new Date(pts[0].t).toISOString().slice(11, 19)));
      nodes.push(svg('text', { x: W - 70, y: H - 4 }, new Date(pts[pts.length - 1].t).toISOString().slice(11, 19)));
    }
    $('chart').replaceChildren(...nodes);
  }
  async function refresh() {
    try {
      const res = await fetch('/deliveries?summary=1&limit=50', { cache: 'no-store' });
      if (res.status === 503) { $('state').textContent = 'rebuilding state from Kafka…'; return; }
      const { deliveries } = await res.json();
      if (!selected && deliveries.length) selected = deliveries[0].deliveryId;
      showList(deliveries);
      const one = selected ? await fetch('/deliveries/' + encodeURIComponent(selected), { cache: 'no-store' }) : undefined;
      showDelivery(one && one.ok ? await one.json() : undefined);
      showChart(await (await fetch('/throughput?points=60&step=5', { cache: 'no-store' })).json());
      $('state').textContent = 'live · updated ' + new Date().toISOString().slice(11, 19) + ' UTC';
    } catch (err) {
      $('state').textContent = 'disconnected (' + err.message + '), retrying…';
    }
  }
  refresh();
  setInterval(refresh, 1000);
})();
</script>
</body>
</html>
`;
