/**
 * The one place that picks a MediaStore implementation from `--store`: `s3://bucket/prefix`,
 * `file:///dir`, or a plain path. Anything else is a ConfigurationError with one clear line, raised
 * before any I/O so a typo never starts a run.
 */
import { fileURLToPath } from 'node:url';
import { ConfigurationError } from '../errors.js';
import { FsMediaStore } from './fs-media-store.js';
import type { MediaStore } from './media-store.js';
import { assertObjectKey } from './object-layout.js';
import { S3MediaStore, type S3StoreOptions } from './s3-media-store.js';

export type OpenMediaStoreOptions = S3StoreOptions;

export type StoreLocation = { kind: 's3'; bucket: string; prefix: string } | { kind: 'fs'; root: string };

// S3 bucket naming rules: 3-63 of lowercase letters, digits, '.', '-'; starts and ends alphanumeric.
const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

/** Parses a store URL without touching anything (pure). Throws ConfigurationError. */
export function parseStoreUrl(url: string): StoreLocation {
  const text = (url ?? '').trim();
  if (!text) throw new ConfigurationError('--store is empty: give s3://bucket/prefix, file:///dir or a folder path');
  const scheme = /^([a-zA-Z][a-zA-Z0-9+.-]*):/.exec(text)?.[1]?.toLowerCase();
  // A one-letter "scheme" is a Windows drive (C:\archive), i.e. a plain path.
  if (scheme === undefined || scheme.length === 1) return { kind: 'fs', root: text };
  if (scheme === 'file') {
    if (!text.startsWith('file:///') && !text.toLowerCase().startsWith('file://localhost/')) {
      throw new ConfigurationError(`--store ${JSON.stringify(text)}: a file URL needs three slashes, like file:///srv/fax-archive`);
    }
    try {
      return { kind: 'fs', root: fileURLToPath(text) };
    } catch {
      throw new ConfigurationError(`--store ${JSON.stringify(text)} is not a valid file URL`);
    }
  }
  if (scheme === 's3') {
    const match = /^s3:\/\/([^/]*)(?:\/(.*))?$/i.exec(text);
    const bucket = match?.[1] ?? '';
    if (!bucket) throw new ConfigurationError(`--store ${JSON.stringify(text)} names no bucket: use s3://bucket/prefix`);
    if (!BUCKET.test(bucket) || bucket.includes('..')) {
      throw new ConfigurationError(
        `--store ${JSON.stringify(text)}: ${JSON.stringify(bucket)} is not a valid bucket name (3-63 lowercase letters, digits, '.', '-')`,
      );
    }
    const prefix = (match?.[2] ?? '').replace(/\/+$/, '');
    if (prefix) {
      try {
        assertObjectKey(prefix);
      } catch {
        throw new ConfigurationError(
          `--store ${JSON.stringify(text)}: the prefix may only use letters, digits, '._-' and '/' (no empty, '.' or '..' parts)`,
        );
      }
    }
    return { kind: 's3', bucket, prefix };
  }
  throw new ConfigurationError(
    `--store ${JSON.stringify(text.slice(0, 80))}: unsupported scheme ${scheme}:// (use s3://bucket/prefix, file:///dir or a folder path)`,
  );
}

/** Checks option combinations that cannot work, before anything is opened. Throws ConfigurationError. */
export function validateStoreOptions(location: StoreLocation, options: OpenMediaStoreOptions, now = new Date()): void {
  if (location.kind === 'fs') {
    const s3Only: [keyof OpenMediaStoreOptions, string][] = [
      ['sse', '--sse'],
      ['retainUntil', '--retain-until'],
      ['lockMode', '--lock-mode'],
      ['storageClass', '--storage-class'],
      ['endpoint', '--s3-endpoint'],
    ];
    for (const [name, flag] of s3Only) {
      if (options[name] !== undefined) throw new ConfigurationError(`${flag} needs an s3:// store, not a folder`);
    }
    return;
  }
  if (options.sse !== undefined && options.sse !== 'AES256' && options.sse !== 'aws:kms') {
    throw new ConfigurationError(`--sse must be AES256 or aws:kms, got ${JSON.stringify(String(options.sse))}`);
  }
  if (options.kmsKeyId !== undefined && options.sse !== 'aws:kms') {
    throw new ConfigurationError('a KMS key id needs --sse aws:kms');
  }
  if (options.retainUntil !== undefined || options.lockMode !== undefined) {
    if (!options.retainUntil || !options.lockMode) {
      throw new ConfigurationError('Object Lock needs both --retain-until and --lock-mode (compliance or governance)');
    }
    if (Number.isNaN(options.retainUntil.getTime())) throw new ConfigurationError('--retain-until is not a valid date');
    if (options.retainUntil.getTime() <= now.getTime()) throw new ConfigurationError('--retain-until must be in the future');
    if (options.lockMode !== 'COMPLIANCE' && options.lockMode !== 'GOVERNANCE') {
      throw new ConfigurationError(`--lock-mode must be compliance or governance, got ${JSON.stringify(String(options.lockMode))}`);
    }
  }
  if (options.endpoint !== undefined && !/^https?:\/\/[^/\s]+/.test(options.endpoint)) {
    throw new ConfigurationError(`--s3-endpoint must be an http:// or https:// URL`);
  }
}

/**
 * Opens the store `url` names. Throws ConfigurationError for an unsupported or malformed URL or an
 * option that cannot apply to it. Does no I/O: call `check()` on the result to test reachability.
 */
export function openMediaStore(url: string, options: OpenMediaStoreOptions = {}): MediaStore {
  const location = parseStoreUrl(url);
  validateStoreOptions(location, options);
  if (location.kind === 'fs') return new FsMediaStore(location.root);
  return new S3MediaStore({ ...options, bucket: location.bucket, prefix: location.prefix });
}
