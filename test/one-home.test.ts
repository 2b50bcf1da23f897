/**
 * One home for each shared fact (glmv issue 17): the GLM special-token strings are spelled only in
 * `model/special-tokens.ts`, and the names that used to mean two different things are declared in one module each.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join, relative, resolve, sep } from "node:path";
import ts from "typescript";
import { describe, expect, it } from "vitest";
import { SPECIAL_TOKENS } from "../src/model/special-tokens.ts";

const SRC = resolve(import.meta.dirname, "../src");
const TOKEN_HOME = "model/special-tokens.ts";

/** Every non-test TypeScript module under `src/`, parsed. */
function sourceFiles(dir = SRC): ts.SourceFile[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    if (!/\.ts$/.test(entry.name) || /\.(test|fixture)\.ts$/.test(entry.name)) return [];
    const name = relative(SRC, path).split(sep).join("/");
    return [ts.createSourceFile(name, readFileSync(path, "utf8"), ts.ScriptTarget.Latest, true)];
  });
}

const files = sourceFiles();

/** String literals in code (not comments) whose whole text is one of `tokens`, as `file:line text`. */
function literalsSpelling(sf: ts.SourceFile, tokens: ReadonlySet<string>): string[] {
  const found: string[] = [];
  const visit = (node: ts.Node) => {
    if ((ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) && tokens.has(node.text)) {
      const line = sf.getLineAndCharacterOfPosition(node.getStart(sf)).line + 1;
      found.push(`${sf.fileName}:${line} ${node.text}`);
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return found;
}

/** Top-level declarations (functions, classes, types, variables) by name → the modules declaring them. */
function declarations(): Map<string, string[]> {
  const where = new Map<string, string[]>();
  for (const sf of files) {
    const names = new Set<string>();
    for (const st of sf.statements) {
      if (
        (ts.isFunctionDeclaration(st) ||
          ts.isClassDeclaration(st) ||
          ts.isTypeAliasDeclaration(st) ||
          ts.isInterfaceDeclaration(st)) &&
        st.name
      )
        names.add(st.name.text);
      if (ts.isVariableStatement(st))
        for (const d of st.declarationList.declarations) if (ts.isIdentifier(d.name)) names.add(d.name.text);
    }
    for (const name of names) where.set(name, [...(where.get(name) ?? []), sf.fileName]);
  }
  return where;
}

describe("one home", () => {
  it("spells the GLM special-token strings only in model/special-tokens.ts (others read SPECIAL_TOKENS)", () => {
    const tokens = new Set<string>(Object.values(SPECIAL_TOKENS));
    const elsewhere = files
      .filter((sf) => sf.fileName !== TOKEN_HOME)
      .flatMap((sf) => literalsSpelling(sf, tokens));
    expect(elsewhere).toEqual([]);
    const home = files.find((sf) => sf.fileName === TOKEN_HOME)!;
    expect(literalsSpelling(home, tokens)).toHaveLength(tokens.size);
  });

  it("finds a token spelled in code but not one in a comment (the check itself works)", () => {
    const sf = ts.createSourceFile(
      "x.ts",
      '// "<think>"\nconst a = "<think>";',
      ts.ScriptTarget.Latest,
      true,
    );
    expect(literalsSpelling(sf, new Set(["<think>"]))).toEqual(["x.ts:2 <think>"]);
  });

  it("special-tokens.ts imports nothing heavy (glmv/reward loads without the tensor engine)", () => {
    const home = files.find((sf) => sf.fileName === TOKEN_HOME)!;
    const imports = ts.preProcessFile(home.text, true, true).importedFiles.map((f) => f.fileName);
    expect(imports.every((spec) => spec === "../util/errors.ts")).toBe(true);
  });

  it("declares each formerly doubled name in one module: one meaning per name", () => {
    const where = declarations();
    const doubled = [
      "numericValue",
      "Scorer",
      "scoreInputs",
      "EncodedPrompt",
      "SftConfig",
      "HTTP_STATUS",
      "ModelInput",
      "TensorData",
      "Datum",
      "createRng",
      "mulberry32",
      "Command",
    ].filter((name) => (where.get(name) ?? []).length !== 1);
    expect(doubled.map((name) => `${name}: ${(where.get(name) ?? ["nowhere"]).join(", ")}`)).toEqual([]);
  });
});
