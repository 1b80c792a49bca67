import { accessSync, constants } from 'node:fs';

/** A filesystem error code as a few words an operator can act on (for one-line ConfigurationErrors). */
export function fsProblem(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  switch (code) {
    case 'EEXIST':
    case 'ENOTDIR':
      return `a part of the path is a file, not a folder (${code})`;
    case 'EACCES':
    case 'EPERM':
      return `permission denied (${code})`;
    case 'EROFS':
      return 'read-only filesystem (EROFS)';
    case 'ENOSPC':
      return 'no space left on the device (ENOSPC)';
    case 'ENOENT':
      return 'the folder does not exist (ENOENT)';
    default:
      return code ?? (error instanceof Error ? error.message.split('\n')[0] ?? 'error' : 'error');
  }
}

/**
 * Why a file in `folder` could not be created, in the operator's words: SQLite only says
 * SQLITE_CANTOPEN, so ask the filesystem what it thinks of the folder (issue 17 §11).
 */
export function folderWriteProblem(folder: string, error: unknown): string {
  try {
    accessSync(folder, constants.W_OK | constants.X_OK);
  } catch (access) {
    return fsProblem(access);
  }
  const code = (error as { code?: string } | undefined)?.code;
  return code?.startsWith('SQLITE_') ? 'the folder is writable, but the file cannot be opened (is something else at that path?)' : fsProblem(error);
}
