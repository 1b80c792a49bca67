/**
 * One run per catalog: a lock file `<catalog>.lock` beside it, created with O_EXCL (atomic on local
 * filesystems) and holding who owns it. A lock left by a crashed run on this host (its pid is no
 * longer alive) is taken over. SQLite's own locking protects the file; this lock protects the *run*
 * (two archives interleaving deletions, or a sync racing an archive, would each be correct alone).
 *
 * A pid means nothing on another host, and in Kubernetes every pod is another host: a CronJob pod
 * killed after its grace period would leave a lock that blocks every later night. So the holder
 * also keeps an exclusive SQLite transaction open on `<catalog>.lock.alive` for as long as it runs.
 * That is an OS file lock, which the kernel drops when the process dies however it dies; whoever
 * can take it knows the previous holder is gone, whatever host its lock file names. Lock files
 * without that proof (older versions) from another host are still never guessed about.
 *
 * One catalog, one lock, whatever path names it (issue 13: a second run through a symlink to the
 * catalog ran beside the first). The lock is keyed by the catalog's real path (symlinks of the file
 * and of every folder above it resolved), and, when the catalog file exists, also by the file's
 * identity (device and inode): a hard link in the same folder is another name for the same file, so
 * the holder also keeps an exclusive SQLite lock on `.fax-sunset-catalog-<dev>-<ino>.alive` in the
 * catalog's real folder. (A hard link in another folder is not caught; nothing makes one by accident.)
 */
import { chmodSync, closeSync, linkSync, mkdirSync, openSync, readFileSync, readlinkSync, realpathSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import Database from 'better-sqlite3';
import { basename, dirname, join, resolve } from 'node:path';
import { ConfigurationError, LockError } from '../errors.js';
import { folderWriteProblem, fsProblem } from './fs-problem.js';

export interface CatalogLock {
  /** The lock file's path (`<catalog>.lock`). */
  readonly path: string;
  /** Removes the lock if it is still this process's. Idempotent. */
  release(): void;
}

export interface LockOwner {
  pid: number;
  hostname: string;
  started_at: string;
  command: string;
  /** 'sqlite' when the holder keeps `<catalog>.lock.alive` locked while it lives (see above). */
  liveness?: 'sqlite';
}

/** A lock file whose content is unreadable (a crash between create and write) is stale after this. */
const UNREADABLE_LOCK_GRACE_MS = 10_000;
const MAX_TAKEOVER_ATTEMPTS = 3;

/**
 * Lock files this process holds. A lock naming this very pid that is NOT in here was left by an
 * earlier process that had the same pid: a restarted container (pid 1 again, same hostname).
 */
const heldHere = new Set<string>();

export function lockPathFor(catalogPath: string): string {
  return `${realCatalogPath(catalogPath)}.lock`;
}

/**
 * The catalog's real path: every symlink resolved (a dangling one followed to where the catalog will
 * be), and for a catalog not created yet, its folder's real path (or the nearest existing folder's)
 * plus the rest. Everything a run keys by its catalog (lock, spool) is keyed by this.
 */
export function realCatalogPath(catalogPath: string): string {
  let path = resolve(catalogPath);
  for (let hops = 0; hops < 40; hops++) {
    try {
      return realpathSync(path);
    } catch {
      // missing, or a dangling symlink
    }
    let target: string;
    try {
      target = readlinkSync(path);
    } catch {
      return join(realFolder(dirname(path)), basename(path));
    }
    path = resolve(dirname(path), target);
  }
  return path;
}

function realFolder(folder: string): string {
  try {
    return realpathSync(folder);
  } catch {
    const parent = dirname(folder);
    return parent === folder ? folder : join(realFolder(parent), basename(folder));
  }
}

/** Where the identity lock of an existing catalog file lives (its real folder), or null when there is no file yet. */
function identityLockFileFor(realPath: string): string | null {
  try {
    const info = statSync(realPath, { bigint: true });
    if (!info.isFile()) return null;
    return join(dirname(realPath), `.fax-sunset-catalog-${info.dev}-${info.ino}.alive`);
  } catch {
    return null;
  }
}

/** Takes the catalog's lock or throws LockError naming the holder. Released on process exit too. */
export function acquireCatalogLock(catalogPath: string, owner: { command: string }): CatalogLock {
  const path = lockPathFor(catalogPath);
  try {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  } catch (error) {
    throw new ConfigurationError(`cannot create the catalog folder ${dirname(path)}: ${fsProblem(error)}; pass --catalog with a writable folder`, { cause: error });
  }
  const mine: LockOwner = { pid: process.pid, hostname: hostname(), started_at: new Date().toISOString(), command: owner.command, liveness: 'sqlite' };
  // The liveness lock first: while another live process holds it, the catalog is theirs.
  const pathAlive = takeLivenessLock(`${path}.alive`);
  if (!pathAlive) throw lockedError(path, heldElsewhere(readHolder(path)));
  // Then the file's identity: another name for the same file (a hard link) is the same catalog.
  const identityFile = identityLockFileFor(path.slice(0, -'.lock'.length));
  let identityAlive: LivenessLock | null = null;
  if (identityFile !== null) {
    identityAlive = takeLivenessLock(identityFile);
    if (!identityAlive) {
      pathAlive.release();
      throw new LockError(`another fax-sunset run holds this catalog through another name for the same file (a hard link): ${path}`);
    }
  }
  const alive: LivenessLock = {
    release() {
      identityAlive?.release();
      pathAlive.release();
    },
  };
  try {
    for (let attempt = 0; ; attempt++) {
      if (tryCreate(path, mine)) return heldLock(path, mine, alive);
      const holder = readHolder(path);
      if (holder === 'gone') continue; // released between our create and our read: try again
      // Holding the liveness lock proves a holder that kept one is dead, on any host.
      const provenDead = holder !== 'unreadable' && holder.liveness === 'sqlite' && !(holder.pid === process.pid && holder.hostname === mine.hostname && heldHere.has(path));
      if (attempt >= MAX_TAKEOVER_ATTEMPTS || !(provenDead || isStale(path, holder))) throw lockedError(path, holder);
      removeStale(path, holder);
    }
  } catch (error) {
    alive.release();
    throw error;
  }
}

interface LivenessLock {
  release(): void;
}

/**
 * Takes the exclusive SQLite lock on `file` (`<lock>.alive`, or the identity lock) without waiting;
 * null while another process holds it. Held through an open `BEGIN EXCLUSIVE` transaction on a
 * connection kept for the run. The file is never removed: removing a lock file another process has
 * open would let a third one lock a new file of the same name beside it.
 */
function takeLivenessLock(file: string): LivenessLock | null {
  let db: Database.Database;
  try {
    db = new Database(file, { timeout: 0 });
  } catch (error) {
    // Named as the operator sees it (the catalog's folder), not as SQLite does (SQLITE_CANTOPEN).
    throw new ConfigurationError(`cannot create the catalog's lock ${file}: ${folderWriteProblem(dirname(file), error)}; pass --catalog with a writable folder`, { cause: error });
  }
  try {
    chmodQuietly(file);
    db.exec('BEGIN EXCLUSIVE');
  } catch (error) {
    db.close();
    if ((error as { code?: string }).code === 'SQLITE_BUSY') return null;
    throw new ConfigurationError(`cannot lock ${file}: ${(error as Error).message}`, { cause: error });
  }
  let released = false;
  return {
    release() {
      if (released) return;
      released = true;
      try {
        db.exec('ROLLBACK');
      } catch {
        // closing releases it too
      }
      db.close();
    },
  };
}

/** The holder to name when the liveness lock is taken (a lock file being written counts as held). */
function heldElsewhere(holder: LockOwner | 'unreadable' | 'gone'): LockOwner | 'unreadable' {
  return holder === 'gone' ? 'unreadable' : holder;
}

function chmodQuietly(file: string): void {
  try {
    chmodSync(file, 0o600);
  } catch {
    // not ours to change (another user's file): SQLite will still lock it
  }
}

/** Pure: whether a holder read from a lock file can be taken over by this process. */
export function isStaleHolder(
  holder: LockOwner,
  here: { hostname: string; pid: number; holdsIt: boolean; isAlive: (pid: number) => boolean },
): boolean {
  if (holder.hostname !== here.hostname) return false;
  if (holder.pid === here.pid) return !here.holdsIt;
  return !here.isAlive(holder.pid);
}

function tryCreate(path: string, owner: LockOwner): boolean {
  let fd: number;
  try {
    fd = openSync(path, 'wx', 0o600);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return false;
    throw new ConfigurationError(`cannot create the catalog lock ${path}: ${fsProblem(error)}; pass --catalog with a writable folder`, { cause: error });
  }
  try {
    writeSync(fd, JSON.stringify(owner) + '\n');
  } finally {
    closeSync(fd);
  }
  return true;
}

function readHolder(path: string): LockOwner | 'unreadable' | 'gone' {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 'gone';
    return 'unreadable';
  }
  try {
    const parsed = JSON.parse(text) as Partial<LockOwner>;
    if (typeof parsed.pid === 'number' && typeof parsed.hostname === 'string') {
      return {
        pid: parsed.pid, hostname: parsed.hostname, started_at: String(parsed.started_at ?? 'unknown'), command: String(parsed.command ?? ''),
        ...(parsed.liveness === 'sqlite' ? { liveness: 'sqlite' as const } : {}),
      };
    }
  } catch {
    // fall through
  }
  return 'unreadable';
}

function isStale(path: string, holder: LockOwner | 'unreadable'): boolean {
  if (holder === 'unreadable') {
    try {
      return Date.now() - statSync(path).mtimeMs > UNREADABLE_LOCK_GRACE_MS;
    } catch {
      return true;
    }
  }
  return isStaleHolder(holder, { hostname: hostname(), pid: process.pid, holdsIt: heldHere.has(path), isAlive: pidIsAlive });
}

function pidIsAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Moves the stale lock aside (rename is atomic, so of two processes taking over only one gets it),
 * then checks that what it moved is the stale lock it judged; if another process had meanwhile taken
 * the lock, it is put back with link (which never overwrites) and this process reports it as held.
 */
function removeStale(path: string, judged: LockOwner | 'unreadable'): void {
  const aside = `${path}.stale-${process.pid}-${Date.now()}`;
  try {
    renameSync(path, aside);
  } catch {
    return; // someone else moved it first; the next create attempt decides
  }
  const moved = readHolder(aside);
  const same =
    judged === 'unreadable' ? moved === 'unreadable' : moved !== 'unreadable' && moved !== 'gone' && moved.pid === judged.pid && moved.started_at === judged.started_at;
  if (!same) {
    try {
      linkSync(aside, path);
    } catch {
      // a third process created a lock in between: it holds the catalog now
    }
    unlinkQuietly(aside);
    throw lockedError(path, moved === 'gone' ? 'unreadable' : moved);
  }
  unlinkQuietly(aside);
}

function heldLock(path: string, owner: LockOwner, alive: LivenessLock): CatalogLock {
  let released = false;
  heldHere.add(path);
  const release = (): void => {
    if (released) return;
    released = true;
    heldHere.delete(path);
    process.removeListener('exit', release);
    const holder = readHolder(path);
    // Only our own lock is removed: after a takeover by someone else, theirs stays.
    if (holder !== 'gone' && holder !== 'unreadable' && holder.pid === owner.pid && holder.started_at === owner.started_at && holder.hostname === owner.hostname) {
      unlinkQuietly(path);
    }
    // Last: until the lock file is gone, the liveness lock keeps other runs out.
    alive.release();
  };
  process.on('exit', release);
  return { path, release };
}

function lockedError(path: string, holder: LockOwner | 'unreadable'): LockError {
  if (holder === 'unreadable') {
    return new LockError(`another fax-sunset run holds the catalog lock (its lock file is being written or unreadable): ${path}`);
  }
  return new LockError(`another fax-sunset run (pid ${holder.pid} on host ${holder.hostname}, since ${holder.started_at}) holds the catalog lock: ${path}`);
}

function unlinkQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // already gone
  }
}
