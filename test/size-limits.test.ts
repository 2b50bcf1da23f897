/**
 * Size limits (style.md §1, glmv issue 17): no source file under `src/` over 400 lines and no function over 80
 * lines, tests (`*.test.ts`) and fixtures (`*.fixture.ts`) excepted. A function is any function-like node with a
 * body (declarations, expressions, arrows, methods, accessors, constructors), counted from its first line to its
 * last (its leading doc comment excluded); a nested function counts inside its parent as well as on its own.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join, relative, resolve, sep } from "node:path";
import ts from "typescript";
import { describe, expect, it } from "vitest";

const SRC = resolve(import.meta.dirname, "../src");
const MAX_FILE_LINES = 400;
const MAX_FUNCTION_LINES = 80;

const isSource = (name: string) => name.endsWith(".ts") && !/\.(test|fixture)\.ts$/.test(name);

/** Every non-test `.ts` file under `src/`, as a path relative to `src/` with `/` separators. */
function sourceFiles(dir = SRC): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return isSource(entry.name) ? [relative(SRC, path).split(sep).join("/")] : [];
  });
}

/** Lines of a text as an editor numbers them (a final newline does not open another line). */
const lineCount = (text: string): number => text.replace(/\r?\n$/, "").split(/\r?\n/).length;

/** The name a reader would search for: the function's own, else the variable, property or method holding it. */
function functionName(node: ts.FunctionLikeDeclaration, source: ts.SourceFile): string {
  if (ts.isConstructorDeclaration(node)) return "constructor";
  const own = node.name ?? (ts.isVariableDeclaration(node.parent) ? node.parent.name : undefined);
  const holder =
    own ??
    (ts.isPropertyAssignment(node.parent) || ts.isPropertyDeclaration(node.parent)
      ? node.parent.name
      : undefined);
  return holder ? holder.getText(source) : "(anonymous)";
}

type LongFunction = { name: string; line: number; lines: number };

/** Functions of one source text longer than `max` lines, in source order. */
function longFunctions(text: string, max: number, fileName = "source.ts"): LongFunction[] {
  const source = ts.createSourceFile(fileName, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const found: LongFunction[] = [];
  const visit = (node: ts.Node) => {
    if (ts.isFunctionLike(node) && "body" in node && node.body) {
      const first = source.getLineAndCharacterOfPosition(node.getStart(source)).line;
      const last = source.getLineAndCharacterOfPosition(node.getEnd()).line;
      const lines = last - first + 1;
      if (lines > max) found.push({ name: functionName(node, source), line: first + 1, lines });
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

/** Every breach of the limits under `src/`, one line each: `file (N lines)` or `file:line name (N lines)`. */
function sizeBreaches(files: readonly string[], read: (file: string) => string): string[] {
  return files.flatMap((file) => {
    const text = read(file);
    const lines = lineCount(text);
    const tooLong = lines > MAX_FILE_LINES ? [`${file} (${lines} lines > ${MAX_FILE_LINES})`] : [];
    const functions = longFunctions(text, MAX_FUNCTION_LINES, file).map(
      (f) => `${file}:${f.line} ${f.name} (${f.lines} lines > ${MAX_FUNCTION_LINES})`,
    );
    return [...tooLong, ...functions];
  });
}

describe("size limits under src/", () => {
  it(`no file over ${MAX_FILE_LINES} lines and no function over ${MAX_FUNCTION_LINES} lines (tests and fixtures excepted)`, () => {
    const files = sourceFiles();
    expect(files.length).toBeGreaterThan(100);
    expect(sizeBreaches(files, (f) => readFileSync(join(SRC, f), "utf8"))).toEqual([]);
  });

  it("reports a long file and each kind of long function (the check itself works)", () => {
    const body = (n: number) => Array.from({ length: n }, (_, k) => `  const v${k} = ${k};`).join("\n");
    const synthetic = [
      "/** a doc comment does not count */",
      `export function declared() {\n${body(79)}\n}`, // 81 lines
      `const arrow = () => {\n${body(78)}\n};`, // 80 lines: at the limit
      `export const made = (): object => ({\n  method() {\n${body(80)}\n  },\n});`, // outer 84, method 82
      `class Shape {\n  constructor() {\n${body(81)}\n  }\n}`, // constructor 83
      ...Array.from({ length: 80 }, (_, k) => `export const c${k} = ${k};`),
    ].join("\n");
    const files: Record<string, string> = { "big.ts": synthetic, "small.ts": "export const x = 1;\n" };
    expect(sizeBreaches(Object.keys(files), (f) => files[f]!)).toEqual([
      `big.ts (${lineCount(synthetic)} lines > 400)`,
      "big.ts:2 declared (81 lines > 80)",
      "big.ts:163 made (84 lines > 80)",
      "big.ts:164 method (82 lines > 80)",
      "big.ts:248 constructor (83 lines > 80)",
    ]);
    expect(lineCount(synthetic)).toBeGreaterThan(400);
  });
});
