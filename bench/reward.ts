/**
 * `npm run bench:reward`: throughput and latency of the reward system through the worker pool.
 * The corpus (built here, ≥ 2,000 items over every domain) uses real golds from MathVista testmini and OCRBench
 * with correct and perturbed predictions wrapped in valid 4.1V/4.5V responses, plus generated items for the other
 * domains and the hacking corpus. Prints a per-domain table, then exactly one JSON line:
 * {"itemsPerSec", "mathMeanMs", "p99Ms", "mathErrorShare"} (latencies are scoring times measured inside the workers;
 * `mathErrorShare` is the share of math pairs that fell through to a verifier error or a timeout, target 0).
 */
import { readFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { DOMAINS, type Domain } from "../src/model/domains.ts";
import { box, hackingCases, legitimateCases, r41, r45 } from "../src/reward/hacking-corpus.ts";
import { RewardPool } from "../src/reward/pool.ts";
import type { ScoreInput } from "../src/reward/system.ts";

type MathVistaItem = { question: string; choices: string[] | null; answer: string; answer_type: string };
type OcrBenchItem = { question: string; answers: string | string[] };

const readJson = <T>(rel: string): T => JSON.parse(readFileSync(new URL(rel, import.meta.url), "utf8")) as T;

/** A deterministic perturbation of a gold answer: a different number, a different option, a mangled string. */
function perturb(answer: string, k: number): string {
  const n = Number(answer);
  if (answer.trim() !== "" && Number.isFinite(n)) return String(n + 1 + (k % 3));
  if (answer.length > 1) return answer.slice(0, -1);
  return `${answer}x`;
}

/** Wrap a prediction in a valid response, alternating the two styles. */
function respond(pred: string, k: number): Pick<ScoreInput, "response" | "style"> {
  const think = `Looking at the figure, step ${k}: read the values and compute.`;
  return k % 2 === 0
    ? { response: r41(think, box(pred)), style: "4.1v" }
    : { response: r45(think, `The answer is ${box(pred)}.`), style: "4.5v" };
}

function mathVistaItems(): ScoreInput[] {
  const data = readJson<Record<string, MathVistaItem>>("../test/benchmarks/mathvista/testmini.json");
  return Object.entries(data).flatMap(([pid, v], k): ScoreInput[] => {
    const right = k % 2 === 0;
    if (v.choices && v.choices.length > 0) {
      const gold = String.fromCharCode(65 + Math.max(0, v.choices.indexOf(v.answer)));
      const pred = right ? gold : String.fromCharCode(65 + ((gold.charCodeAt(0) - 64) % v.choices.length));
      return [
        {
          id: `mv-${pid}`,
          domain: "choice" as const,
          answer: gold,
          options: v.choices,
          question: v.question,
          ...respond(pred, k),
        },
      ];
    }
    const pred = right ? v.answer : perturb(v.answer, k);
    return [
      {
        id: `mv-${pid}`,
        domain: "math" as const,
        answer: v.answer,
        question: v.question,
        ...respond(pred, k),
      },
    ];
  });
}

function ocrBenchItems(): ScoreInput[] {
  const data = readJson<OcrBenchItem[]>("../test/benchmarks/ocrbench/OCRBench.json");
  return data.map((v, k) => {
    const gold = Array.isArray(v.answers) ? (v.answers[0] ?? "") : v.answers;
    const pred = k % 2 === 0 ? gold : perturb(gold, k);
    return {
      id: `ocr-${k}`,
      domain: "ocr" as const,
      answer: gold,
      question: v.question,
      ...respond(pred, k),
    };
  });
}

/** Generated items for the domains the benchmark files do not cover (and symbolic math). */
function generatedItems(count: number): ScoreInput[] {
  const makers: ((k: number) => Omit<ScoreInput, "id" | "response" | "style"> & { pred: string })[] = [
    (k) => ({
      domain: "counting",
      answer: String(k % 20),
      pred: String(k % 3 === 0 ? (k % 20) + 1 : k % 20),
    }),
    (k) => ({ domain: "chart", answer: `${(k % 50) + 0.5}`, pred: `${(k % 50) + (k % 3 === 0 ? 3 : 0.5)}` }),
    (k) => ({ domain: "physics", answer: `${k % 30} m/s`, pred: `${(k % 30) + (k % 3 === 0 ? 1 : 0)} m/s` }),
    (k) => ({
      domain: "chemistry",
      answer: `${k % 14} mol`,
      pred: `${(k % 14) + (k % 3 === 0 ? 2 : 0)} mol`,
    }),
    (k) => ({
      domain: "text",
      answer: ["red", "blue", "green", "a cat"][k % 4]!,
      pred: ["red", "Blue", "yellow", "a dog"][k % 4]!,
    }),
    (k) => {
      const x = (k * 37) % 600;
      return {
        domain: "grounding",
        answer: `[[${x},100,${x + 200},300]]`,
        pred: `[[${x + (k % 3) * 20},110,${x + 190},310]]`,
      };
    },
    (k) => ({
      domain: "gui",
      answer: `{"action_type":"click","box_2d":[[${k % 500},100,${(k % 500) + 100},200]]}`,
      pred: `{"action_type":"click","box_2d":[[${(k % 500) + (k % 2) * 30},100,${(k % 500) + 100},200]]}`,
    }),
    (k) => ({
      domain: "math",
      answer: `${(k % 9) + 1}x+${k % 5}`,
      pred: k % 3 === 0 ? `${k % 5}+${(k % 9) + 1}x` : `${(k % 9) + 2}x`,
    }),
    (k) => ({
      domain: "math",
      answer: `\\frac{${(k % 7) + 1}}{${(k % 5) + 2}}`,
      pred: `${((k % 7) + 1) / ((k % 5) + 2)}`,
    }),
  ];
  return Array.from({ length: count }, (_, k) => {
    const { pred, ...rest } = makers[k % makers.length]!(k);
    return { id: `gen-${k}`, ...rest, ...respond(pred, k) };
  });
}

function corpus(): ScoreInput[] {
  const tricks = [...hackingCases(), ...legitimateCases()].map((c) => c.item);
  return [...mathVistaItems(), ...ocrBenchItems(), ...generatedItems(900), ...tricks];
}

const quantile = (sorted: readonly number[], q: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;

async function main(): Promise<void> {
  const items = corpus();
  const workers = availableParallelism();
  const pool = new RewardPool({ workers, deadlineMs: 2000 });
  try {
    // One untimed pass: starts the workers and lets the JIT settle.
    await pool.score(items);
    const rounds = 3;
    const ms: number[] = [];
    const domainOf: Domain[] = [];
    let timeouts = 0;
    // Math pairs whose score says nothing about the answer: the verifier threw, or the deadline cut it.
    let mathPairs = 0;
    let mathErrors = 0;
    const t0 = performance.now();
    for (let r = 0; r < rounds; r++) {
      await pool.score(items, {
        onResult: (i, result, timing) => {
          ms.push(timing.ms);
          domainOf.push(items[i]!.domain);
          if (result.timedOut) timeouts++;
          if (items[i]!.domain === "math") {
            mathPairs++;
            if (result.timedOut || result.stage === "verifier_error") mathErrors++;
          }
        },
      });
    }
    const seconds = (performance.now() - t0) / 1000;
    const total = items.length * rounds;

    console.log(
      `reward bench: ${items.length} items × ${rounds} rounds on ${workers} workers, ${timeouts} timeouts, ${mathErrors} of ${mathPairs} math pairs a verifier error or timeout`,
    );
    console.log("domain      items   mean ms    p99 ms   items/s per worker");
    let mathMeanMs = 0;
    for (const domain of DOMAINS) {
      const own = ms.filter((_, i) => domainOf[i] === domain).sort((a, b) => a - b);
      if (own.length === 0) continue;
      const mean = own.reduce((a, b) => a + b, 0) / own.length;
      if (domain === "math") mathMeanMs = mean;
      const row = [domain.padEnd(10), String(own.length / rounds).padStart(6), mean.toFixed(4).padStart(9)];
      row.push(quantile(own, 0.99).toFixed(4).padStart(9), (1000 / mean).toFixed(0).padStart(20));
      console.log(row.join(" "));
    }
    const sorted = ms.slice().sort((a, b) => a - b);
    console.log(
      JSON.stringify({
        itemsPerSec: Math.round(total / seconds),
        mathMeanMs: Number(mathMeanMs.toFixed(4)),
        p99Ms: Number(quantile(sorted, 0.99).toFixed(4)),
        mathErrorShare: mathPairs > 0 ? Number((mathErrors / mathPairs).toFixed(6)) : 0,
      }),
    );
  } finally {
    await pool.close();
  }
}

await main();
