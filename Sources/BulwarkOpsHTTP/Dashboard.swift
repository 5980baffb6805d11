// The live dashboard: one self-contained page (HTML, CSS and JavaScript, no build step,
// nothing fetched from elsewhere) that polls /status and /insight once a second.
enum Dashboard {
    static let html = #"""
<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Bulwark dashboard</title>
<style>
  :root { --bg:#0f1419; --panel:#172029; --line:#263442; --text:#d8e0e8; --dim:#8a9aab;
          --accent:#4fb3ff; --ok:#53d28c; --warn:#f0b429; --bad:#ff6b6b; }
  * { box-sizing: border-box; }
  body { margin:0; font:14px/1.4 system-ui, -apple-system, "Segoe UI", sans-serif; background:var(--bg); color:var(--text); }
  header { display:flex; align-items:baseline; gap:16px; padding:14px 22px; border-bottom:1px solid var(--line); }
  header h1 { margin:0; font-size:20px; letter-spacing:.5px; }
  header .meta { color:var(--dim); font-size:13px; }
  #state { margin-left:auto; font-size:13px; color:var(--dim); }
  #state.live::before { content:"●"; color:var(--ok); margin-right:6px; }
  #state.down::before { content:"●"; color:var(--bad); margin-right:6px; }
  main { display:grid; grid-template-columns: repeat(12, 1fr); gap:14px; padding:16px 22px; }
  .card { background:var(--panel); border:1px solid var(--line); border-radius:8px; padding:12px 14px; }
  .card h2 { margin:0 0 8px; font-size:12px; text-transform:uppercase; letter-spacing:1px; color:var(--dim); font-weight:600; }
  .big { font-size:30px; font-weight:650; font-variant-numeric: tabular-nums; }
  .sub { color:var(--dim); font-size:12px; }
  .kpi { grid-column: span 3; }
  .wide { grid-column: span 8; }
  .side { grid-column: span 4; }
  .half { grid-column: span 6; }
  .full { grid-column: span 12; }
  canvas { width:100%; height:150px; display:block; }
  table { width:100%; border-collapse:collapse; font-variant-numeric: tabular-nums; }
  th, td { text-align:left; padding:4px 6px; border-bottom:1px solid var(--line); white-space:nowrap; overflow:hidden; text-overflow:ellipsis; max-width:340px; }
  th { color:var(--dim); font-weight:500; font-size:12px; }
  td.n, th.n { text-align:right; }
  .bar { height:8px; background:var(--accent); border-radius:4px; min-width:2px; }
  .bar.nx { background:var(--warn); } .bar.err { background:var(--bad); } .bar.ok { background:var(--ok); }
  .hot { color:var(--warn); font-weight:600; }
  .limited { color:var(--bad); }
</style>
</head>
<body>
<header>
  <h1>Bulwark</h1>
  <span class="meta" id="listen">…</span>
  <span class="meta" id="uptime"></span>
  <span id="state">connecting…</span>
</header>
<main>
  <section class="card kpi"><h2>Queries / second</h2><div class="big" id="qps">–</div><div class="sub">last 5 s</div></section>
  <section class="card kpi"><h2>Queries answered</h2><div class="big" id="queries">–</div><div class="sub" id="latency">latency –</div></section>
  <section class="card kpi"><h2>Rate limited / second</h2><div class="big" id="rrl-rate">–</div><div class="sub" id="rrl-detail">–</div></section>
  <section class="card kpi"><h2>TCP connections</h2><div class="big" id="tcp-open">–</div><div class="sub" id="tcp-detail">–</div></section>

  <section class="card wide"><h2>Queries per second (last minute) <span class="sub">— blue: answered, red: rate limited</span></h2><canvas id="graph" width="900" height="150"></canvas></section>
  <section class="card side"><h2>Response codes</h2><table id="rcodes"><tbody></tbody></table></section>

  <section class="card half"><h2>Top zones (last minute)</h2>
    <table id="topzones"><thead><tr><th>zone</th><th class="n">q/s</th><th class="n">NXDOMAIN/s</th><th class="n">NX ratio</th></tr></thead><tbody></tbody></table></section>
  <section class="card half"><h2>Top query names (sampled)</h2>
    <table id="topnames"><thead><tr><th>name</th><th class="n">queries</th><th class="n">share</th></tr></thead><tbody></tbody></table></section>

  <section class="card half"><h2>Top client prefixes (sampled)</h2>
    <table id="topclients"><thead><tr><th>prefix</th><th class="n">queries</th><th class="n">share</th></tr></thead><tbody></tbody></table></section>
  <section class="card half"><h2>NXDOMAIN names by parent (sampled) <span class="sub">— random-subdomain floods</span></h2>
    <table id="topnx"><thead><tr><th>parent of the missing names</th><th class="n">queries</th><th class="n">share</th></tr></thead><tbody></tbody></table></section>
  <section class="card full"><h2>Zones</h2>
    <table id="zones"><thead><tr><th>zone</th><th class="n">serial</th><th>source</th><th class="n">queries</th><th class="n">NXDOMAIN</th></tr></thead><tbody></tbody></table></section>
</main>
<script>
"use strict";
const $ = id => document.getElementById(id);
const fmt = n => n == null ? "–" : n >= 1e9 ? (n/1e9).toFixed(2)+"G" : n >= 1e6 ? (n/1e6).toFixed(2)+"M" : n >= 1e4 ? (n/1e3).toFixed(1)+"k" : (Math.round(n*10)/10).toString();
const esc = s => String(s).replace(/[&<>"]/g, c => ({"&":"&amp;","<":"&lt;",">":"&gt;","\"":"&quot;"}[c]));
const dur = s => s == null ? "–" : s < 1e-3 ? (s*1e6).toFixed(0)+" µs" : (s*1e3).toFixed(1)+" ms";
function rows(id, list, cells) {
  $(id).querySelector("tbody").innerHTML = list.map(x => "<tr>" + cells(x).join("") + "</tr>").join("") ||
    "<tr><td class='sub'>nothing yet</td></tr>";
}
function graph(qps, limited) {
  const c = $("graph"), g = c.getContext("2d"), w = c.width, h = c.height;
  g.clearRect(0, 0, w, h);
  const max = Math.max(10, ...qps, ...limited) * 1.1, n = 60, step = w / (n - 1);
  g.strokeStyle = "#263442"; g.lineWidth = 1;
  for (let i = 1; i < 4; i++) { g.beginPath(); g.moveTo(0, h*i/4); g.lineTo(w, h*i/4); g.stroke(); }
  g.fillStyle = "#8a9aab"; g.font = "11px system-ui"; g.fillText(fmt(max) + " q/s", 4, 12);
  const line = (data, color, fill) => {
    const pts = data.slice(-n), off = n - pts.length;
    g.beginPath();
    pts.forEach((v, i) => { const x = (off + i) * step, y = h - v / max * h; i ? g.lineTo(x, y) : g.moveTo(x, y); });
    g.strokeStyle = color; g.lineWidth = 2; g.stroke();
    if (fill && pts.length) { g.lineTo((off + pts.length - 1) * step, h); g.lineTo(off * step, h); g.closePath(); g.fillStyle = fill; g.fill(); }
  };
  line(qps, "#4fb3ff", "rgba(79,179,255,0.15)");
  line(limited, "#ff6b6b", "rgba(255,107,107,0.12)");
}
let updates = 0;
async function refresh() {
  try {
    const [s, ins] = await Promise.all([fetch("/status", {cache: "no-store"}).then(r => r.json()),
                                        fetch("/insight?top=10", {cache: "no-store"}).then(r => r.json())]);
    updates++;
    $("state").className = "live"; $("state").textContent = "live · update " + updates;
    $("listen").textContent = "DNS on " + s.listen.join(", ");
    $("uptime").textContent = "up " + Math.floor(s.uptime_seconds) + " s";
    $("qps").textContent = fmt(s.qps);
    $("queries").textContent = fmt(s.queries);
    $("queries").dataset.value = s.queries;
    $("latency").textContent = "batch latency p50 " + dur(s.latency_p50_seconds) + " · p99 " + dur(s.latency_p99_seconds);
    const rl = s.rate_limit;
    $("rrl-rate").textContent = rl.enabled ? fmt(rl.limited_per_second) : "off";
    $("rrl-rate").className = "big" + (rl.limited_per_second > 0 ? " limited" : "");
    $("rrl-detail").textContent = rl.enabled ? `${rl.responses_per_second}/s per prefix · slipped ${fmt(rl.slipped)} · dropped ${fmt(rl.dropped)}` : "response rate limiting is off";
    $("rrl-detail").dataset.slipped = rl.slipped; $("rrl-detail").dataset.dropped = rl.dropped;
    $("tcp-open").textContent = s.tcp.open;
    $("tcp-detail").textContent = `accepted ${fmt(s.tcp.accepted)} · refused ${fmt(s.tcp.refused)} · evicted ${fmt(s.tcp.evicted)}`;
    graph(s.qps_history, rl.history);
    const rc = Object.entries(s.rcodes).sort((a, b) => b[1] - a[1]);
    const total = rc.reduce((t, x) => t + x[1], 0) || 1;
    rows("rcodes", rc, ([k, v]) => [`<td>${k == "none" ? "no response" : esc(k)}</td>`, `<td class="n">${fmt(v)}</td>`,
      `<td class="n">${fmt(s.rcode_rates[k] || 0)}/s</td>`,
      `<td style="width:35%"><div class="bar ${k == "NOERROR" ? "ok" : k == "NXDOMAIN" ? "nx" : "err"}" style="width:${(v/total*100).toFixed(1)}%"></div></td>`]);
    rows("topzones", ins.zones.slice(0, 10), z => [`<td>${esc(z.zone)}</td>`, `<td class="n">${fmt(z.qps)}</td>`,
      `<td class="n${z.nxdomain_ratio > 0.5 && z.nxdomain_per_second > 1 ? " hot" : ""}">${fmt(z.nxdomain_per_second)}</td>`,
      `<td class="n">${(z.nxdomain_ratio*100).toFixed(0)}%</td>`]);
    rows("topnames", ins.top_names, x => [`<td>${esc(x.key)}</td>`, `<td class="n">${fmt(x.estimate)}</td>`, `<td class="n">${(x.share*100).toFixed(1)}%</td>`]);
    rows("topnx", ins.top_nx_domain_parents, x => [`<td>${esc(x.key)}</td>`, `<td class="n">${fmt(x.estimate)}</td>`, `<td class="n">${(x.share*100).toFixed(1)}%</td>`]);
    rows("topclients", ins.top_clients, x => [`<td>${esc(x.key)}</td>`, `<td class="n">${fmt(x.estimate)}</td>`, `<td class="n">${(x.share*100).toFixed(1)}%</td>`]);
    rows("zones", s.zones, z => [`<td>${esc(z.name)}</td>`, `<td class="n serial">${z.serial}</td>`, `<td>${esc(z.provenance)}</td>`,
      `<td class="n">${fmt(z.queries)}</td>`, `<td class="n">${fmt(z.nxdomain)}</td>`]);
  } catch (e) {
    $("state").className = "down"; $("state").textContent = "cannot reach the server";
  }
}
refresh();
setInterval(refresh, 1000);
</script>
</body>
</html>
"""#
}
