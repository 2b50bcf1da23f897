/**
 * Referring-expression questions and actions over a page's visible nodes (`gui-dom.ts`): by text ("click the
 * button labelled "Save""), by role ("click the only checkbox", "the 2nd link from the top") and by position
 * relative to a named node ("the link below the text box "Search""). Every question names exactly one node.
 * Answers are in GLM-V's 0–999 coordinates: a box label (scored point-in-box) for clicks and grounding, a
 * WebVoyager `TYPE(point=…)` for typing; the response is the action or box between the box tokens. Pure.
 */
import { type Box, boxCentre, formatBox, type Point, pixelRectToBox } from "../../data/tasks/coords.ts";
import type { Rng } from "../../util/rng.ts";
import { glmBox } from "./common.ts";
import type { DomNode } from "./gui-dom.ts";

export type GuiQaKind = "text" | "role" | "relative";
export type GuiQa = {
  kind: GuiQaKind;
  task: "click" | "type" | "ground";
  question: string;
  /** Index of the node the question names. */
  target: number;
  box: Box;
  point: Point;
  /** The gold label: the box (click, ground) or the TYPE action. */
  answer: string;
  /** The model's expected output, in the box tokens. */
  response: string;
};

const ROLE_WORDS: Record<string, string> = {
  button: "button",
  link: "link",
  textbox: "text box",
  searchbox: "search box",
  checkbox: "checkbox",
  radio: "radio button",
  combobox: "drop-down list",
  listbox: "list box",
  heading: "heading",
  img: "image",
  slider: "slider",
  tab: "tab",
  menuitem: "menu item",
  switch: "switch",
};
const roleWords = (role: string) => ROLE_WORDS[role] ?? role;
const TYPED = new Set(["textbox", "searchbox"]);
const GROUNDED = new Set(["heading", "img"]);
const SAMPLE_INPUT = ["hello world", "Berlin", "42", "jane@example.com", "weekly report", "2024-05-01"];
/** Pixels by which one node must be clearly nearer or further than another for a position to name it. */
const MARGIN = 4;
/** How near (a share of the screen's side) a node must be to an anchor to be "below" or "left of" it. */
const NEAR = 0.25;
const ORDINALS = ["1st", "2nd", "3rd", "4th", "5th", "6th", "7th", "8th", "9th"];

const quote = (s: string) => `"${s}"`;
const centreOf = (n: DomNode) => [(n.px[0] + n.px[2]) / 2, (n.px[1] + n.px[3]) / 2] as const;

/** The question and answer for acting on node `i` once the words that name it are known. */
function makeQa(
  rng: Rng,
  nodes: DomNode[],
  i: number,
  kind: GuiQaKind,
  named: string,
  size: { width: number; height: number },
): GuiQa {
  const n = nodes[i]!;
  const [x1, y1, x2, y2] = n.px;
  const box = pixelRectToBox(x1, y1, x2 - x1, y2 - y1, size.width, size.height);
  const point = boxCentre(box);
  const info = (n.name || roleWords(n.role)).replaceAll("'", "’");
  const at = `point=(${point[0]}, ${point[1]})`;
  if (TYPED.has(n.role)) {
    const text = rng.pick(SAMPLE_INPUT);
    const action = `TYPE(${at}, text='${text}', element_info='${info}')`;
    return {
      kind,
      task: "type",
      question: `Type "${text}" into ${named}.`,
      target: i,
      box,
      point,
      answer: action,
      response: glmBox(action),
    };
  }
  if (GROUNDED.has(n.role)) {
    const q = `Where is ${named}? Give its bounding box.`;
    return {
      kind,
      task: "ground",
      question: q,
      target: i,
      box,
      point,
      answer: formatBox(box),
      response: glmBox(formatBox(box)),
    };
  }
  const verb = n.role === "checkbox" || n.role === "radio" ? "Select" : "Click";
  const action = `CLICK(${at}, element_info='${info}')`;
  return {
    kind,
    task: "click",
    question: `${verb} ${named}.`,
    target: i,
    box,
    point,
    answer: formatBox(box),
    response: glmBox(action),
  };
}

/** "the button labelled "Save"" for a node whose (role, name) pair is unique on the page; null otherwise. */
function byText(nodes: DomNode[], i: number): string | null {
  const n = nodes[i]!;
  if (!n.name || n.name.length > 40) return null;
  const same = (m: DomNode) => m.role === n.role && m.name.toLowerCase() === n.name.toLowerCase();
  if (nodes.filter(same).length !== 1) return null;
  const words = roleWords(n.role);
  if (n.role === "link" || n.role === "heading" || n.role === "tab") return `the ${words} ${quote(n.name)}`;
  if (n.role === "img") return `the image showing ${quote(n.name)}`;
  return `the ${words} labelled ${quote(n.name)}`;
}

/** "the only checkbox", or "the 2nd link from the top" / "from the left" when positions order them clearly. */
function byRole(nodes: DomNode[], i: number): string | null {
  const n = nodes[i]!;
  const same = nodes.filter((m) => m.role === n.role);
  const words = roleWords(n.role);
  if (same.length === 1) return `the only ${words} on the screen`;
  if (same.length > ORDINALS.length) return null;
  for (const [axis, from] of [
    [1, "from the top"],
    [0, "from the left"],
  ] as const) {
    const keys = same.map((m) => centreOf(m)[axis]).sort((a, b) => a - b);
    if (keys.some((k, j) => j > 0 && k - keys[j - 1]! <= MARGIN)) continue;
    const rank = keys.indexOf(centreOf(n)[axis]);
    return `the ${ORDINALS[rank]} ${words} ${from}`;
  }
  return null;
}

type Direction = { words: string; gap: (t: DomNode["px"], a: DomNode["px"]) => number | null };
const overlapX = (t: DomNode["px"], a: DomNode["px"]) => Math.min(t[2], a[2]) - Math.max(t[0], a[0]) > 0;
const overlapY = (t: DomNode["px"], a: DomNode["px"]) => Math.min(t[3], a[3]) - Math.max(t[1], a[1]) > 0;
/** How far a target lies from an anchor in a direction, or null when it is not in that direction. */
const DIRECTIONS: Direction[] = [
  { words: "below", gap: (t, a) => (t[1] >= a[3] - 1 && overlapX(t, a) ? t[1] - a[3] : null) },
  { words: "above", gap: (t, a) => (t[3] <= a[1] + 1 && overlapX(t, a) ? a[1] - t[3] : null) },
  { words: "to the right of", gap: (t, a) => (t[0] >= a[2] - 1 && overlapY(t, a) ? t[0] - a[2] : null) },
  { words: "to the left of", gap: (t, a) => (t[2] <= a[0] + 1 && overlapY(t, a) ? a[0] - t[2] : null) },
];

/**
 * "the link below the text box "Search"": the nearest node of its role in a direction from a text-named anchor,
 * clearly nearer than the next one of that role. Every such phrase for node `i`.
 */
function byRelation(nodes: DomNode[], i: number, size: { width: number; height: number }): string[] {
  const n = nodes[i]!;
  const out: string[] = [];
  // Far apart is not "below": a relation holds within a quarter of the screen.
  const maxGap = (d: Direction) =>
    (d.words === "below" || d.words === "above" ? size.height : size.width) * NEAR;
  nodes.forEach((anchor, a) => {
    if (a === i) return;
    const anchorWords = byText(nodes, a);
    if (!anchorWords) return;
    for (const d of DIRECTIONS) {
      const gaps = nodes
        .map((m, k) => (k !== a && m.role === n.role ? { k, gap: d.gap(m.px, anchor.px) } : null))
        .filter((g): g is { k: number; gap: number } => g !== null && g.gap !== null && g.gap <= maxGap(d))
        .sort((x, y) => x.gap - y.gap);
      if (gaps[0]?.k !== i) continue;
      if (gaps[1] && gaps[1].gap - gaps[0].gap <= MARGIN) continue;
      out.push(`the ${roleWords(n.role)} ${d.words} ${anchorWords}`);
    }
  });
  return out;
}

/**
 * Every question the page supports, by kind: each names exactly one node.
 * @example candidateQuestions(rng, nodes, { width: 640, height: 480 }).filter((q) => q.kind === "relative")
 */
export function candidateQuestions(
  rng: Rng,
  nodes: DomNode[],
  size: { width: number; height: number },
): GuiQa[] {
  const out: GuiQa[] = [];
  nodes.forEach((_, i) => {
    const text = byText(nodes, i);
    if (text) out.push(makeQa(rng, nodes, i, "text", text, size));
    const role = byRole(nodes, i);
    if (role) out.push(makeQa(rng, nodes, i, "role", role, size));
    for (const rel of byRelation(nodes, i, size)) out.push(makeQa(rng, nodes, i, "relative", rel, size));
  });
  return out;
}

/**
 * Up to `count` questions, taking the kinds in turn (text, role, relative) so each page mixes them.
 * @example pickQuestions(rng, candidateQuestions(rng, nodes, size), 6)
 */
export function pickQuestions(rng: Rng, candidates: GuiQa[], count: number): GuiQa[] {
  const pools = (["text", "role", "relative"] as const).map((k) =>
    rng.shuffle(candidates.filter((q) => q.kind === k)),
  );
  const out: GuiQa[] = [];
  while (out.length < count && pools.some((p) => p.length > 0))
    for (const pool of pools) {
      const q = pool.shift();
      if (q && out.length < count) out.push(q);
    }
  return out;
}
