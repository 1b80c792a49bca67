/**
 * The rules that turn MIGRATION.md into steps: if these drift, the runbook test could silently run
 * fewer commands than the document shows, or expect the wrong exit codes.
 */
import { describe, expect, it } from 'vitest';
import { bucketsOf, commentOf, parseRunbook, toFilesystemStore } from './runbook-steps.js';

const SAMPLE = [
  '# Title',
  '```sh',
  'export TWILIO_ACCOUNT_SID=ACxxxx',
  'export FAX_SUNSET_STORE=s3://bucket-one/prefix',
  'fax-sunset archive --dry-run   # exits 1: nothing archived yet',
  'fax-sunset archive --subaccounts \\',
  '  --store s3://bucket-two/p --sse aws:kms',
  'echo "not run"',
  'fax-sunset serve --port 8080   # runs until stopped',
  '```',
  '',
  '<!-- runbook: skip -->',
  '```sh',
  'fax-sunset sync --delete',
  '```',
  '<!-- runbook: shell -->',
  '```sh',
  'sqlite3 x.sqlite "SELECT 1"',
  'fax-sunset verify',
  '```',
  '<!-- runbook: iam-policy -->',
  '```json',
  '{"Version": "2012-10-17"}',
  '```',
  '```json',
  '{"not": "a policy"}',
  '```',
].join('\n');

describe('parseRunbook', () => {
  const doc = parseRunbook(SAMPLE);

  it('keeps commands, exports (but not credentials), shell blocks, in document order', () => {
    expect(doc.steps.map((s) => s.kind)).toEqual(['export', 'command', 'command', 'command', 'shell']);
    expect(doc.steps[0]).toMatchObject({ kind: 'export', name: 'FAX_SUNSET_STORE', line: 4 });
    expect(doc.steps[4]).toMatchObject({ kind: 'shell', text: 'sqlite3 x.sqlite "SELECT 1"\nfax-sunset verify' });
  });

  it('reads exit codes and servers from trailing comments, and joins continued lines', () => {
    const commands = doc.steps.filter((s) => s.kind === 'command');
    expect(commands.map((c) => c.expectedExit)).toEqual([1, 0, 0]);
    expect(commands.map((c) => c.background)).toEqual([false, false, true]);
    expect(commands[1]?.text).toBe('fax-sunset archive --subaccounts  --store s3://bucket-two/p --sse aws:kms');
  });

  it('skips marked blocks and collects only marked JSON as the IAM policy', () => {
    expect(doc.skippedBlocks).toHaveLength(1);
    expect(doc.steps.some((s) => s.text.includes('sync --delete'))).toBe(false);
    expect(doc.iamPolicies).toEqual(['{"Version": "2012-10-17"}']);
  });

  it('refuses an unknown marker instead of running its block', () => {
    expect(() => parseRunbook('<!-- runbook: skipp -->\n```sh\nfax-sunset archive\n```')).toThrow(/unknown runbook marker/);
  });

  it('names the buckets the commands use', () => {
    expect(bucketsOf(doc.steps).sort()).toEqual(['bucket-one', 'bucket-two']);
  });
});

describe('commentOf', () => {
  it('finds a trailing comment, but not a # inside quotes or a word', () => {
    expect(commentOf('fax-sunset x   # exits 2')).toBe('exits 2');
    expect(commentOf('fax-sunset report --organization "Acme #1"')).toBe('');
    expect(commentOf('fax-sunset x --out a#b')).toBe('');
  });
});

describe('toFilesystemStore', () => {
  it('turns s3:// stores into folders and drops S3-only flags, also inside a quoted export', () => {
    const command = toFilesystemStore('fax-sunset archive --store s3://acme/fax --sse aws:kms --kms-key-id alias/k --retain-until 2032-12-31 --lock-mode compliance --json');
    expect(command.split(/\s+/)).toEqual(['fax-sunset', 'archive', '--store', './s3/acme/fax', '--json']);
    const exported = toFilesystemStore('export STORE_FLAGS="--sse aws:kms --kms-key-id alias/fax --storage-class GLACIER_IR"');
    expect(exported).toMatch(/^export STORE_FLAGS="\s*"$/);
    expect(toFilesystemStore('export FAX_SUNSET_STORE=s3://acme-fax/twilio')).toBe('export FAX_SUNSET_STORE=./s3/acme-fax/twilio');
    expect(toFilesystemStore('export FAX_SUNSET_SSE=aws:kms')).toBe('unset FAX_SUNSET_SSE');
    expect(toFilesystemStore('export FAX_SUNSET_RETAIN_UNTIL=2032-12-31')).toBe('unset FAX_SUNSET_RETAIN_UNTIL');
  });
});
