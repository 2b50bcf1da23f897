/**
 * The inline style and script of the evaluation report's item browser. The script reads the items from the
 * `#eval-data` JSON element and builds every node with `textContent` (never `innerHTML`), so item text stays text.
 */

export const REPORT_STYLE = [
  "body{font-family:sans-serif;max-width:1200px;margin:1em auto;color:#222}",
  "table{border-collapse:collapse;margin:.3em 0}th,td{border:1px solid #ccc;padding:2px 8px;text-align:left;font-size:13px}",
  "td{font-variant-numeric:tabular-nums}tr.nocount td{background:#fdf2e9}table.meta th{background:#f2f3f4}",
  "details{margin:.2em 0;font-size:13px}.note{font-size:13px;color:#555}",
  "#controls{display:flex;gap:1em;align-items:center;margin:.5em 0;font-size:14px}#controls .count{color:#555}",
  ".item{display:flex;gap:10px;margin:6px 0;padding:6px;border-left:4px solid #ccc;font-size:13px}",
  ".item img{max-width:160px;max-height:160px;object-fit:contain;flex:none}.item .body{min-width:0;flex:1}",
  ".item pre{white-space:pre-wrap;word-break:break-word;background:#f8f9f9;padding:4px;margin:2px 0}",
  ".item code{white-space:pre-wrap;word-break:break-word}.item .verdict{margin-left:.8em;font-weight:bold}",
  ".v-correct{border-color:#1e8449}.v-wrong{border-color:#c0392b}.v-partial{border-color:#b9770e}",
  ".v-failed{border-color:#7f8c8d}.v-judge{border-color:#7d3c98}",
].join("");

/** The browser's script (plain ES2017, no dependencies). It must never contain a closing script tag. */
export const BROWSER_SCRIPT = `(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("eval-data").textContent);
  var controls = document.getElementById("controls");
  var list = document.getElementById("items");
  var PAGE = 100;
  var SHORT = 300;
  var shown = PAGE;
  var LABELS = { correct: "correct", wrong: "wrong", partial: "partial credit", failed: "request failed", judge: "needs a judge" };
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }
  function select(id, label, options) {
    var wrap = el("label", null, label + " ");
    var s = el("select");
    s.id = id;
    options.forEach(function (o) { var opt = el("option", null, o[1]); opt.value = o[0]; s.appendChild(opt); });
    s.addEventListener("change", function () { shown = PAGE; render(); });
    wrap.appendChild(s);
    controls.appendChild(wrap);
    return s;
  }
  var taskSelect = select("filter-task", "task", [["", "all"]].concat(data.tasks.map(function (t) { return [t, t]; })));
  var verdictSelect = select("filter-verdict", "verdict", [["", "all"]].concat(Object.keys(LABELS).map(function (k) { return [k, LABELS[k]]; })));
  var search = el("input");
  search.id = "filter-search";
  search.type = "search";
  search.placeholder = "id, answer or gold contains…";
  search.addEventListener("input", function () { shown = PAGE; render(); });
  controls.appendChild(search);
  var count = el("span", "count");
  controls.appendChild(count);
  function field(parent, name, value) {
    var row = el("div", "field");
    row.appendChild(el("b", null, name + ": "));
    row.appendChild(el("code", null, value === null || value === undefined ? "∅ (none)" : value));
    parent.appendChild(row);
  }
  function longField(parent, name, value) {
    if (typeof value !== "string" || value.length <= SHORT) return field(parent, name, value);
    field(parent, name, value.slice(0, SHORT) + "…");
    collapsed(parent, name + " in full", value);
  }
  function collapsed(parent, name, text) {
    if (!text) return;
    var d = el("details");
    d.appendChild(el("summary", null, name + " (" + text.length + " characters)"));
    d.appendChild(el("pre", null, text));
    parent.appendChild(d);
  }
  function card(it) {
    var c = el("div", "item v-" + it.verdict);
    c.setAttribute("data-id", it.id);
    if (typeof it.image === "string" && it.image.indexOf("data:image/") === 0) {
      var img = el("img");
      img.alt = "image of " + it.id;
      img.src = it.image;
      c.appendChild(img);
    }
    var body = el("div", "body");
    var head = el("div", "head");
    head.appendChild(el("b", null, it.task + " · " + it.id));
    head.appendChild(el("span", "verdict", LABELS[it.verdict] + " (score " + it.score + ")"));
    body.appendChild(head);
    longField(body, "gold", it.gold);
    longField(body, "extracted", it.extracted);
    longField(body, "answer", it.answer);
    collapsed(body, "question", it.question);
    collapsed(body, "thinking", it.thinking);
    if (it.response !== it.answer) collapsed(body, "raw response", it.response);
    c.appendChild(body);
    return c;
  }
  function matches(it, task, verdict, q) {
    if (task && it.task !== task) return false;
    if (verdict && it.verdict !== verdict) return false;
    if (!q) return true;
    return [it.id, it.answer, it.gold, it.extracted || ""].some(function (s) { return s.toLowerCase().indexOf(q) !== -1; });
  }
  function render() {
    var q = search.value.trim().toLowerCase();
    var hits = data.items.filter(function (it) { return matches(it, taskSelect.value, verdictSelect.value, q); });
    count.textContent = hits.length + " of " + data.items.length + " items";
    list.textContent = "";
    var frag = document.createDocumentFragment();
    hits.slice(0, shown).forEach(function (it) { frag.appendChild(card(it)); });
    list.appendChild(frag);
    if (hits.length > shown) {
      var more = el("button", null, "show " + Math.min(PAGE, hits.length - shown) + " more");
      more.addEventListener("click", function () { shown += PAGE; render(); });
      list.appendChild(more);
    }
  }
  render();
})();`;
