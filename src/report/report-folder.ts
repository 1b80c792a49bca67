/**
 * The --out folder, written atomically: every file is built in a hidden staging folder inside
 * --out (same filesystem, so rename is atomic) and renamed into place only when all of them are
 * complete. A reader never sees a half-written file; a crash leaves the previous report intact
 * (plus a staging folder the next run ignores). The tag manifest is renamed last because it
 * vouches for the others: until it lands, the old one no longer matches, which a checker notices.
 *
 * The report names accounts, the store and (in faxes.csv) phone numbers: like the catalog, --out is
 * made 0700 and every file in it 0600 (issue 13 §7). A staging folder is named with host and pid
 * (`.fax-sunset-report-<host>-<pid>-<random>`), so the next report removes one a killed report left
 * on this host (its pid is gone); it holds a CSV of phone numbers and, with --bag, links to fax bytes. `--shareable` makes them 0755 and 0644, exactly
 * (whatever the umask), for a report meant to be read by other users of the machine.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { chmod, mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { ConfigurationError } from '../errors.js';
import { HOST_TAG, pidIsAlive } from '../temp-files.js';

const STAGING_PREFIX = '.fax-sunset-report-';
const STAGING_NAME = /^\.fax-sunset-report-([0-9a-f]{8})-(\d+)-[0-9a-f]{8}$/;

export interface ReportModes {
  /** --out and the folders in it. */
  dir: number;
  /** Every file the report writes. */
  file: number;
}

export const PRIVATE_REPORT_MODES: ReportModes = { dir: 0o700, file: 0o600 };
export const SHAREABLE_REPORT_MODES: ReportModes = { dir: 0o755, file: 0o644 };

export class ReportFolder {
  readonly stagingDir: string;
  private committed = false;

  private constructor(readonly outDir: string, stagingDir: string, readonly modes: ReportModes) {
    this.stagingDir = stagingDir;
  }

  /** Creates --out (and its staging folder) with the given modes. ConfigurationError when it cannot be created. */
  static async open(outDir: string, options: { shareable?: boolean } = {}): Promise<ReportFolder> {
    const modes = options.shareable ? SHAREABLE_REPORT_MODES : PRIVATE_REPORT_MODES;
    const stagingDir = join(outDir, `${STAGING_PREFIX}${HOST_TAG}-${process.pid}-${randomBytes(4).toString('hex')}`);
    try {
      await mkdir(stagingDir, { recursive: true, mode: 0o700 });
    } catch (error) {
      throw new ConfigurationError(`cannot create the report folder ${outDir}: ${(error as NodeJS.ErrnoException).code ?? 'error'}`, { cause: error });
    }
    const info = await stat(outDir);
    if (!info.isDirectory()) throw new ConfigurationError(`--out ${outDir} is not a folder`);
    try {
      await chmod(outDir, modes.dir);
    } catch {
      // another user's folder: the files in it still get their modes
    }
    const folder = new ReportFolder(outDir, stagingDir, modes);
    for (const name of await folder.leftovers()) {
      const owner = STAGING_NAME.exec(name);
      // Only a staging folder of a process on this host that is gone: a live report may take hours.
      if (owner && owner[1] === HOST_TAG && !pidIsAlive(Number(owner[2]))) await rm(join(outDir, name), { recursive: true, force: true });
    }
    return folder;
  }

  /** Where to write `name` (a file or folder directly under --out) before it is committed. */
  staged(name: string): string {
    return join(this.stagingDir, name);
  }

  /**
   * Moves the staged entries into --out in the given order (put the one that vouches for the
   * others last), replacing earlier versions, and removes `stale` entries a previous report left
   * that this one does not produce (e.g. fetch.txt after switching to --bag).
   */
  async commit(names: readonly string[], stale: readonly string[] = []): Promise<void> {
    const trash = join(this.stagingDir, '.replaced');
    await mkdir(trash, { recursive: true });
    for (const name of names) {
      const target = join(this.outDir, name);
      // Exactly the modes asked for, whatever the umask made of them.
      const staged = await stat(this.staged(name));
      await chmod(this.staged(name), staged.isDirectory() ? this.modes.dir : this.modes.file);
      const info = await stat(target).catch(() => null);
      // rename() replaces a file atomically but not a non-empty folder: move the old one aside first.
      if (info?.isDirectory()) await rename(target, join(trash, name));
      await rename(this.staged(name), target);
    }
    for (const name of stale) {
      if (names.includes(name)) continue;
      const target = join(this.outDir, name);
      if (await stat(target).catch(() => null)) await rename(target, join(trash, name));
    }
    this.committed = true;
    await rm(this.stagingDir, { recursive: true, force: true });
  }

  /** Removes the staging folder (after a failure). Idempotent. */
  async abort(): Promise<void> {
    if (!this.committed) await rm(this.stagingDir, { recursive: true, force: true });
  }

  /** Staging folders other runs left behind after a crash (not ours). */
  async leftovers(): Promise<string[]> {
    const entries = await readdir(this.outDir);
    return entries.filter((e) => e.startsWith(STAGING_PREFIX) && join(this.outDir, e) !== this.stagingDir);
  }
}

/** SHA-256 and size of a file, streamed. */
export async function hashFile(path: string): Promise<{ sha256Hex: string; size: number }> {
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) {
    hash.update(chunk as Buffer);
    size += (chunk as Buffer).length;
  }
  return { sha256Hex: hash.digest('hex'), size };
}
