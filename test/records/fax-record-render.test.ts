import { describe, expect, it } from 'vitest';
import { renderFaxRecord, type FaxRecord } from '../../src/records/fax-record.js';

const sha = (c: string) => c.repeat(64);

function record(): FaxRecord {
  return {
    fax: {
      sid: `FX${'a'.repeat(32)}`, accountSid: `AC${'b'.repeat(32)}`, state: 'verified', status: 'received', direction: 'inbound',
      from: '+14155550100', to: '+14155550111', numPages: 3, mediaSid: null, dateCreated: '2021-03-02T10:00:00Z', dateUpdated: '2021-03-05T10:00:00Z',
      attempts: 1, lastError: null, firstSeenAt: '2021-03-02T11:00:00Z', updatedAt: '2021-03-05T11:00:00Z', media: null,
    } as FaxRecord['fax'],
    versions: [],
    objects: [{ kind: 'media', key: 'AC/2021/03/FXa.pdf', size: 10, sha256Hex: sha('1'), md5Hex: '2'.repeat(32), contentType: 'application/pdf', etag: null, versionId: 'v2', storedAt: '2021-03-05T11:00:00Z', verifiedAt: null, verificationMethod: null }],
    previousObjects: [{ kind: 'media', key: 'AC/2021/03/FXa.v1.pdf', size: 9, sha256Hex: sha('3'), md5Hex: '4'.repeat(32), contentType: 'application/pdf', etag: null, versionId: null, storedAt: '2021-03-02T11:00:00Z', verifiedAt: '2021-03-02T11:01:00Z', verificationMethod: 'full', supersededAt: '2021-03-05T11:00:00Z' }],
    deletions: [{ intentAt: '2021-03-04T00:00:00Z', runId: 7, receiptAt: null, httpStatus: null, requestId: null, cancelledAt: '2021-03-04T00:01:00Z', proofAt: null, proofMethod: null, proofRunId: null, proofObjects: null }],
    findings: [],
    events: [{ id: 3, at: '2021-03-04T00:00:00Z', type: 'fax-updated\u001b[2J', faxSid: null, data: { note: 'x' }, hash: sha('5'), prevHash: sha('6') }],
  };
}

describe('renderFaxRecord', () => {
  it('shows earlier media versions still in the store, an unverified object as such, a cancelled intent, and no terminal control characters', () => {
    const text = renderFaxRecord(record());
    expect(text).toContain('NOT VERIFIED');
    expect(text).toContain('S3 version v2');
    expect(text).toMatch(/earlier versions still in the store \(1\):\n  media AC\/2021\/03\/FXa\.v1\.pdf\n.*sha256 3{64}[\s\S]*verified 2021-03-02T11:01:00Z by full\n    superseded 2021-03-05T11:00:00Z/);
    expect(text).toContain('intent 2021-03-04T00:00:00Z (run 7); cancelled 2021-03-04T00:01:00Z');
    expect(text).toContain('pre-delete proof: none recorded');
    expect(text).not.toContain('\u001b');
  });
});
