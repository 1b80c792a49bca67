/**
 * Everything the bench starts (temp dirs, servers, child processes) registers how to undo itself
 * here, so an error, Ctrl-C or the end of a scenario leaves nothing behind. Undo runs newest first.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

type Undo = () => void | Promise<void>;

export class BenchCleanup {
  private readonly undos: Array<{ label: string; undo: Undo }> = [];

  add(label: string, undo: Undo): void {
    this.undos.push({ label, undo });
  }

  /** A fresh temp dir, removed at cleanup. */
  tempDir(prefix: string): string {
    const dir = mkdtempSync(join(tmpdir(), `fax-sunset-bench-${prefix}-`));
    this.add(`rm ${dir}`, () => rmSync(dir, { recursive: true, force: true }));
    return dir;
  }

  async run(): Promise<void> {
    while (this.undos.length > 0) {
      const { label, undo } = this.undos.pop()!;
      try {
        await undo();
      } catch (error) {
        process.stderr.write(`bench: cleanup "${label}" failed: ${(error as Error).message}\n`);
      }
    }
  }

  /** Synchronous last resort for process exit: only the synchronous parts can run (rm, kill). */
  runSyncOnExit(): void {
    while (this.undos.length > 0) {
      const { undo } = this.undos.pop()!;
      try {
        void undo();
      } catch {
        // best effort at exit
      }
    }
  }
}
