// The live page of `tsbcc web`, served from memory: run queue and block I/O latency as heat maps over time (one
// column per interval, one row per log2 bucket, colour = how many events), the processes making the most syscalls,
// and a flame graph that refreshes. Fed by server-sent events from server.ts; drawn on canvas, no libraries.

const CSS = `
body { font-family: system-ui, sans-serif; margin: 16px; background: #f6f6f2; color: #222; }
h1 { font-size: 20px; margin: 0 0 12px; }
.grid { display: grid; grid-template-columns: 1fr 1fr; gap: 14px; }
.panel { background: #fff; border: 1px solid #ddd; border-radius: 6px; padding: 10px 12px; }
.panel h2 { font-size: 15px; margin: 0 0 6px; }
.stats { font-size: 13px; color: #555; margin-bottom: 6px; }
canvas { width: 100%; height: 260px; display: block; }
table { border-collapse: collapse; width: 100%; font-size: 13px; }
td, th { padding: 2px 6px; text-align: left; border-bottom: 1px solid #eee; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
.bar { background: #4a7bd0; height: 10px; }
.wide { grid-column: 1 / span 2; }
iframe { width: 100%; height: 420px; border: 0; }
.why { color: #a33; font-size: 13px; }
#status { font-size: 12px; color: #777; }
`;

const SCRIPT = `(function () {
"use strict";
var frames = [];
var MAX = 180;
function $(id) { return document.getElementById(id); }
function label(slot) { return slot <= 1 ? "0-1" : Math.pow(2, slot - 1) + "-" + (Math.pow(2, slot) - 1); }
function heat(id, key) {
  var canvas = $(id), ctx = canvas.getContext("2d");
  var W = canvas.clientWidth, H = canvas.clientHeight, dpr = window.devicePixelRatio || 1;
  canvas.width = W * dpr; canvas.height = H * dpr; ctx.scale(dpr, dpr);
  ctx.fillStyle = "#fff"; ctx.fillRect(0, 0, W, H);
  var cols = frames.filter(function (f) { return f[key]; }).map(function (f) { return f[key]; });
  var lo = 64, hi = 0, max = 0;
  cols.forEach(function (c) { c.forEach(function (v, i) { if (v > 0) { lo = Math.min(lo, i); hi = Math.max(hi, i); max = Math.max(max, v); } }); });
  if (hi === 0) { lo = 1; hi = 10; }
  lo = Math.max(1, Math.min(lo, hi - 7)); hi = Math.max(hi, lo + 7);
  // Early on, fewer and wider columns; the window grows to MAX intervals.
  var span = Math.min(MAX, Math.max(60, cols.length));
  var left = 92, bottom = 18, rows = hi - lo + 1, cw = (W - left - 4) / span, rh = (H - bottom - 4) / rows;
  ctx.font = "11px system-ui"; ctx.fillStyle = "#555"; ctx.textBaseline = "middle";
  for (var s = lo; s <= hi; s++) {
    var y = H - bottom - (s - lo + 1) * rh;
    if (rows < 16 || (s - lo) % 2 === 0) ctx.fillText(label(s), 2, y + rh / 2);
  }
  ctx.fillText(span + " intervals ago", left, H - 8);
  ctx.textAlign = "right"; ctx.fillText("now", W - 4, H - 8); ctx.textAlign = "left";
  var x0 = left + (span - cols.length) * cw;
  cols.forEach(function (c, ci) {
    for (var s = lo; s <= hi; s++) {
      var v = c[s] || 0;
      if (v <= 0) continue;
      var t = Math.log(1 + v) / Math.log(1 + max);
      ctx.fillStyle = "hsl(" + Math.round(50 - 50 * t) + ",95%," + Math.round(85 - 45 * t) + "%)";
      ctx.fillRect(x0 + ci * cw, H - bottom - (s - lo + 1) * rh, Math.max(1, cw - 0.5), rh - 0.5);
    }
  });
  // Colour key: 1 event per interval to the busiest cell shown.
  var kx = left + (W - left) / 2 - 60;
  for (var k = 0; k < 120; k++) {
    var tk = k / 119;
    ctx.fillStyle = "hsl(" + Math.round(50 - 50 * tk) + ",95%," + Math.round(85 - 45 * tk) + "%)";
    ctx.fillRect(kx + k, H - 13, 1, 9);
  }
  ctx.fillStyle = "#555"; ctx.textAlign = "right"; ctx.fillText("1", kx - 4, H - 8);
  ctx.textAlign = "left"; ctx.fillText(String(max) + " per interval", kx + 124, H - 8);
  canvas.setAttribute("data-columns", String(cols.length));
  canvas.setAttribute("data-max", String(max));
}
function stat(key, last) {
  var el = $(key + "-total"), lastEl = $(key + "-last");
  var total = last[key + "Total"];
  if (total === undefined) { el.textContent = "-"; return; }
  el.textContent = String(total); el.setAttribute("data-count", String(total));
  var col = last[key] || [], n = col.reduce(function (a, b) { return a + b; }, 0);
  lastEl.textContent = String(n); lastEl.setAttribute("data-count", String(n));
}
function topTable(last) {
  var rows = last.top || [], body = $("top-body"), max = rows.length ? rows[0].count : 1;
  body.innerHTML = "";
  rows.forEach(function (r) {
    var tr = document.createElement("tr");
    tr.setAttribute("data-pid", String(r.pid)); tr.setAttribute("data-comm", r.comm);
    tr.setAttribute("data-count", String(r.count)); tr.setAttribute("data-total", String(r.total));
    [String(r.pid), r.comm, String(r.count), String(r.total)].forEach(function (text, i) {
      var td = document.createElement("td"); td.textContent = text; if (i >= 2) td.className = "n"; tr.appendChild(td);
    });
    var bar = document.createElement("td"), div = document.createElement("div");
    div.className = "bar"; div.style.width = Math.max(1, Math.round(100 * r.count / max)) + "px";
    bar.appendChild(div); tr.appendChild(bar); body.appendChild(tr);
  });
}
var flameShown = -1;
function flame(last) {
  var f = last.flame || {}, why = $("flame-why"), frame = $("flame");
  if (f.version > 0 && f.version !== flameShown) { frame.src = "/flame.svg?v=" + f.version; frame.style.display = "block"; flameShown = f.version; }
  why.textContent = f.version > 0 ? "" : (f.reason || "waiting for the first samples");
}
function missing(last) {
  Object.keys(last.missing || {}).forEach(function (k) { var el = $(k + "-why"); if (el) el.textContent = "unavailable: " + last.missing[k]; });
}
function draw() {
  var last = frames[frames.length - 1];
  if (!last) return;
  heat("runqlat", "runqlat"); heat("biolatency", "biolatency");
  stat("runqlat", last); stat("biolatency", last); topTable(last); flame(last); missing(last);
  document.body.setAttribute("data-frames", String(frames.length));
  $("status").textContent = "updated " + new Date(last.t).toLocaleTimeString() + " - " + frames.length + " intervals";
}
var es = new EventSource("/events");
es.addEventListener("history", function (e) { frames = JSON.parse(e.data); draw(); });
es.onmessage = function (e) { frames.push(JSON.parse(e.data)); if (frames.length > MAX) frames.shift(); draw(); };
es.onerror = function () { $("status").textContent = "disconnected; retrying"; };
window.addEventListener("resize", draw);
})();
`;

export const LIVE_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>tsbcc live</title><style>${CSS}</style></head>
<body data-frames="0">
<h1>tsbcc live view <span id="status">connecting</span></h1>
<div class="grid">
<div class="panel"><h2>Run queue latency (usecs)</h2>
<div class="stats">events since start: <b id="runqlat-total">-</b>, last interval: <b id="runqlat-last">-</b> <span class="why" id="runqlat-why"></span></div>
<canvas id="runqlat"></canvas></div>
<div class="panel"><h2>Block I/O latency (usecs)</h2>
<div class="stats">I/Os since start: <b id="biolatency-total">-</b>, last interval: <b id="biolatency-last">-</b> <span class="why" id="biolatency-why"></span></div>
<canvas id="biolatency"></canvas></div>
<div class="panel wide"><h2>Top processes by syscalls (last interval)</h2><span class="why" id="syscalls-why"></span>
<table><thead><tr><th>PID</th><th>COMM</th><th>SYSCALLS</th><th>TOTAL</th><th></th></tr></thead><tbody id="top-body"></tbody></table></div>
<div class="panel wide"><h2>Flame graph</h2><div class="why" id="flame-why"></div><iframe id="flame" style="display:none"></iframe></div>
</div>
<script>${SCRIPT}</script>
</body></html>
`;
