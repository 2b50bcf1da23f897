import { readFileSync } from "node:fs";

/**
 * The version in the package root's package.json (read at run time, so a release bump needs no code change). Its
 * own module so that commands can name it without importing cli/main.ts back (main.ts loads the commands).
 * @example packageVersion() // "0.1.0"
 */
export function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as {
    version?: unknown;
  };
  return String(pkg.version ?? "unknown");
}
