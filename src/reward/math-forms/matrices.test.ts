import { describe, expect, it } from "vitest";
import { normalizeLatex } from "../normalize.ts";
import { testFormContext } from "./form-context.fixture.ts";
import { compareMatrices, determinantText, parseMatrix } from "./matrices.ts";

const ctx = testFormContext();
const compare = (p: string, g: string) => compareMatrices(normalizeLatex(p), normalizeLatex(g), ctx);
const parse = (text: string) => parseMatrix(normalizeLatex(text));

describe("parseMatrix", () => {
  it.each([
    [
      "\\begin{pmatrix}1&2\\\\3&4\\end{pmatrix}",
      "matrix",
      [
        ["1", "2"],
        ["3", "4"],
      ],
    ],
    [
      "\\left( \\begin{array}{cc} 1 & 2 \\\\ 3 & 4 \\end{array} \\right)",
      "matrix",
      [
        ["1", "2"],
        ["3", "4"],
      ],
    ],
    [
      "\\left[\\begin{array}{c|c} 1 & 0 \\\\ \\hline 0 & 1 \\end{array}\\right]",
      "matrix",
      [
        ["1", "0"],
        ["0", "1"],
      ],
    ],
    ["\\begin{array}{*{3}{r}} 1 & 2 & 3 \\end{array}", "matrix", [["1", "2", "3"]]],
    ["\\begin{bmatrix} 1 \\\\[2pt] 2 \\\\ \\end{bmatrix}", "matrix", [["1"], ["2"]]],
    [
      "\\begin{vmatrix}a&b\\\\c&d\\end{vmatrix}",
      "determinant",
      [
        ["a", "b"],
        ["c", "d"],
      ],
    ],
    [
      "\\left|\\begin{matrix}1&2\\\\3&4\\end{matrix}\\right|",
      "determinant",
      [
        ["1", "2"],
        ["3", "4"],
      ],
    ],
    [
      "\\det \\begin{pmatrix}1&2\\\\3&4\\end{pmatrix}",
      "determinant",
      [
        ["1", "2"],
        ["3", "4"],
      ],
    ],
    [
      "[[1,2],[3,4]]",
      "matrix",
      [
        ["1", "2"],
        ["3", "4"],
      ],
    ],
  ])("%s", (text, kind, rows) => {
    expect(parse(text)).toMatchObject({ kind, rows });
  });
  it.each([
    ["\\begin{Vmatrix}1&2\\\\3&4\\end{Vmatrix}", "a norm, not a matrix"],
    ["\\begin{pmatrix}1&&2\\end{pmatrix}", "an empty entry"],
    ["\\begin{pmatrix}1&2\\end{bmatrix}", "mismatched environment"],
    ["(\\begin{pmatrix}1\\end{pmatrix}|", "mismatched delimiters"],
    ["[1,2]", "a flat list"],
    ["[[1,2],[3]]", "ragged nested list"],
  ])("%s is not a matrix (%s)", (text) => {
    expect(parse(text)).toBeNull();
  });
});

describe("determinantText", () => {
  it("expands by the Leibniz formula up to 4×4", () => {
    expect(
      determinantText([
        ["a", "b"],
        ["c", "d"],
      ]),
    ).toBe("(a)\\cdot (d)-(b)\\cdot (c)");
    expect(determinantText([["x"]])).toBe("(x)");
    expect(determinantText(Array.from({ length: 5 }, () => ["1", "2", "3", "4", "5"]))).toBeNull();
    expect(determinantText([["1", "2"]])).toBeNull();
  });
});

describe("compareMatrices", () => {
  it.each([
    ["\\begin{bmatrix}1&2\\\\3&4\\end{bmatrix}", "\\begin{pmatrix}1&2\\\\3&4\\end{pmatrix}", "matrix"],
    [
      "\\left( \\begin{array}{cc} 1 & 2 \\\\ 3 & 4 \\end{array} \\right)",
      "\\begin{pmatrix}1&2\\\\3&4\\end{pmatrix}",
      "matrix",
    ],
    ["\\begin{pmatrix}\\frac12&2\\end{pmatrix}", "\\begin{pmatrix}0.5&2\\end{pmatrix}", "matrix"],
    ["\\begin{vmatrix}1&2\\\\3&4\\end{vmatrix}", "-2", "determinant"],
    ["-2", "\\begin{vmatrix}1&2\\\\3&4\\end{vmatrix}", "determinant"],
    ["\\begin{vmatrix}a&b\\\\c&d\\end{vmatrix}", "ad-bc", "determinant"],
    ["\\begin{vmatrix}2&0\\\\0&3\\end{vmatrix}", "\\begin{vmatrix}1&0\\\\0&6\\end{vmatrix}", "determinant"],
  ])("%s = %s", (p, g, reason) => {
    expect(compare(p, g)).toEqual({ equal: true, reason });
  });
  it.each([
    [
      "\\begin{pmatrix}1&2\\\\3&4\\end{pmatrix}",
      "\\begin{pmatrix}1&2\\\\3&5\\end{pmatrix}",
      "matrix_mismatch",
    ],
    ["\\begin{pmatrix}1&2\\end{pmatrix}", "\\begin{pmatrix}1\\\\2\\end{pmatrix}", "shape_mismatch"],
    [
      "\\begin{vmatrix}1&2\\\\3&4\\end{vmatrix}",
      "\\begin{pmatrix}1&2\\\\3&4\\end{pmatrix}",
      "determinant_vs_matrix",
    ],
    ["\\begin{vmatrix}1&2\\\\3&4\\end{vmatrix}", "2", "determinant_mismatch"],
    ["\\begin{vmatrix}a&b\\\\c&d\\end{vmatrix}", "ad+bc", "determinant_mismatch"],
    ["\\begin{vmatrix}1&2&3\\\\4&5&6\\end{vmatrix}", "0", "determinant_not_square"],
  ])("%s ≠ %s (%s)", (p, g, reason) => {
    expect(compare(p, g)).toEqual({ equal: false, reason });
  });
  it("leaves a matrix against a non-matrix, and answers without one, to the other rules", () => {
    expect(compare("\\begin{pmatrix}1&2\\\\3&4\\end{pmatrix}", "-2")).toBeNull();
    expect(compare("\\begin{pmatrix}2\\\\3\\end{pmatrix}", "(2,3)")).toBeNull();
    expect(compare("[[1,2],[3,4]]", "[[1,2],[3,4.0]]")).toBeNull();
    expect(compare("5", "5.0")).toBeNull();
  });
  it("compares entries under the caller's tolerance", () => {
    const p = normalizeLatex("\\begin{pmatrix}0.33\\\\0.2\\end{pmatrix}");
    const g = normalizeLatex("\\begin{pmatrix}\\frac{1}{3}\\\\\\frac{1}{5}\\end{pmatrix}");
    expect(compareMatrices(p, g, testFormContext(2e-2))?.equal).toBe(true);
    expect(compareMatrices(p, g, ctx)?.equal).toBe(false);
  });
});
