import { describe, expect, it } from 'vitest';
import {
  encodeBagPath,
  fetchLine,
  humanBytes,
  manifestLine,
  objectUrl,
  payloadOxum,
  payloadPath,
  renderBagInfo,
  renderBagitTxt,
} from '../../src/report/bagit-manifests.js';

describe('BagIt text files', () => {
  it('bagit.txt declares version 1.0 and UTF-8', () => {
    expect(renderBagitTxt()).toBe('BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n');
  });

  it('manifest and fetch lines use data/ paths and percent-encode CR, LF and %', () => {
    expect(manifestLine('AB'.repeat(32), 'data/AC1/2025/01/FX1.pdf')).toBe(`${'ab'.repeat(32)}  data/AC1/2025/01/FX1.pdf\n`);
    expect(encodeBagPath('a%b\nc\rd')).toBe('a%25b%0Ac%0Dd');
    expect(fetchLine('s3://bucket/p/AC1/FX1.pdf', 1234, 'data/AC1/FX1.pdf')).toBe('s3://bucket/p/AC1/FX1.pdf 1234 data/AC1/FX1.pdf\n');
    expect(() => fetchLine('s3://b/a b', 1, 'data/x')).toThrow();
  });

  it('refuses keys that would escape the payload folder', () => {
    expect(payloadPath('AC1/2025/01/FX1.pdf')).toBe('data/AC1/2025/01/FX1.pdf');
    for (const bad of ['../x', '/abs', 'a//b', 'a/./b', 'a/..']) expect(() => payloadPath(bad)).toThrow();
  });

  it('bag-info.txt carries organization, every account, date and Payload-Oxum, one line per value', () => {
    const text = renderBagInfo({
      sourceOrganization: 'Clinic\nPayload-Oxum: 1.1',
      accountSids: ['ACa', 'ACb'],
      baggingDate: '2025-09-01',
      payloadBytes: 123456,
      payloadCount: 7,
      storeUrl: 's3://bucket/prefix',
      softwareAgent: 'fax-sunset 0.1.0',
    });
    const lines = text.trimEnd().split('\n');
    expect(lines).toContain('Source-Organization: Clinic Payload-Oxum: 1.1');
    expect(lines.filter((l) => l.startsWith('External-Identifier: '))).toEqual(['External-Identifier: ACa', 'External-Identifier: ACb']);
    expect(lines).toContain('Bagging-Date: 2025-09-01');
    expect(lines.filter((l) => l.startsWith('Payload-Oxum:'))).toEqual(['Payload-Oxum: 123456.7']);
    for (const line of lines) expect(line).toMatch(/^[A-Za-z-]+: \S/);
    expect(payloadOxum(0, 0)).toBe('0.0');
  });

  it('object URLs join the store URL and the key', () => {
    expect(objectUrl('s3://bucket/prefix/', 'AC1/2025/01/FX1.pdf')).toBe('s3://bucket/prefix/AC1/2025/01/FX1.pdf');
    expect(objectUrl('file:///srv/fax%20archive', 'AC1/x y.pdf')).toBe('file:///srv/fax%20archive/AC1/x%20y.pdf');
  });

  it('human sizes', () => {
    expect(humanBytes(999)).toBe('999 B');
    expect(humanBytes(1_500_000)).toBe('1.50 MB');
    expect(humanBytes(250_000_000_000)).toBe('250 GB');
  });
});
