/** A CLI command: gets its own argv (after the command words) and returns the exit code. */
export type Command = { summary: string; run: (argv: string[]) => Promise<number> };
