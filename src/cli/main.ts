import { GlmvError, isGlmvError } from "../util/errors.ts";

/** A CLI command: gets its own argv (after the command words) and returns the exit code. */
export type Command = { summary: string; run: (argv: string[]) => Promise<number> };

/** Commands are loaded lazily so `glmv reward score` never pays for loading the tensor engine. */
const COMMANDS: Record<string, () => Promise<Command>> = {
  "reward score": async () => (await import("./reward-score.ts")).rewardScoreCommand,
  "serve reward": async () => (await import("./serve.ts")).serveRewardCommand,
  "serve curriculum": async () => (await import("./serve.ts")).serveCurriculumCommand,
  "serve trainer": async () => (await import("./serve-trainer.ts")).serveTrainerCommand,
  generate: async () => (await import("./generate.ts")).generateCommand,
  rl: async () => (await import("./rl.ts")).rlCommand,
  sft: async () => (await import("./sft.ts")).sftCommand,
};

function usage(): string {
  const lines = Object.keys(COMMANDS).map((name) => `  glmv ${name}`);
  return ["usage:", ...lines, "", "Run `glmv <command> --help` for a command's options."].join("\n");
}

/** Finds the longest command name that prefixes argv (commands have one or two words). */
function resolve(argv: string[]): { name: string; rest: string[] } | undefined {
  for (const words of [2, 1]) {
    const name = argv.slice(0, words).join(" ");
    if (argv.length >= words && name in COMMANDS) return { name, rest: argv.slice(words) };
  }
  return undefined;
}

export async function main(argv: string[]): Promise<number> {
  if (argv.length === 0 || argv[0] === "--help" || argv[0] === "-h") {
    console.log(usage());
    return argv.length === 0 ? 1 : 0;
  }
  const found = resolve(argv);
  if (!found) {
    console.error(`glmv: unknown command '${argv.join(" ")}'\n${usage()}`);
    return 2;
  }
  try {
    const command = await COMMANDS[found.name]!();
    return await command.run(found.rest);
  } catch (e) {
    if (isGlmvError(e)) {
      console.error(`glmv ${found.name}: ${e.code}: ${e.message}`);
      return 1;
    }
    throw e;
  }
}

export { GlmvError };
