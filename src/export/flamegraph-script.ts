// The script and style embedded in every flame graph SVG (flamegraph.ts): hover shows a frame's details, a click
// zooms to that frame (its callers stay as full-width, faded bars), "Reset Zoom" or Escape undoes it, "Search" (or
// Ctrl-F, or ?s=REGEX in the URL) highlights matching frames and shows the share of samples they cover.
// Plain ES5 so it runs in any browser's SVG viewer; frames carry their sample range in data-x/data-w/data-d.

export const FLAME_CSS = `
text { font-family: Verdana, sans-serif; font-size: 12px; fill: #000; }
#title { font-size: 17px; }
#subtitle, #details, #matched { font-size: 12px; fill: #444; }
.button { cursor: pointer; fill: #225; text-decoration: underline; }
g.f { cursor: pointer; }
g.f text { pointer-events: none; font-size: 11px; }
g.f:hover rect { stroke: #333; stroke-width: 0.6; }
g.f.parent rect { opacity: 0.5; }
.hide { display: none; }
`;

export const FLAME_SCRIPT = `
(function () {
  var svg = (document.currentScript && document.currentScript.ownerSVGElement) || document.documentElement;
  var num = function (el, a) { return +el.getAttribute(a); };
  var W = num(svg, "width"), pad = num(svg, "data-pad"), total = num(svg, "data-total");
  var frames = Array.prototype.slice.call(svg.querySelectorAll("g.f"));
  var $ = function (id) { return svg.querySelector("#" + id); };
  var details = $("details"), matched = $("matched"), unzoomBtn = $("unzoom"), searchBtn = $("search");
  var zoomed = null, term = null;
  function info(g) { return { x: num(g, "data-x"), w: num(g, "data-w"), d: num(g, "data-d") }; }
  function fit(name, px) {
    var chars = Math.floor((px - 6) / 7);
    if (chars < 3) return "";
    return name.length <= chars ? name : name.slice(0, chars - 2) + "..";
  }
  function place(g, x0, span, whole) {
    var f = info(g), s = (W - 2 * pad) / span;
    var x = whole ? pad : pad + (f.x - x0) * s, w = whole ? W - 2 * pad : f.w * s;
    var r = g.querySelector("rect"), t = g.querySelector("text");
    r.setAttribute("x", x.toFixed(2));
    r.setAttribute("width", w.toFixed(2));
    t.setAttribute("x", (x + 3).toFixed(2));
    t.textContent = fit(g.getAttribute("data-name"), w);
    g.classList.toggle("hide", w < 0.1);
  }
  function zoom(g) {
    var z = info(g);
    zoomed = g;
    frames.forEach(function (h) {
      var f = info(h);
      var inside = f.d >= z.d && f.x >= z.x && f.x + f.w <= z.x + z.w;
      var above = f.d < z.d && f.x <= z.x && f.x + f.w >= z.x + z.w;
      h.classList.toggle("parent", above);
      if (inside) place(h, z.x, z.w, false);
      else if (above) place(h, 0, total, true);
      else h.classList.add("hide");
    });
    unzoomBtn.classList.remove("hide");
    svg.setAttribute("data-zoom", g.getAttribute("data-name"));
  }
  function unzoom() {
    zoomed = null;
    frames.forEach(function (h) { h.classList.remove("parent"); place(h, 0, total, false); });
    unzoomBtn.classList.add("hide");
    svg.removeAttribute("data-zoom");
  }
  function clearSearch() {
    term = null;
    frames.forEach(function (h) {
      var r = h.querySelector("rect");
      if (h.hasAttribute("data-fill")) { r.setAttribute("fill", h.getAttribute("data-fill")); h.removeAttribute("data-fill"); }
      h.removeAttribute("data-match");
    });
    matched.textContent = " ";
    searchBtn.textContent = "Search";
    svg.removeAttribute("data-matched");
  }
  function search(text) {
    clearSearch();
    if (!text) return 0;
    var re;
    try { re = new RegExp(text); } catch (e) { re = new RegExp(text.replace(/[.*+?^$()|[\\]{}\\\\]/g, "\\\\$&")); }
    term = text;
    var spans = [];
    frames.forEach(function (h) {
      if (h.getAttribute("data-kind") === "root" || !re.test(h.getAttribute("data-name"))) return;
      var r = h.querySelector("rect");
      h.setAttribute("data-fill", r.getAttribute("fill"));
      h.setAttribute("data-match", "1");
      r.setAttribute("fill", "rgb(230,0,230)");
      var f = info(h);
      spans.push([f.x, f.x + f.w]);
    });
    // Matches nested in other matches count once: merge the sample ranges.
    spans.sort(function (a, b) { return a[0] - b[0]; });
    var covered = 0, end = -1;
    spans.forEach(function (s) {
      if (s[0] >= end) { covered += s[1] - s[0]; end = s[1]; }
      else if (s[1] > end) { covered += s[1] - end; end = s[1]; }
    });
    var pct = total ? (100 * covered / total) : 0;
    matched.textContent = "Matched: " + pct.toFixed(1) + "%";
    searchBtn.textContent = "Reset Search";
    svg.setAttribute("data-matched", pct.toFixed(1));
    return pct;
  }
  function askSearch() {
    if (term !== null) { clearSearch(); return; }
    var t = window.prompt("Search frames (regular expression):", "");
    if (t) search(t);
  }
  frames.forEach(function (g) {
    g.addEventListener("mouseover", function () { details.textContent = g.querySelector("title").textContent; });
    g.addEventListener("mouseout", function () { details.textContent = " "; });
    g.addEventListener("click", function () { zoom(g); });
  });
  unzoomBtn.addEventListener("click", unzoom);
  searchBtn.addEventListener("click", askSearch);
  window.addEventListener("keydown", function (e) {
    if ((e.ctrlKey || e.metaKey) && e.key === "f") { e.preventDefault(); askSearch(); }
    else if (e.key === "Escape") { unzoom(); clearSearch(); }
  });
  window.flamegraph = { zoom: function (name) {
    var g = frames.filter(function (h) { return h.getAttribute("data-name") === name; })[0];
    if (g) zoom(g);
    return !!g;
  }, unzoom: unzoom, search: search, clearSearch: clearSearch };
  var q = /[?&]s=([^&]*)/.exec(window.location.search || "");
  if (q) search(decodeURIComponent(q[1]));
})();
`;
