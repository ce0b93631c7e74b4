import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';

/** The compiled admin CLI; `npm run build` (or `npm test`) makes it. */
export const CLI_ENTRY = 'dist/apps/cli/src/main.js';

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Throws the one useful sentence when the CLI was not built. */
export function assertCliBuilt(): void {
  if (!existsSync(CLI_ENTRY)) {
    throw new Error(`${CLI_ENTRY} is missing: run \`npm run build\` first (npm test does).`);
  }
}

/** Runs the CLI in its own process with exactly `env`; never rejects. */
export function runCli(env: NodeJS.ProcessEnv, args: string[]): Promise<CliRun> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [CLI_ENTRY, ...args],
      { env, timeout: 30_000 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** Tab-separated rows of a listing, by their first cell. */
export function tabRows(stdout: string): Map<string, string[]> {
  return new Map(
    stdout
      .trim()
      .split('\n')
      .map((line) => line.split('\t'))
      .map((cells) => [cells[0]!, cells.slice(1)]),
  );
}
