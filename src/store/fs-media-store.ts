/**
 * MediaStore on a local (or mounted) filesystem: the embedded default, `./fax-archive/media`.
 *
 * Writes are atomic and durable: bytes go to a dot-named temporary file in the target folder,
 * which is fsynced, renamed over the key, and the folder fsynced, so after a crash a reader sees
 * the old file or the whole new one, never a torn one. Bytes are hashed on the way in and the
 * rename happens only if they hash to the SHA-256 the caller claimed (the filesystem analogue of
 * S3 checking `ChecksumSHA256` on arrival).
 *
 * The filesystem keeps no checksum of its own and no ETag, so `capabilities` are all false and
 * verification re-reads the bytes (`full`). `head` never reads the body: its `sha256Hex` is null.
 * It keeps no per-object metadata either: content type is derived from the extension, and a
 * fax's full metadata is its `<FaxSid>.json` sidecar.
 *
 * Files are created 0600 and folders 0700: faxes are medical and personal records.
 *
 * Temp files live in one folder, `<root>/.fax-sunset-tmp/` (renamed from there into their month
 * folder; a month folder on another filesystem gets its temp file beside it instead), so the sweep
 * `check` does at every start is one readdir, not a walk of the whole archive (issue 13 §5). What it
 * removes, and why that is safe beside live runs, is in src/temp-files.ts.
 */
import { createHash } from 'node:crypto';
import { createReadStream, type Dirent } from 'node:fs';
import { mkdir, open, readdir, rename, stat, unlink, access, constants as fsConstants } from 'node:fs/promises';
import { ownTempName, sweepStaleTempFiles } from '../temp-files.js';
import { dirname, isAbsolute, join, resolve, sep } from 'node:path';
import type { Readable } from 'node:stream';
import { pathToFileURL } from 'node:url';
import { ChecksumMismatchError, ConfigurationError } from '../errors.js';
import { assertObjectKey } from './object-layout.js';
import { syncFolder } from '../durable-file.js';
import type {
  MediaStore,
  PutObjectInput,
  PutObjectResult,
  StoreCapabilities,
  StoredObjectInfo,
  TransferCounters,
} from './media-store.js';

const COPY_CHUNK = 1 << 20;

/** The folder under the root that holds writes in flight (a dot-name: never listed as a key). */
export const FS_TEMP_FOLDER = '.fax-sunset-tmp';

const CONTENT_TYPES: Record<string, string> = {
  pdf: 'application/pdf',
  tiff: 'image/tiff',
  tif: 'image/tiff',
  json: 'application/json',
};

export class FsMediaStore implements MediaStore {
  readonly root: string;
  readonly displayUrl: string;
  readonly capabilities: StoreCapabilities = { reportsSha256: false, etagIsMd5: false };
  readonly transfer: TransferCounters = { objectsSent: 0, bytesSent: 0 };
  /** Leftover temp files the last `check` removed (a killed run's). */
  sweptTempFiles = 0;
  private readonly tempFolder: string;
  /** Per month folder: whether it is on the temp folder's filesystem (rename works across them). */
  private readonly sameDevice = new Map<string, boolean>();

  constructor(root: string) {
    if (!root) throw new ConfigurationError('filesystem store needs a folder');
    this.root = resolve(root);
    this.displayUrl = pathToFileURL(this.root).href;
    this.tempFolder = join(this.root, FS_TEMP_FOLDER);
  }

  async check(): Promise<void> {
    try {
      await mkdir(this.root, { recursive: true, mode: 0o700 });
      await access(this.root, fsConstants.W_OK | fsConstants.X_OK);
      await mkdir(this.tempFolder, { recursive: true, mode: 0o700 });
    } catch (error) {
      throw new ConfigurationError(
        `media folder ${this.root} cannot be created or written: ${(error as NodeJS.ErrnoException).code ?? 'error'}`,
        { cause: error },
      );
    }
    this.sweptTempFiles = await sweepStaleTempFiles(this.tempFolder);
  }

  /** Where to write the temp file for an object going into `folder`: the temp folder when a rename can cross. */
  private async tempPathFor(folder: string): Promise<string> {
    let same = this.sameDevice.get(folder);
    if (same === undefined) {
      await mkdir(this.tempFolder, { recursive: true, mode: 0o700 });
      const [temp, target] = await Promise.all([stat(this.tempFolder), stat(folder)]);
      same = temp.dev === target.dev;
      this.sameDevice.set(folder, same);
    }
    return join(same ? this.tempFolder : folder, ownTempName());
  }

  async put(input: PutObjectInput): Promise<PutObjectResult> {
    const path = this.pathFor(input.key);
    const expectedSha = input.sha256Hex.toLowerCase();
    if (await this.holdsSameBytes(path, input.size, expectedSha)) {
      return { key: input.key, alreadyPresent: true, etag: null, versionId: null };
    }

    const folder = dirname(path);
    await this.makeFolders(folder);
    const temp = await this.tempPathFor(folder);
    const handle = await open(temp, 'wx', 0o600);
    let renamed = false;
    try {
      const hash = createHash('sha256');
      let written = 0;
      const write = async (chunk: Uint8Array): Promise<void> => {
        hash.update(chunk);
        let offset = 0;
        while (offset < chunk.length) {
          const { bytesWritten } = await handle.write(chunk, offset, chunk.length - offset);
          offset += bytesWritten;
        }
        written += chunk.length;
      };
      if ('bytes' in input.body) {
        await write(input.body.bytes);
      } else {
        const source = createReadStream(input.body.filePath, { highWaterMark: COPY_CHUNK });
        for await (const chunk of source) await write(chunk as Buffer);
      }
      const actualSha = hash.digest('hex');
      if (written !== input.size || actualSha !== expectedSha) {
        throw new ChecksumMismatchError(
          `refused to store ${input.key}: the bytes (${written} bytes, sha256 ${actualSha.slice(0, 12)}…) ` +
            `do not match the expected ${input.size} bytes, sha256 ${expectedSha.slice(0, 12)}…`,
        );
      }
      await handle.sync();
      await handle.close();
      await rename(temp, path);
      renamed = true;
      await syncFolder(folder);
      this.transfer.objectsSent += 1;
      this.transfer.bytesSent += written;
      return { key: input.key, alreadyPresent: false, etag: null, versionId: null };
    } finally {
      if (!renamed) {
        await handle.close().catch(() => {});
        await unlink(temp).catch(() => {});
      }
    }
  }

  async head(key: string): Promise<StoredObjectInfo | null> {
    const path = this.pathFor(key);
    const info = await stat(path).catch(ifMissing(null));
    if (!info || !info.isFile()) return null;
    const extension = key.slice(key.lastIndexOf('.') + 1).toLowerCase();
    return {
      key,
      size: info.size,
      sha256Hex: null,
      etag: null,
      contentType: CONTENT_TYPES[extension] ?? null,
      metadata: {},
      lastModified: info.mtime,
    };
  }

  async read(key: string): Promise<Readable | null> {
    const path = this.pathFor(key);
    // Open first so a missing file is a null, not an error event on a stream the caller holds.
    const handle = await open(path, 'r').catch(ifMissing(null));
    if (!handle) return null;
    return handle.createReadStream({ highWaterMark: COPY_CHUNK });
  }

  async *list(prefix: string): AsyncIterable<{ key: string; size: number }> {
    assertObjectKey(prefix, { allowPrefix: true });
    // Walk only the folder the prefix names, then filter by the string prefix (S3 semantics).
    const folderPart = prefix.includes('/') ? prefix.slice(0, prefix.lastIndexOf('/')) : '';
    yield* this.walk(folderPart, prefix);
  }

  async remove(key: string): Promise<void> {
    const path = this.pathFor(key);
    try {
      await unlink(path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw error;
    }
    await syncFolder(dirname(path));
  }

  async close(): Promise<void> {}

  /** The absolute path for a key; throws ConfigurationError for any key that could leave the root. */
  pathFor(key: string): string {
    assertObjectKey(key);
    const path = resolve(this.root, ...key.split('/'));
    // Belt and braces: assertObjectKey already refuses '..' and absolute keys.
    if (isAbsolute(key) || !path.startsWith(this.root + sep)) {
      throw new ConfigurationError(`object key ${JSON.stringify(key.slice(0, 80))} escapes the media folder`);
    }
    return path;
  }

  private async holdsSameBytes(path: string, size: number, sha256Hex: string): Promise<boolean> {
    const info = await stat(path).catch(ifMissing(null));
    if (!info || !info.isFile() || info.size !== size) return false;
    // Hash the file every time (cache nothing): a cache could vouch for bytes that rotted since.
    const hash = createHash('sha256');
    for await (const chunk of createReadStream(path, { highWaterMark: COPY_CHUNK })) hash.update(chunk as Buffer);
    return hash.digest('hex') === sha256Hex;
  }

  /** mkdir -p, then fsync the parent of every folder it created so the new entries survive a crash. */
  private async makeFolders(folder: string): Promise<void> {
    const first = await mkdir(folder, { recursive: true, mode: 0o700 });
    if (!first) return;
    for (let dir = folder; ; dir = dirname(dir)) {
      await syncFolder(dirname(dir));
      if (dir === first || dir === this.root || dirname(dir) === dir) break;
    }
  }

  private async *walk(relativeFolder: string, prefix: string): AsyncIterable<{ key: string; size: number }> {
    const folder = relativeFolder ? join(this.root, ...relativeFolder.split('/')) : this.root;
    let entries: Dirent[];
    try {
      entries = await readdir(folder, { withFileTypes: true });
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') return;
      throw error;
    }
    for (const entry of entries) {
      if (entry.name.startsWith('.')) continue; // temporary files of writes in flight
      const key = relativeFolder ? `${relativeFolder}/${entry.name}` : entry.name;
      if (entry.isDirectory()) {
        // Descend only where keys below could still match the prefix.
        if (prefix.startsWith(`${key}/`) || `${key}/`.startsWith(prefix)) yield* this.walk(key, prefix);
      } else if (entry.isFile() && key.startsWith(prefix)) {
        const info = await stat(join(folder, entry.name)).catch(ifMissing(null));
        if (info) yield { key, size: info.size };
      }
    }
  }
}

function ifMissing<T>(value: T): (error: unknown) => T {
  return (error) => {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return value;
    throw error;
  };
}
