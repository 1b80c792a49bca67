/**
 * One run's lifecycle, the same for every command that writes to the catalog: open (the catalog
 * behind its lock, and whatever else the command needs), record the run, do the work, finish the
 * run record, close. Before issue 14 this was written out per command with different failure
 * handling (two left the run record "running" on a throw; serve recorded a literal 4 whatever the
 * error). Here every path finishes the record with the exit code the process really ends with and,
 * on a throw, the error's one line (secrets scrubbed), and the lock is released on every path.
 */
import type { Catalog, RunKind } from '../catalog/catalog.js';
import { acquireCatalogLock } from '../catalog/catalog-lock.js';
import { openCatalog } from '../catalog/sqlite-catalog.js';
import { describeError, exitCodeFor } from '../errors.js';

/** What a command opened: at least a catalog, and how to close it all (lock included). */
export interface OpenedRun {
  catalog: Catalog;
  close(): Promise<void>;
}

/** The run record of one command run; started by the command once its preflight is done. */
export interface RunRecorder {
  /** The run's id once started, else null (a dry run never starts one). */
  readonly id: number | null;
  start(kind: RunKind, options: Record<string, unknown>): number;
  /** Finishes the record (once; later calls do nothing). */
  finish(exitCode: number, summary: Record<string, unknown>): void;
}

export function createRunRecorder(catalog: Catalog): RunRecorder {
  let id: number | null = null;
  let finished = false;
  return {
    get id() {
      return finished ? null : id;
    },
    start(kind, options) {
      id = catalog.startRun(kind, options);
      return id;
    },
    finish(exitCode, summary) {
      if (id === null || finished) return;
      finished = true;
      catalog.finishRun(id, exitCode, summary);
    },
  };
}

/**
 * Opens with `open`, runs `body`, and guarantees: a started run record is finished (with the code
 * `body` returned if it did not finish it itself, or with the thrown error's exit code and line),
 * and `close` runs (releasing the lock) whatever happens. Returns `body`'s exit code.
 */
export async function withRun<R extends OpenedRun>(
  open: () => Promise<R>,
  body: (opened: R, run: RunRecorder) => Promise<number>,
  options: { secrets?: (opened: R) => readonly string[] } = {},
): Promise<number> {
  const opened = await open();
  const run = createRunRecorder(opened.catalog);
  try {
    const code = await body(opened, run);
    run.finish(code, {});
    return code;
  } catch (error) {
    try {
      run.finish(exitCodeFor(error), { error: describeError(error, [...(options.secrets?.(opened) ?? [])]) });
    } catch {
      // The original error matters more.
    }
    throw error;
  } finally {
    await opened.close();
  }
}

/** The catalog behind its lock, for commands that need nothing else (resolve, numbers apply/rollback). */
export async function openLockedCatalog(catalogPath: string, command: string): Promise<OpenedRun> {
  const lock = acquireCatalogLock(catalogPath, { command });
  let catalog: Catalog;
  try {
    catalog = openCatalog(catalogPath);
  } catch (error) {
    lock.release();
    throw error;
  }
  return {
    catalog,
    async close() {
      try {
        catalog.close();
      } finally {
        lock.release();
      }
    },
  };
}
