/**
 * The one "temp file takes its place" rule: the target ends with the new bytes, no temp is left,
 * and a folder that is not there is an error, not a silently skipped fsync.
 */
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { publishFile, syncFolder } from '../../src/durable-file.js';

describe('publishFile', () => {
  it('puts the temp file over the target and leaves nothing else behind', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'durable-'));
    writeFileSync(join(dir, 'report.csv'), 'old');
    writeFileSync(join(dir, '.report.csv.tmp'), 'new');
    await publishFile(join(dir, '.report.csv.tmp'), join(dir, 'report.csv'));
    expect(readFileSync(join(dir, 'report.csv'), 'utf8')).toBe('new');
    expect(readdirSync(dir)).toEqual(['report.csv']);
  });

  it('refuses a temp file that is not there, leaving the target as it was', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'durable-'));
    writeFileSync(join(dir, 'plan.json'), 'kept');
    await expect(publishFile(join(dir, 'missing.tmp'), join(dir, 'plan.json'))).rejects.toMatchObject({ code: 'ENOENT' });
    expect(readFileSync(join(dir, 'plan.json'), 'utf8')).toBe('kept');
  });
});

describe('syncFolder', () => {
  it('throws for a folder that does not exist (only a platform that cannot fsync folders is forgiven)', async () => {
    await expect(syncFolder(join(tmpdir(), 'no-such-folder-' + process.pid))).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
