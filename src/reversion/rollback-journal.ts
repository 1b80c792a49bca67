/**
 * rollback.json: the exact prior state of every number an apply touched, written as the apply goes.
 * Each entry is written (atomically, fsynced) BEFORE its number is changed, as `pending`, and again
 * once the change is confirmed, as `applied`. So after a crash at any instant the file names every
 * number that may have changed, with the state to put back; a later `rollback` sorts pending entries
 * out by looking at the number (still in its prior state = nothing to undo).
 */
import { promises as fs } from 'node:fs';
import { UsageError } from '../errors.js';
import { isSid } from '../sid.js';
import type { VoiceState, VoiceUpdate } from './voice-state.js';
import { writeFileAtomic } from './write-file-atomic.js';

export const ROLLBACK_KIND = 'fax-sunset/numbers-rollback';

export interface RollbackEntry {
  accountSid: string;
  sid: string;
  phoneNumber: string;
  /** pending: about to change (it may or may not have); applied: the change was confirmed by a re-fetch. */
  status: 'pending' | 'applied';
  /** The number's state just before the change, as fetched. */
  prior: VoiceState;
  /** What apply wrote. */
  change: VoiceUpdate;
  /** The state after the change: re-fetched once applied, predicted while pending. */
  applied: VoiceState;
  /** The update that puts `prior` back. */
  restore: VoiceUpdate;
  recordedAt: string;
}

export interface RollbackFile {
  kind: typeof ROLLBACK_KIND;
  version: 1;
  /** The plan whose apply wrote this file. */
  planSha256: string;
  createdAt: string;
  updatedAt: string;
  entries: RollbackEntry[];
}

/** Reads and checks a rollback file (every sid is validated: they go into request URLs). */
export async function readRollbackFile(filePath: string): Promise<RollbackFile> {
  let text: string;
  try {
    text = await fs.readFile(filePath, 'utf8');
  } catch (error) {
    throw new UsageError(`cannot read ${filePath}: ${(error as NodeJS.ErrnoException).code ?? 'error'}`);
  }
  return parseRollbackFile(text, filePath);
}

export function parseRollbackFile(text: string, fileName = 'rollback.json'): RollbackFile {
  const fail = (what: string): never => {
    throw new UsageError(`${fileName} is not a fax-sunset rollback file: ${what}`);
  };
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    fail('not JSON');
  }
  const file = json as Partial<RollbackFile>;
  if (!file || file.kind !== ROLLBACK_KIND || file.version !== 1) fail('wrong kind or version');
  if (!Array.isArray(file.entries)) fail('entries missing');
  for (const [index, entry] of (file.entries ?? []).entries()) {
    if (!isSid(entry?.accountSid, 'AC') || !isSid(entry?.sid, 'PN')) fail(`entries[${index}] has an invalid account or number sid`);
    if (!entry.prior || !entry.applied || !entry.restore) fail(`entries[${index}] lacks prior/applied/restore`);
  }
  return file as RollbackFile;
}

/**
 * The rollback file of one apply, kept in memory and rewritten whole on every record (numbers are
 * hundreds, not millions). Writes are serialized, so concurrent changes never interleave a file.
 */
export class RollbackJournal {
  private writing: Promise<void> = Promise.resolve();

  private constructor(
    readonly path: string,
    private readonly file: RollbackFile,
  ) {}

  /**
   * Opens the journal for an apply of `planSha256`, continuing the file a previous (partial) apply
   * of the same plan left, so re-applying never loses an earlier prior state. A file from another
   * plan is refused rather than overwritten: it may be the only record of how to undo that apply.
   */
  static async open(filePath: string, planSha256: string, now = new Date()): Promise<RollbackJournal> {
    let existing: RollbackFile | null = null;
    try {
      existing = parseRollbackFile(await fs.readFile(filePath, 'utf8'), filePath);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT' && !(error instanceof UsageError)) throw error;
      if (error instanceof UsageError) throw new UsageError(`${filePath} exists and is not a rollback file: move it away first`);
    }
    if (existing && existing.planSha256 !== planSha256) {
      throw new UsageError(`${filePath} belongs to another plan (${existing.planSha256.slice(0, 12)}…): move it away or write elsewhere with --out`);
    }
    const file: RollbackFile = existing ?? {
      kind: ROLLBACK_KIND,
      version: 1,
      planSha256,
      createdAt: now.toISOString(),
      updatedAt: now.toISOString(),
      entries: [],
    };
    const journal = new RollbackJournal(filePath, file);
    if (!existing) await journal.flush();
    return journal;
  }

  entry(sid: string): RollbackEntry | undefined {
    return this.file.entries.find((entry) => entry.sid === sid);
  }

  get entries(): readonly RollbackEntry[] {
    return this.file.entries;
  }

  /** Adds or replaces the entry for `entry.sid` and returns once the file is durably on disk. */
  async record(entry: RollbackEntry): Promise<void> {
    const index = this.file.entries.findIndex((existing) => existing.sid === entry.sid);
    if (index >= 0) this.file.entries[index] = entry;
    else this.file.entries.push(entry);
    this.file.updatedAt = entry.recordedAt;
    await this.flush();
  }

  private flush(): Promise<void> {
    const text = `${JSON.stringify(this.file, null, 2)}\n`;
    const next = this.writing.then(() => writeFileAtomic(this.path, text));
    // A failed write must fail its caller, and must not wedge the writes after it.
    this.writing = next.catch(() => {});
    return next;
  }
}
