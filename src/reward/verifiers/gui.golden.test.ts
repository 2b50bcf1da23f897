/**
 * Golden values measured with the released GUI reward scripts (test/fixtures/glmv-reward-golden.json:
 * `androidworld.judge`, `osworld.judge`, `osworld.extract`, `webvoyager.judge`). The fixture stores labels and
 * scores; the inputs below are the cases those labels name (reward-spec-official.md §1.6 and the release's
 * tests/cogagent/*). Every golden value is matched: none of these cases hits a rule glmv changed.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parseOsworldAction } from "./gui/osworld.ts";
import { scoreAndroidWorld, scoreOsworld, scoreWebVoyager, verifyGui } from "./gui.ts";

type GoldenRow = [string, unknown];
const golden = JSON.parse(
  readFileSync(new URL("../../../test/fixtures/glmv-reward-golden.json", import.meta.url), "utf8"),
) as Record<string, GoldenRow[]>;

function table(key: string): Map<string, unknown> {
  const rows = golden[key];
  if (!rows) throw new Error(`golden fixture lacks ${key}`);
  return new Map(rows);
}

type Case = [label: string, pred: string, gold: string];

const AW_GOLD = '{"action_type": "click", "box_2d": [[503,580,718,702]]}';
const AW_TEXT_GOLD =
  "{'action_type': 'input_text', 'text': 'Personal Finance Tracker', 'box_2d': [[38, 115, 961, 140]]}";
const ANDROIDWORLD: Case[] = [
  ["same", '{"box_2d": [[503,580,718,702]], "action_type": "click"}', AW_GOLD],
  ["extra key", '{"action_type": "click", "box_2d": [[503,580,718,702]], "element_type": "button"}', AW_GOLD],
  ["shifted box", '{"action_type": "click", "box_2d": [[503,680,718,802]]}', AW_GOLD],
  ["degenerate box", '{"box_2d": [[550,580,550,702]], "action_type": "click"}', AW_GOLD],
  ["zero-padded", '{"action_type": "click", "box_2d": [[0503,580,718,702]]}', AW_GOLD],
  ["out of range", '{"action_type": "click", "box_2d": [[503,580,1000,702]]}', AW_GOLD],
  ["python dict", "{'action_type': 'click', 'box_2d': [[503, 580, 718, 702]]}", AW_GOLD],
  [
    "text prefix (LCS)",
    "{'action_type': 'input_text', 'text': 'Personal Finance', 'box_2d': [[38, 115, 961, 140]]}",
    AW_TEXT_GOLD,
  ],
];

const click = (box: string, name = "left_click") => `${name}(start_box='${box}')`;
const scroll = (box: string, dir: string, step: number) =>
  `scroll(start_box='${box}', direction='${dir}', step=${step})`;
const OSWORLD: Case[] = [
  ["click same", click("[100, 200]"), click("[100, 200]")],
  ["click +10,-10", click("[110, 190]"), click("[100, 200]")],
  ["click dist 20", click("[120, 200]"), click("[100, 200]")],
  ["click dist 30", click("[100, 230]"), click("[100, 200]")],
  ["click dist 50", click("[130, 240]"), click("[100, 200]")],
  [
    "drag",
    "left_drag(start_box='[105, 95]', end_box='[295, 305]')",
    "left_drag(start_box='[100, 100]', end_box='[300, 300]')",
  ],
  ["type same", "type(content='Hello World!')", "type(content='Hello World!')"],
  ["type case/space", "type(content='HeLloworld!')", "type(content='Hello World!')"],
  ["type diff", "type(content='Goodbye World!')", "type(content='Hello World!')"],
  ["scroll ok", scroll("[198, 202]", "down", 3), scroll("[200, 200]", "down", 3)],
  ["scroll step 10 vs 3", scroll("[198, 202]", "down", 10), scroll("[200, 200]", "down", 3)],
  ["scroll step 4 vs 3", scroll("[198, 202]", "down", 4), scroll("[200, 200]", "down", 3)],
  ["key", "key(keys='ctrl+c')", "key(keys='CTRL+C')"],
  ["WAIT", "WAIT()", "WAIT()"],
  ["wait vs WAIT", "wait()", "WAIT()"],
  ["unclosed quote", "type(content='Hello World!)", "type(content='Hello World!')"],
];

const BOX = "box=[[198,92,229,107]]";
const WEBVOYAGER: Case[] = [
  [
    "click same el diff point",
    "CLICK(point=(214, 100), element_info='Dinners')",
    "CLICK(point=(230, 100), element_info='Dinners')",
  ],
  [
    "click exact",
    `CLICK(point=(214, 100), ${BOX}, element_info='Dinners')`,
    "CLICK(point=(214, 100), box=[[198,92,229,100]], element_info='Dinners')",
  ],
  [
    "click diff el",
    "CLICK(point=(214, 100), element_info='Lunches')",
    "CLICK(point=(230, 100), element_info='Dinners')",
  ],
  [
    "type vs click",
    `TYPE(point=(214, 100), ${BOX}, element_info='Dinners')`,
    "CLICK(point=(200, 100), box=[[198,92,229,100]], element_info='Dinners')",
  ],
  [
    "type text lcs diff point",
    `TYPE(point=(214, 100), text='bcd', ${BOX}, element_info='Dinners')`,
    `TYPE(point=(200, 100), text='abcd', ${BOX}, element_info='Dinners')`,
  ],
  [
    "type same point",
    `TYPE(point=(200, 100), text='bcd', ${BOX}, element_info='Dinners')`,
    `TYPE(point=(200, 100), text='abcd', ${BOX}, element_info='Dinners')`,
  ],
  ["key Return vs Enter", "KEY_PRESS(key='Return')", "KEY_PRESS(key='Enter')"],
  ["key same", "KEY_PRESS(key='Enter')", "KEY_PRESS(key='Enter')"],
  [
    "scroll 50 vs 0",
    "SCROLL_DOWN(point=(214, 100), distance=50, element_info='Dinners')",
    "SCROLL_DOWN(point=(214, 100), distance=0, element_info='Dinners')",
  ],
  [
    "scroll .5 vs .75",
    `SCROLL_DOWN(point=(214, 100), ${BOX}, distance=0.5, element_info='Dinners')`,
    `SCROLL_DOWN(point=(214, 100), ${BOX}, distance=0.75, element_info='Dinners')`,
  ],
  ["answer same", "ANSWER(content='Dinners')", "ANSWER(content='Dinners')"],
  ["answer lcs", "ANSWER(content='Dinner')", "ANSWER(content='Dinners')"],
];

function checkTable(key: string, cases: Case[], score: (pred: string, gold: string) => number): void {
  const expected = table(key);
  it("covers every golden label", () => {
    expect(new Set(cases.map(([label]) => label))).toEqual(new Set(expected.keys()));
  });
  for (const [label, pred, gold] of cases) {
    it(`${label} → ${String(expected.get(label))}`, () => {
      const want = expected.get(label);
      expect(typeof want).toBe("number");
      expect(score(pred, gold)).toBeCloseTo(want as number, 4);
      // The entry point dispatches to the same scorer.
      expect(verifyGui(pred, gold, {}).score).toBeCloseTo(want as number, 4);
    });
  }
}

describe("golden: androidworld.judge", () => {
  checkTable("androidworld.judge", ANDROIDWORLD, (p, g) => scoreAndroidWorld(p, g).score);
});

describe("golden: osworld.judge", () => {
  checkTable("osworld.judge", OSWORLD, (p, g) => scoreOsworld(p, g).score);
});

describe("golden: webvoyager.judge", () => {
  checkTable("webvoyager.judge", WEBVOYAGER, (p, g) => scoreWebVoyager(p, g).score);
});

describe("golden: osworld.extract", () => {
  it("reads the action type, element_info and coordinates of a click", () => {
    const row = table("osworld.extract").get("click w/ element_info") as {
      action_type: string;
      element_info: string;
      coordinates: [number, number];
    };
    const parsed = parseOsworldAction("left_click(start_box='[100, 200]', element_info='OK button')");
    expect(parsed).not.toBeNull();
    expect(parsed?.name).toBe(row.action_type);
    expect(parsed?.elementInfo).toBe(row.element_info);
    expect(parsed?.target).toEqual({ kind: "point", x: row.coordinates[0], y: row.coordinates[1] });
  });
});
