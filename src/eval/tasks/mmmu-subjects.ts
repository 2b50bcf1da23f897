/**
 * MMMU's 30 subjects and 6 disciplines (MMMU-Benchmark/MMMU `eval/data_utils.py`: `CAT_SHORT2LONG` gives the order
 * `main_parse_and_eval.py --subject ALL` runs them in, `DOMAIN_CAT2SUB_CAT` the disciplines), and the official
 * aggregation: per-subject accuracy, then `calculate_ins_level_acc` (Σ acc·n / Σ n) per discipline and overall.
 */
import type { BreakdownRow, ItemVerdict } from "../types.ts";

/** Subjects in `CAT_SHORT2LONG` order (acc, agri, arch, art, …, socio). */
export const MMMU_SUBJECTS = [
  "Accounting",
  "Agriculture",
  "Architecture_and_Engineering",
  "Art",
  "Art_Theory",
  "Basic_Medical_Science",
  "Biology",
  "Chemistry",
  "Clinical_Medicine",
  "Computer_Science",
  "Design",
  "Diagnostics_and_Laboratory_Medicine",
  "Economics",
  "Electronics",
  "Energy_and_Power",
  "Finance",
  "Geography",
  "History",
  "Literature",
  "Manage",
  "Marketing",
  "Materials",
  "Math",
  "Mechanical_Engineering",
  "Music",
  "Pharmacy",
  "Physics",
  "Psychology",
  "Public_Health",
  "Sociology",
] as const;

export const MMMU_DISCIPLINES: Record<string, readonly string[]> = {
  "Art and Design": ["Art", "Art_Theory", "Design", "Music"],
  Business: ["Accounting", "Economics", "Finance", "Manage", "Marketing"],
  Science: ["Biology", "Chemistry", "Geography", "Math", "Physics"],
  "Health and Medicine": [
    "Basic_Medical_Science",
    "Clinical_Medicine",
    "Diagnostics_and_Laboratory_Medicine",
    "Pharmacy",
    "Public_Health",
  ],
  "Humanities and Social Science": ["History", "Literature", "Sociology", "Psychology"],
  "Tech and Engineering": [
    "Agriculture",
    "Architecture_and_Engineering",
    "Computer_Science",
    "Electronics",
    "Energy_and_Power",
    "Materials",
    "Mechanical_Engineering",
  ],
};

/** The subject in an MMMU id (`validation_Art_Theory_12` → `Art_Theory`), or undefined. */
export function subjectOfId(id: string): string | undefined {
  return /^[^_]+_(.+?)_\d+$/.exec(id)?.[1];
}

/** `calculate_ins_level_acc`: Σ acc·n / Σ n over the groups, in their order (0 for none). */
export function insLevelAccuracy(rows: readonly BreakdownRow[]): number {
  let acc = 0;
  let n = 0;
  for (const row of rows) {
    acc += row.score * row.n;
    n += row.n;
  }
  return n === 0 ? 0 : acc / n;
}

/**
 * Per-subject rows (in first-appearance order), per-discipline rows (ins-level over its subjects) and the overall
 * ins-level accuracy the official report prints (before its `round(·, 3)`).
 */
export function subjectBreakdowns(
  subjects: readonly (string | undefined)[],
  verdicts: readonly ItemVerdict[],
): { bySubject: Record<string, BreakdownRow>; byDiscipline: Record<string, BreakdownRow>; overall: number } {
  const sums = new Map<string, { n: number; correct: number }>();
  subjects.forEach((subject, i) => {
    const key = subject ?? "unknown";
    const row = sums.get(key) ?? { n: 0, correct: 0 };
    row.n += 1;
    row.correct += verdicts[i]?.score ?? 0;
    sums.set(key, row);
  });
  const bySubject: Record<string, BreakdownRow> = {};
  for (const [subject, { n, correct }] of sums) bySubject[subject] = { n, score: correct / n };
  const byDiscipline: Record<string, BreakdownRow> = {};
  for (const [discipline, members] of Object.entries(MMMU_DISCIPLINES)) {
    const rows = members.flatMap((s) => (bySubject[s] ? [bySubject[s]] : []));
    if (rows.length > 0) {
      byDiscipline[discipline] = { n: rows.reduce((t, r) => t + r.n, 0), score: insLevelAccuracy(rows) };
    }
  }
  return { bySubject, byDiscipline, overall: insLevelAccuracy(Object.values(bySubject)) };
}
