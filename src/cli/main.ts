import { GlmvError } from "../util/errors.ts";
import type { Command } from "./command.ts";
import { describeFailure, EXIT_OK, EXIT_USAGE } from "./failure.ts";
import { packageVersion } from "./version.ts";

/** Commands are loaded lazily so `glmv reward score` never pays for loading the tensor engine. */
const COMMANDS: Record<string, () => Promise<Command>> = {
  "reward score": async () => (await import("./reward-score.ts")).rewardScoreCommand,
  "reward clean": async () => (await import("./reward-clean.ts")).rewardCleanCommand,
  "serve reward": async () => (await import("./serve.ts")).serveRewardCommand,
  "serve curriculum": async () => (await import("./serve.ts")).serveCurriculumCommand,
  "serve trainer": async () => (await import("./serve-trainer.ts")).serveTrainerCommand,
  "serve model": async () => (await import("./serve-model.ts")).serveModelCommand,
  generate: async () => (await import("./generate.ts")).generateCommand,
  rl: async () => (await import("./rl.ts")).rlCommand,
  sft: async () => (await import("./sft.ts")).sftCommand,
  "eval run": async () => (await import("./eval-run.ts")).evalRunCommand,
  "eval tasks": async () => (await import("./eval.ts")).evalTasksCommand,
  "eval score": async () => (await import("./eval.ts")).evalScoreCommand,
  "eval compare": async () => (await import("./eval.ts")).evalCompareCommand,
  "data run": async () => (await import("./data.ts")).dataRunCommand,
  "data plan": async () => (await import("./data-plan.ts")).dataPlanCommand,
  "data report": async () => (await import("./data-plan.ts")).dataReportCommand,
  "data stages": async () => (await import("./data.ts")).dataStagesCommand,
  "data example": async () => (await import("./data-example.ts")).dataExampleCommand,
};

/** Command groups: the first word of two-word commands (`glmv reward`, `glmv serve`). */
const GROUPS = [
  ...new Set(Object.keys(COMMANDS).flatMap((name) => (name.includes(" ") ? [name.split(" ")[0]!] : []))),
];

function usage(): string {
  const lines = Object.keys(COMMANDS).map((name) => `  glmv ${name}`);
  return [
    "usage:",
    ...lines,
    "",
    "Run `glmv <command> --help` for a command's options, `glmv --version` for the version.",
  ].join("\n");
}

/** A group's subcommands with their summaries (loads only that group's modules). */
async function groupUsage(group: string): Promise<string> {
  const names = Object.keys(COMMANDS).filter((name) => name.startsWith(`${group} `));
  const commands = await Promise.all(names.map(async (name) => [name, await COMMANDS[name]!()] as const));
  const width = Math.max(...names.map((n) => n.length));
  const lines = commands.map(([name, c]) => `  glmv ${name.padEnd(width)}  ${c.summary}`);
  return [
    `usage: glmv ${group} <command>`,
    "",
    ...lines,
    "",
    `Run \`glmv ${group} <command> --help\` for its options.`,
  ].join("\n");
}

/** Finds the longest command name that prefixes argv (commands have one or two words). */
function resolve(argv: string[]): { name: string; rest: string[] } | undefined {
  for (const words of [2, 1]) {
    const name = argv.slice(0, words).join(" ");
    if (argv.length >= words && name in COMMANDS) return { name, rest: argv.slice(words) };
  }
  return undefined;
}

const isHelp = (arg: string | undefined) => arg === "--help" || arg === "-h";

/**
 * Run `glmv <argv>` and return the exit code (see failure.ts for the policy: 0 ok, 1 the job failed, 2 a usage
 * or input mistake). Every failure is one line on stderr; GLMV_DEBUG=1 adds the stack trace.
 * @example process.exitCode = await main(process.argv.slice(2));
 */
export async function main(argv: string[]): Promise<number> {
  if (argv.length === 0) {
    console.error(usage());
    return EXIT_USAGE;
  }
  if (isHelp(argv[0])) {
    console.log(usage());
    return EXIT_OK;
  }
  if (argv[0] === "--version" || argv[0] === "-V") {
    console.log(packageVersion());
    return EXIT_OK;
  }
  const found = resolve(argv);
  if (!found && GROUPS.includes(argv[0]!) && (argv.length === 1 || isHelp(argv[1]))) {
    const text = await groupUsage(argv[0]!);
    if (argv.length === 1) {
      console.error(text);
      return EXIT_USAGE;
    }
    console.log(text);
    return EXIT_OK;
  }
  if (!found) {
    const group = GROUPS.includes(argv[0]!) ? await groupUsage(argv[0]!) : usage();
    console.error(`glmv: unknown command '${argv.join(" ")}'\n${group}`);
    return EXIT_USAGE;
  }
  try {
    const command = await COMMANDS[found.name]!();
    return await command.run(found.rest);
  } catch (e) {
    const failure = describeFailure(e);
    console.error(`glmv ${found.name}: ${failure.line}`);
    if (process.env.GLMV_DEBUG) console.error(e);
    return failure.exitCode;
  }
}

export { GlmvError };
