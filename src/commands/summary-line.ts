/**
 * The one-line JSON contract (issue 17 §4): with --json, every command prints exactly one summary
 * line on stdout, on every path, a failure before any work included, so a scheduler that keeps the
 * last line (`> last-run.json`) never reads the previous night's. Commands print theirs through
 * `printSummaryLine`; when a command fails before it printed one, the entry (cli.ts) prints
 * `failureSummaryLine` for it. Progress and per-item lines go to stderr, never here.
 */

let printed = false;

/** Writes the summary line (once per command run; a second call is a bug and is dropped). */
export function printSummaryLine(value: Record<string, unknown>): void {
  if (printed) return;
  printed = true;
  writeStdout(`${JSON.stringify({ at: new Date().toISOString(), event: 'summary', ...value })}\n`);
}

export function summaryLinePrinted(): boolean {
  return printed;
}

/** Called by the entry before each command run (the demo runs several in one process). */
export function resetSummaryLine(): void {
  printed = false;
}

/** The line a failed command leaves: its name, exit code and the one-line error. */
export function failureSummaryLine(command: string, exitCode: number, error: string): void {
  printSummaryLine({ command, exitCode, error });
}

/**
 * stdout piped to a reader that stopped (`report ... | head`): the write fails with EPIPE, which is
 * not an error of the command. Drop the output quietly instead of dying with a stack trace.
 */
export function ignoreBrokenPipe(): void {
  for (const stream of [process.stdout, process.stderr]) {
    let broken = false;
    stream.on('error', (error: NodeJS.ErrnoException) => {
      // The reader is gone: later writes are dropped and the command ends with its own exit code.
      if (broken || error.code === 'EPIPE') {
        broken = true;
        return;
      }
      throw error;
    });
  }
}

function writeStdout(text: string): void {
  process.stdout.write(text);
}

/** The exit-code table, appended to every command's --help (README "Exit codes" says the same). */
export const EXIT_CODES_HELP = [
  '',
  'Exit codes:',
  '  0  all done',
  '  1  finished with items left to retry (failed, unverifiable, lost)',
  '  2  bad usage, configuration or credentials; Twilio or the store unreachable; wrong or missing catalog',
  '  3  another run holds the catalog lock',
  '  4  an invariant was refused (nothing unproven was deleted)',
  '',
  'With --json, stdout carries exactly one JSON summary line (with "exitCode"), on every path.',
].join('\n');
