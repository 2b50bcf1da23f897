/**
 * `glmv data report OUT`: one self-contained HTML page (`OUT/report.html`, thumbnails inline) with each stage's
 * counts and grids of kept and dropped items with the reason and detail, because people judge filters by looking.
 */
import { join } from "node:path";
import { writeFileAtomic } from "../../util/fs.ts";
import { escapeHtml as h } from "../../util/html.ts";
import { gatherReport, type Shown, type StageView } from "./gather.ts";

const STYLE = `body{font:14px system-ui,sans-serif;margin:24px;color:#222}
table{border-collapse:collapse;margin:8px 0}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}
td:first-child,th:first-child,td.l{text-align:left}.grid{display:flex;flex-wrap:wrap;gap:8px}
.card{width:140px;border:1px solid #ddd;border-radius:4px;padding:4px;font-size:11px;overflow-wrap:anywhere}
.card img{max-width:128px;max-height:128px;display:block}.reason{color:#b00;font-weight:600}
.detail{color:#555}.file{background:#eee;padding:2px 4px;display:inline-block;margin:2px 0}h2{margin-top:32px}`;

function card(item: Shown): string {
  const media = [
    ...item.thumbs.map((src) => `<img src="${h(src)}" alt="${h(item.id)}">`),
    ...item.others.map((name) => `<span class="file">${h(name)}</span>`),
  ].join("");
  const reason = item.reason ? `<div class="reason">${h(item.reason)}</div>` : "";
  const detail = item.detail ? `<div class="detail">${h(item.detail)}</div>` : "";
  return `<div class="card" data-id="${h(item.id)}">${media}<div><b>${h(item.id)}</b></div>${reason}${detail}<div>${h(item.text)}</div></div>`;
}

function stageSection(view: StageView): string {
  const c = view.counts;
  const reasons = Object.entries(c.dropped).sort(([, a], [, b]) => b - a);
  const rows = reasons
    .map(([r, n]) => `<tr><td class="l">${h(r)}</td><td data-reason="${h(r)}">${n}</td></tr>`)
    .join("");
  const dropped = Object.entries(view.dropped)
    .map(
      ([reason, items]) =>
        `<h4>dropped: ${h(reason)}</h4><div class="grid">${items.map(card).join("")}</div>`,
    )
    .join("");
  return `<section data-stage="${h(c.name)}" data-level="${c.level}">
<h2>${c.level}. ${h(c.name)}</h2>
<table><tr><th>in</th><th>kept</th><th>dropped</th><th>shards</th><th>seconds</th></tr>
<tr><td data-count="in">${c.in}</td><td data-count="kept">${c.kept}</td><td data-count="dropped">${reasons.reduce((n, [, k]) => n + k, 0)}</td><td>${c.shardsDone}</td><td>${c.seconds}</td></tr></table>
${rows ? `<table><tr><th>reason</th><th>dropped</th></tr>${rows}</table>` : ""}
<h4>kept (first ${view.kept.length})</h4><div class="grid">${view.kept.map(card).join("")}</div>
${dropped}
</section>`;
}

/**
 * Write `OUT/report.html` for the run in `out`; returns its path.
 * @example const path = await writeReport("runs/pairs"); // runs/pairs/report.html
 */
export async function writeReport(out: string): Promise<string> {
  const { summary, stages } = await gatherReport(out);
  const o = summary.output;
  const html = `<!doctype html><html><head><meta charset="utf-8"><title>${h(summary.name)}: glmv data report</title>
<style>${STYLE}</style></head><body>
<h1>${h(summary.name)}</h1>
<p>${summary.shards} shards; output: <span id="output-items">${o.items}</span> items in ${o.files.length} ${h(o.format)} file(s).</p>
${stages.map(stageSection).join("\n")}
</body></html>
`;
  const path = join(out, "report.html");
  await writeFileAtomic(path, html);
  return path;
}
