/**
 * `glmv data` at the command line: pipeline-file mistakes are exit 2 with the field path and the file's line (an
 * unknown stage lists the known ones), `data stages` lists stages with their options, `data plan` writes Slurm
 * scripts that bash accepts and Kubernetes Indexed Jobs that parse, one per phase, chained.
 */
import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import { runGlmv } from "../helpers/spawn-glmv.ts";
import { TOY_MODULE, tempDir, writePipeline } from "./helpers/pipelines.ts";

const input = { generate: "toy-images", shards: 2, perShard: 2 };

describe("glmv data: pipeline mistakes", () => {
  it("broken YAML is exit 2 naming the file and line", async () => {
    const dir = tempDir();
    const file = join(dir, "p.yaml");
    writeFileSync(file, "name: x\ninput: { generate: toy-images\nstages: [\n");
    const r = await runGlmv(["data", "run", file, "--out", join(dir, "o")]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/p\.yaml is not valid YAML \(line \d+\)/);
  });

  it("an unknown stage is exit 2 with its line and the known stages", async () => {
    const dir = tempDir();
    const file = writePipeline(dir, {
      name: "x",
      input,
      output: { format: "jsonl" },
      stages: [{ use: "toy-tag" }, { use: "toy-tga" }],
    });
    const r = await runGlmv(["data", "run", file, "--out", join(dir, "o")]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/unknown stage "toy-tga"; known: .*toy-tag/);
    const line =
      readFileSync(file, "utf8")
        .split("\n")
        .findIndex((l) => l.includes("toy-tga")) + 1;
    expect(r.stderr).toContain(`pipeline.yaml:${line}`);
  });

  it("a bad stage option names stages.N.field and its line; an unknown top-level key names the key", async () => {
    const dir = tempDir();
    const file = writePipeline(dir, {
      name: "x",
      input,
      output: { format: "jsonl" },
      stages: [{ use: "toy-tag" }, { use: "toy-drop-every", n: "three" }],
    });
    const r = await runGlmv(["data", "run", file, "--out", join(dir, "o")]);
    expect(r.code).toBe(2);
    const line =
      readFileSync(file, "utf8")
        .split("\n")
        .findIndex((l) => l.includes("three")) + 1;
    expect(r.stderr).toMatch(/stages\.1\.n must be a number ≥ 1, got "three"/);
    expect(r.stderr).toContain(`pipeline.yaml:${line}`);
    const typo = writePipeline(
      dir,
      { name: "x", input, output: { format: "jsonl" }, stagez: [] },
      "typo.yaml",
    );
    const t = await runGlmv(["data", "run", typo, "--out", join(dir, "o")]);
    expect(t.code).toBe(2);
    expect(t.stderr).toMatch(/unknown key 'stagez'.*did you mean 'stages'/);
  });

  it("--shard without --of is a usage error", async () => {
    const dir = tempDir();
    const file = writePipeline(dir, { name: "x", input, output: { format: "jsonl" } });
    const r = await runGlmv(["data", "run", file, "--out", join(dir, "o"), "--shard", "1"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("--shard 1 needs --of N");
  });
});

describe("glmv data stages and plan", () => {
  it("lists stages and sources with summaries and option fields", async () => {
    const r = await runGlmv(["data", "stages", "--module", TOY_MODULE, "--json"]);
    expect(r.code).toBe(0);
    const listed = JSON.parse(r.stdout) as {
      stages: { name: string; options: string[] }[];
      sources: { name: string }[];
    };
    expect(listed.stages.find((s) => s.name === "toy-drop-every")?.options).toEqual([
      "n: integer (required)",
      'reason: string = "every_nth"',
      "delayMs: integer = 0",
      "openDelayMs: integer = 0",
    ]);
    expect(listed.sources.map((s) => s.name)).toContain("toy-images");
  });

  it("writes one Slurm array job per phase, chained by afterok, that bash -n accepts", async () => {
    const dir = tempDir();
    const file = writePipeline(dir, {
      name: "Big Run",
      input,
      output: { format: "jsonl" },
      stages: [{ use: "toy-tag" }, { use: "toy-count-all" }],
    });
    const r = await runGlmv([
      "data",
      "plan",
      file,
      "--out",
      join(dir, "run"),
      "--tasks",
      "4",
      "--scheduler",
      "slurm",
    ]);
    expect(r.code).toBe(0);
    const plan = join(dir, "run", "plan");
    for (const name of ["slurm-phase-0.sbatch", "slurm-phase-1.sbatch", "submit-slurm.sh"])
      execFileSync("bash", ["-n", join(plan, name)]);
    const phase1 = readFileSync(join(plan, "slurm-phase-1.sbatch"), "utf8");
    expect(phase1).toContain("#SBATCH --array=0-3");
    expect(phase1).toContain(`--phase 1 --of 4`);
    expect(readFileSync(join(plan, "submit-slurm.sh"), "utf8")).toContain(
      '--dependency=afterok:"$job" slurm-phase-1.sbatch',
    );
  });

  it("writes one Kubernetes Indexed Job per phase", async () => {
    const dir = tempDir();
    const file = writePipeline(dir, {
      name: "k",
      input,
      output: { format: "jsonl" },
      stages: [{ use: "toy-tag" }],
    });
    const r = await runGlmv([
      "data",
      "plan",
      file,
      "--out",
      "/data/run",
      "--tasks",
      "3",
      "--scheduler",
      "kubernetes",
      "--scripts",
      join(dir, "k8s"),
      "--pvc",
      "curation",
    ]);
    expect(r.code).toBe(0);
    const docs = parseAllDocuments(readFileSync(join(dir, "k8s", "k8s-phase-0.yaml"), "utf8"));
    const job = (Array.isArray(docs) ? docs[0]! : docs).toJS();
    expect(job).toMatchObject({
      apiVersion: "batch/v1",
      kind: "Job",
      spec: { completionMode: "Indexed", completions: 3, parallelism: 3 },
    });
    const container = job.spec.template.spec.containers[0];
    expect(container.command).toEqual([
      "glmv",
      "data",
      "run",
      file,
      "--out",
      "/data/run",
      "--phase",
      "0",
      "--of",
      "3",
    ]);
    expect(job.spec.template.spec.volumes[0].persistentVolumeClaim.claimName).toBe("curation");
    execFileSync("bash", ["-n", join(dir, "k8s", "submit-k8s.sh")]);
  });
});
