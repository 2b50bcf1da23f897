/**
 * The visible interactive and landmark nodes of a rendered page, read inside Chromium: each with its role (the
 * ARIA `role`, or the one its tag implies), its accessible name (aria-label, aria-labelledby, a `<label>`, alt,
 * value, text, placeholder, title) and its render-time box clipped to the viewport. Visible means: in the viewport,
 * non-zero size, not hidden by CSS (display, visibility, opacity, content-visibility) and not covered — the
 * element hit-tested at the centre of its visible part (`elementFromPoint`) is the node or inside it.
 */

/** A node as the page reports it: pixel box `[x1, y1, x2, y2]` clipped to the viewport. */
export type DomNode = {
  role: string;
  name: string;
  tag: string;
  /** `type` of an `<input>`, `""` otherwise. */
  inputType: string;
  px: [number, number, number, number];
};

/** Collects `DomNode[]`; plain JavaScript source, run with `pageCall(COLLECT_NODES_JS, {})`. */
export const COLLECT_NODES_JS = `() => {
  const W = window.innerWidth, H = window.innerHeight;
  const SELECTOR = "a[href],button,input,select,textarea,summary,h1,h2,h3,h4,h5,h6,img[alt],[role],[tabindex],[onclick]";
  const clean = (s) => (s || "").replace(/\\s+/g, " ").trim();
  const implicitRole = (el) => {
    const tag = el.tagName.toLowerCase();
    if (tag === "a") return "link";
    if (tag === "button" || tag === "summary") return "button";
    if (/^h[1-6]$/.test(tag)) return "heading";
    if (tag === "img") return "img";
    if (tag === "textarea") return "textbox";
    if (tag === "select") return el.multiple ? "listbox" : "combobox";
    if (tag === "input") {
      const t = (el.getAttribute("type") || "text").toLowerCase();
      if (t === "hidden") return "";
      if (t === "checkbox" || t === "radio") return t;
      if (["button", "submit", "reset", "image"].includes(t)) return "button";
      if (t === "range") return "slider";
      if (t === "search") return "searchbox";
      return "textbox";
    }
    return (el.hasAttribute("onclick") || el.hasAttribute("tabindex")) ? "button" : "";
  };
  const nameOf = (el, tag) => {
    const aria = clean(el.getAttribute("aria-label"));
    if (aria) return aria;
    const by = el.getAttribute("aria-labelledby");
    if (by) {
      const t = clean(by.split(/\\s+/).map((id) => document.getElementById(id)).filter(Boolean).map((n) => n.innerText).join(" "));
      if (t) return t;
    }
    if (el.labels && el.labels.length) {
      const t = clean(Array.from(el.labels).map((l) => l.innerText).join(" "));
      if (t) return t;
    }
    if (tag === "input") {
      const t = (el.type || "").toLowerCase();
      if (t === "submit" || t === "reset" || t === "button") return clean(el.value) || (t === "submit" ? "Submit" : t === "reset" ? "Reset" : "");
      if (t === "image") return clean(el.alt);
    }
    if (tag === "img") return clean(el.alt);
    if (tag !== "input" && tag !== "select" && tag !== "textarea") {
      const t = clean(el.innerText);
      if (t) return t;
    }
    return clean(el.getAttribute("placeholder")) || clean(el.getAttribute("title"));
  };
  const out = [];
  for (const el of document.querySelectorAll(SELECTOR)) {
    const tag = el.tagName.toLowerCase();
    const role = clean(el.getAttribute("role")).split(" ")[0] || implicitRole(el);
    if (!role || role === "presentation" || role === "none" || role === "generic") continue;
    if (!el.checkVisibility({ opacityProperty: true, visibilityProperty: true, contentVisibilityAuto: true })) continue;
    const r = el.getBoundingClientRect();
    if (r.width < 1 || r.height < 1) continue;
    const x1 = Math.max(0, r.left), y1 = Math.max(0, r.top), x2 = Math.min(W, r.right), y2 = Math.min(H, r.bottom);
    if (x2 - x1 < 1 || y2 - y1 < 1) continue;
    const hit = document.elementFromPoint((x1 + x2) / 2, (y1 + y2) / 2);
    if (!hit || !(hit === el || el.contains(hit))) continue;
    const name = nameOf(el, tag);
    out.push({
      role,
      name: name.length > 80 ? name.slice(0, 77) + "..." : name,
      tag,
      inputType: tag === "input" ? (el.getAttribute("type") || "text").toLowerCase() : "",
      px: [x1, y1, x2, y2],
    });
  }
  return out;
}`;
