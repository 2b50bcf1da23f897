/**
 * The layer rule (style.md, glmv issue 17): util < tensor < model < {data, reward} < {rl, eval} < {serve, curate} <
 * cli, and `src/index.ts` (the package root API) above them all. Every import of every non-test module in `src/` (static,
 * `export … from`, dynamic `import("…")`, type-only included) must point down, or stay inside its own folder.
 * Siblings ({data, reward}, {rl, eval}) do not import each other: what both need lives one layer down. Modules must
 * not import each other in a cycle either (e.g. `cli/main.ts` ↔ the commands it loads).
 */
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";
import ts from "typescript";
import { describe, expect, it } from "vitest";

const SRC = resolve(import.meta.dirname, "../src");

/** Rank per top folder of `src/`; equal ranks are siblings. The root files (`src/index.ts`) rank above cli. */
const LAYER_RANK: Record<string, number> = {
  util: 0,
  tensor: 1,
  model: 2,
  data: 3,
  reward: 3,
  rl: 4,
  eval: 4,
  serve: 5,
  curate: 5,
  cli: 6,
  "(root)": 7,
};

/**
 * Cycles inside one folder that predate this check (each is one concern split over two or three files); a cycle not
 * listed fails, so the list only shrinks. Remove an entry once its cycle is broken.
 */
const KNOWN_CYCLES = [
  "model/config-moe.ts ↔ model/config.ts ↔ model/presets.ts",
  "reward/mathjson-eval.ts ↔ reward/symbolic.ts",
];

const isModule = (name: string) =>
  /\.(ts|mts|mjs)$/.test(name) && !/\.test\.ts$/.test(name) && !/\.fixture\.ts$/.test(name);

const isTestFile = (name: string) => /\.(test|fixture)\.ts$/.test(name);

/** Every module under `src/` that `keep` accepts, as a path relative to `src/` with `/` separators. */
function sourceModules(keep: (name: string) => boolean = isModule, dir = SRC): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === "assets" ? [] : sourceModules(keep, path);
    return keep(entry.name) ? [relative(SRC, path).split(sep).join("/")] : [];
  });
}

/** The layer of a module: its top folder under `src/`, or "(root)" for files directly in `src/`. */
const layerOf = (module: string): string => (module.includes("/") ? module.split("/")[0]! : "(root)");

/** Relative imports of one module (TypeScript's own scanner: comments and strings cannot fool it). */
function importsOf(module: string): string[] {
  const text = readFileSync(join(SRC, module), "utf8");
  const { importedFiles } = ts.preProcessFile(text, true, true);
  return importedFiles
    .map((f) => f.fileName)
    .filter((spec) => spec.startsWith("."))
    .map((spec) =>
      relative(SRC, resolve(SRC, dirname(module), spec))
        .split(sep)
        .join("/"),
    );
}

function importGraph(keep: (name: string) => boolean = isModule): Map<string, string[]> {
  return new Map(sourceModules(keep).map((m) => [m, importsOf(m)]));
}

/** Unit tests beside their module may use the shared test helpers (`test/helpers/`), which sit outside `src/`. */
const TEST_HELPERS = "../test/helpers/";

/**
 * Inside `rl/`: the paper's algorithm (pure functions) imports nothing else of rl; the loop (step, run store,
 * metrics) only the algorithm; engines the algorithm and the loop's interfaces; the job (the `glmv rl` pipeline)
 * anything below it. A file directly in `rl/` has no place in this order.
 */
const RL_RANK: Record<string, number> = { algorithm: 0, loop: 1, engines: 2, job: 3 };

/** The rl sub-folder of a module (`rl/engines/tinker/x.ts` → `engines`), or undefined outside rl/. */
const rlPartOf = (module: string): string | undefined =>
  module.startsWith("rl/") ? (module.split("/").length > 2 ? module.split("/")[1] : "(rl root)") : undefined;

/** rl edges against algorithm < loop < engines < job; engines' own folders (local, tinker, openai) may share. */
function wrongWayRlEdges(graph: Map<string, string[]>): string[] {
  const wrong: string[] = [];
  for (const [from, targets] of graph) {
    const a = rlPartOf(from);
    if (a === undefined) continue;
    for (const to of targets) {
      const b = rlPartOf(to);
      if (b === undefined || a === b) continue;
      const [ra, rb] = [RL_RANK[a], RL_RANK[b]];
      if (ra === undefined || rb === undefined)
        wrong.push(`${from} → ${to} (no rl part for ${ra === undefined ? a : b})`);
      else if (rb > ra) wrong.push(`${from} → ${to} (rl/${a} imports rl/${b})`);
    }
  }
  return wrong.sort();
}

/** Edges that point up, or sideways between sibling folders of one rank. */
function wrongWayEdges(graph: Map<string, string[]>): string[] {
  const wrong: string[] = [];
  for (const [from, targets] of graph) {
    for (const to of targets) {
      const [a, b] = [layerOf(from), layerOf(to)];
      if (a === b) continue;
      const [ra, rb] = [LAYER_RANK[a], LAYER_RANK[b]];
      if (ra === undefined || rb === undefined) wrong.push(`${from} → ${to} (no layer for ${ra ? b : a}/)`);
      else if (rb > ra) wrong.push(`${from} → ${to} (${a} imports the higher layer ${b})`);
      else if (rb === ra) wrong.push(`${from} → ${to} (${a} imports its sibling ${b})`);
    }
  }
  return wrong.sort();
}

/** Every import cycle, each once, as `a → b → … → a` (Tarjan's strongly connected components). */
function importCycles(graph: Map<string, string[]>): string[] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const components: string[][] = [];
  let next = 0;
  const visit = (v: string) => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!graph.has(w)) continue;
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      const selfLoop = (graph.get(v) ?? []).includes(v);
      if (component.length > 1 || selfLoop) components.push(component.sort());
    }
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return components.map((c) => c.join(" ↔ ")).sort();
}

describe("src/ layering", () => {
  const graph = importGraph();

  it("finds the modules and their imports (the scanner sees static, type-only, re-export and dynamic imports)", () => {
    expect(graph.size).toBeGreaterThan(100);
    const scanned = ts.preProcessFile(
      'import type { A } from "./a.ts";\nexport { b } from "./b.ts";\nconst c = await import("./c.ts");\n// import "./d.ts"',
      true,
      true,
    );
    expect(scanned.importedFiles.map((f) => f.fileName)).toEqual(["./a.ts", "./b.ts", "./c.ts"]);
    expect(layerOf("index.ts")).toBe("(root)");
    expect(layerOf("rl/encode.ts")).toBe("rl");
  });

  it("imports only point down: util < tensor < model < {data, reward} < {rl, eval} < serve < cli < index.ts", () => {
    expect(wrongWayEdges(graph)).toEqual([]);
  });

  it("inside rl/: algorithm < loop < engines < job (the algorithm imports nothing from loop, job or engines)", () => {
    expect(wrongWayRlEdges(graph)).toEqual([]);
    const parts = new Set([...graph.keys()].flatMap((m) => rlPartOf(m) ?? []));
    expect([...parts].sort()).toEqual(["algorithm", "engines", "job", "loop"]);
  });

  it("reports an rl edge against the order (the check itself works)", () => {
    const fake = new Map([
      ["rl/algorithm/a.ts", ["rl/loop/b.ts", "rl/algorithm/c.ts", "model/d.ts"]],
      ["rl/engines/tinker/e.ts", ["rl/engines/openai/f.ts", "rl/loop/b.ts", "rl/job/g.ts"]],
      ["rl/x.ts", []],
      ["rl/job/g.ts", ["rl/x.ts"]],
    ]);
    expect(wrongWayRlEdges(fake)).toEqual([
      "rl/algorithm/a.ts → rl/loop/b.ts (rl/algorithm imports rl/loop)",
      "rl/engines/tinker/e.ts → rl/job/g.ts (rl/engines imports rl/job)",
      "rl/job/g.ts → rl/x.ts (no rl part for (rl root))",
    ]);
  });

  it("unit tests and fixtures in src/ follow the same rule (a test of two layers is an integration test: test/)", () => {
    const tests = importGraph(isTestFile);
    expect(tests.size).toBeGreaterThan(100);
    const edges = new Map([...tests].map(([m, to]) => [m, to.filter((t) => !t.startsWith(TEST_HELPERS))]));
    expect(wrongWayEdges(edges)).toEqual([]);
    expect(wrongWayRlEdges(edges)).toEqual([]);
  });

  it("reports an upward and a sibling edge (the check itself works)", () => {
    const fake = new Map([
      ["data/x.ts", ["rl/y.ts", "reward/z.ts", "model/w.ts", "data/v.ts"]],
      ["cli/a.ts", ["util/b.ts", "index.ts"]],
    ]);
    expect(wrongWayEdges(fake)).toEqual([
      "cli/a.ts → index.ts (cli imports the higher layer (root))",
      "data/x.ts → reward/z.ts (data imports its sibling reward)",
      "data/x.ts → rl/y.ts (data imports the higher layer rl)",
    ]);
  });

  it("has no import cycles inside cli/ (commands do not import cli/main.ts back), and no new cycles elsewhere", () => {
    const cycles = importCycles(graph);
    expect(cycles.filter((c) => c.includes("cli/"))).toEqual([]);
    expect(cycles.filter((c) => !KNOWN_CYCLES.includes(c))).toEqual([]);
    // a cycle that has been untangled leaves the list, so the list stays the truth
    expect(KNOWN_CYCLES.filter((c) => !cycles.includes(c))).toEqual([]);
  });

  it("reports a cycle (the check itself works)", () => {
    const fake = new Map([
      ["cli/main.ts", ["cli/sft.ts"]],
      ["cli/sft.ts", ["cli/main.ts", "cli/args.ts"]],
      ["cli/args.ts", []],
    ]);
    expect(importCycles(fake)).toEqual(["cli/main.ts ↔ cli/sft.ts"]);
  });
});
