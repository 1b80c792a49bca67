import { describe, expect, it } from 'vitest';
import { ConfigurationError } from '../../src/errors.js';
import { FsMediaStore } from '../../src/store/fs-media-store.js';
import { openMediaStore, parseStoreUrl, validateStoreOptions } from '../../src/store/open-media-store.js';
import { S3MediaStore } from '../../src/store/s3-media-store.js';

describe('store URLs', () => {
  it('parses s3://bucket/prefix, file:///dir and plain paths', () => {
    expect(parseStoreUrl('s3://fax-archive')).toEqual({ kind: 's3', bucket: 'fax-archive', prefix: '' });
    expect(parseStoreUrl('s3://fax.archive-01/prod/faxes/')).toEqual({ kind: 's3', bucket: 'fax.archive-01', prefix: 'prod/faxes' });
    expect(parseStoreUrl('file:///srv/fax%20archive')).toEqual({ kind: 'fs', root: '/srv/fax archive' });
    expect(parseStoreUrl('./fax-archive/media')).toEqual({ kind: 'fs', root: './fax-archive/media' });
    expect(parseStoreUrl('/var/lib/fax')).toEqual({ kind: 'fs', root: '/var/lib/fax' });
  });

  it('refuses anything else with one clear line', () => {
    const cases: [string, RegExp][] = [
      ['', /empty/],
      ['   ', /empty/],
      ['http://example.com/bucket', /unsupported scheme http/],
      ['gs://bucket/x', /unsupported scheme gs/],
      ['s3://', /names no bucket/],
      ['s3:///prefix', /names no bucket/],
      ['s3://Bad_Bucket/x', /not a valid bucket name/],
      ['s3://ab', /not a valid bucket name/],
      ['s3://bucket/../etc', /prefix may only use/],
      ['s3://bucket/a//b', /prefix may only use/],
      ['s3://bucket/a b', /prefix may only use/],
      ['file://host/share', /three slashes/],
    ];
    for (const [url, message] of cases) {
      let error: unknown;
      try {
        parseStoreUrl(url);
      } catch (e) {
        error = e;
      }
      expect(error, url).toBeInstanceOf(ConfigurationError);
      expect((error as Error).message, url).toMatch(message);
      expect((error as Error).message).not.toContain('\n');
    }
  });

  it('never echoes credentials from a URL', () => {
    expect(() => parseStoreUrl('https://AKIA:supersecretvalue@host/bucket')).toThrow(ConfigurationError);
  });

  it('checks option combinations before opening anything', () => {
    const fs = parseStoreUrl('/tmp/x');
    const s3 = parseStoreUrl('s3://bucket-a');
    const future = new Date(Date.now() + 86_400_000);
    expect(() => validateStoreOptions(fs, { sse: 'AES256' })).toThrow(/--sse needs an s3:\/\/ store/);
    expect(() => validateStoreOptions(fs, { retainUntil: future, lockMode: 'COMPLIANCE' })).toThrow(/--retain-until needs/);
    expect(() => validateStoreOptions(s3, { retainUntil: future })).toThrow(/both --retain-until and --lock-mode/);
    expect(() => validateStoreOptions(s3, { retainUntil: new Date(0), lockMode: 'GOVERNANCE' })).toThrow(/in the future/);
    expect(() => validateStoreOptions(s3, { kmsKeyId: 'k' })).toThrow(/aws:kms/);
    expect(() => validateStoreOptions(s3, { sse: 'DES' as 'AES256' })).toThrow(/AES256 or aws:kms/);
    expect(() => validateStoreOptions(s3, { endpoint: 'localhost:9000' })).toThrow(/http/);
    expect(() => validateStoreOptions(s3, { retainUntil: future, lockMode: 'COMPLIANCE', sse: 'aws:kms', kmsKeyId: 'k' })).not.toThrow();
  });

  it('opens the implementation the URL names', async () => {
    const fs = openMediaStore('file:///tmp/fax-sunset-open-test');
    expect(fs).toBeInstanceOf(FsMediaStore);
    expect(fs.displayUrl).toBe('file:///tmp/fax-sunset-open-test');
    const s3 = openMediaStore('s3://bucket-a/prod', { endpoint: 'http://127.0.0.1:9', region: 'us-east-1' });
    expect(s3).toBeInstanceOf(S3MediaStore);
    expect(s3.displayUrl).toBe('s3://bucket-a/prod');
    expect(s3.capabilities).toEqual({ reportsSha256: true, etagIsMd5: true });
    await s3.close();
    expect(openMediaStore('s3://bucket-a', { sse: 'aws:kms', region: 'us-east-1' }).capabilities.etagIsMd5).toBe(false);
  });
});
