/**
 * Scripts run inside Chromium pages, kept as plain JavaScript source so no TypeScript transform (name helpers,
 * type stripping) can leak into what the page runs. `pageCall` turns one into an expression with a JSON argument.
 */

/** `(script)(arg)` as one expression for `page.evaluate`. */
export const pageCall = (script: string, arg: unknown): string => `(${script})(${JSON.stringify(arg)})`;

/** A word's render-time rectangle in CSS pixels (the page runs at device scale 1, so also image pixels). */
export type PageRect = { x: number; y: number; w: number; h: number };
export type MeasuredWord = { text: string } & PageRect;

/**
 * Cut the document blocks (`[data-p]`, in reading order) at the first one that leaves the page's padded area,
 * then measure each kept block's words by character offsets with `Range.getClientRects`. A word broken over two
 * lines comes back as one piece per line. The block that crosses the edge keeps the words that fit (its text is
 * cut after them; `lastTokens` says how many, -1 when no block was cut). Argument: `{ pad, offsets: [[start, end],
 * …] per block }`. Returns `{ kept, lastTokens, words: MeasuredWord[][] }`.
 */
export const MEASURE_WORDS_JS = `(arg) => {
  const W = window.innerWidth, H = window.innerHeight, pad = arg.pad;
  const blocks = Array.from(document.querySelectorAll("[data-p]"));
  const outside = (r) => r.right > W - pad + 1 || r.bottom > H - pad + 1 || r.left < pad - 1 || r.top < pad - 1;
  let kept = blocks.length;
  for (let i = 0; i < blocks.length; i++) {
    if (Array.from(blocks[i].getClientRects()).some(outside)) { kept = i; break; }
  }
  // The first block that leaves the page keeps the words that fit, when any do: pages end mid-paragraph.
  let lastTokens = -1;
  if (kept < blocks.length) {
    const node = blocks[kept].firstChild;
    const probe = document.createRange();
    let fit = 0;
    for (const [s, e] of arg.offsets[kept]) {
      probe.setStart(node, s);
      probe.setEnd(node, e);
      if (Array.from(probe.getClientRects()).some(outside)) break;
      fit++;
    }
    if (fit > 0) {
      node.data = node.data.slice(0, arg.offsets[kept][fit - 1][1]);
      lastTokens = fit;
      kept++;
    }
  }
  for (let i = kept; i < blocks.length; i++) blocks[i].remove();
  const rect = (r) => ({ x: r.left, y: r.top, w: r.width, h: r.height });
  const words = [];
  for (let i = 0; i < kept; i++) {
    const node = blocks[i].firstChild;
    const out = [];
    const range = document.createRange();
    const offsets = i === kept - 1 && lastTokens >= 0 ? arg.offsets[i].slice(0, lastTokens) : arg.offsets[i];
    for (const [s, e] of offsets) {
      range.setStart(node, s);
      range.setEnd(node, e);
      const rects = Array.from(range.getClientRects()).filter((r) => r.width > 0 && r.height > 0);
      if (rects.length === 1) { out.push({ text: node.data.slice(s, e), ...rect(rects[0]) }); continue; }
      if (rects.length === 0) continue;
      let piece = null;
      for (let k = s; k < e; k++) {
        range.setStart(node, k);
        range.setEnd(node, k + 1);
        const r = range.getBoundingClientRect();
        if (r.width === 0) continue;
        if (piece && Math.abs(r.top - piece.top) < 1) {
          piece.end = k + 1; piece.right = Math.max(piece.right, r.right); piece.bottom = Math.max(piece.bottom, r.bottom);
          piece.left = Math.min(piece.left, r.left);
        } else {
          if (piece) out.push(piece);
          piece = { start: k, end: k + 1, left: r.left, top: r.top, right: r.right, bottom: r.bottom };
        }
      }
      if (piece) out.push(piece);
      for (let j = 0; j < out.length; j++) {
        const p = out[j];
        if (p.start === undefined) continue;
        out[j] = { text: node.data.slice(p.start, p.end), x: p.left, y: p.top, w: p.right - p.left, h: p.bottom - p.top };
      }
    }
    words.push(out);
  }
  return { kept, lastTokens, words };
}`;
