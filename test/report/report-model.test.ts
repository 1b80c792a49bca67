import { describe, expect, it } from 'vitest';
import { buildReportModel, daysUntilPruned, isAtRisk, monthOf, ReportAccumulator } from '../../src/report/report-model.js';
import { ACCOUNT_A, ACCOUNT_B, faxRow } from './fax-rows.js';

const NOW = new Date('2025-09-01T00:00:00Z');
const chain = { intact: true, brokenAtId: null, events: 10 };

describe('isAtRisk / daysUntilPruned', () => {
  it('flags a fax older than 166 days that is not archived, and only then', () => {
    const old = '2025-03-10T00:00:00Z'; // 175 days before NOW
    const young = '2025-06-01T00:00:00Z';
    expect(isAtRisk({ state: 'failed', dateCreated: old }, NOW)).toBe(true);
    expect(isAtRisk({ state: 'listed', dateCreated: old }, NOW)).toBe(true);
    expect(isAtRisk({ state: 'verified', dateCreated: old }, NOW)).toBe(false);
    expect(isAtRisk({ state: 'deleted', dateCreated: old }, NOW)).toBe(false);
    expect(isAtRisk({ state: 'lost', dateCreated: old }, NOW)).toBe(false);
    expect(isAtRisk({ state: 'listed', dateCreated: young }, NOW)).toBe(false);
    expect(isAtRisk({ state: 'listed', dateCreated: null }, NOW)).toBe(false);
    // boundary: exactly 166 days is not yet at risk, a minute more is
    const boundary = new Date(NOW.getTime() - 166 * 86_400_000).toISOString();
    expect(isAtRisk({ state: 'listed', dateCreated: boundary }, NOW)).toBe(false);
    expect(isAtRisk({ state: 'listed', dateCreated: new Date(Date.parse(boundary) - 60_000).toISOString() }, NOW)).toBe(true);
    expect(daysUntilPruned(old, NOW)).toBe(5);
    expect(daysUntilPruned('2025-01-01T00:00:00Z', NOW)).toBeLessThan(0);
  });

  it('reads months from ISO and RFC 2822 dates in UTC', () => {
    expect(monthOf('2025-03-31T23:30:00Z')).toBe('2025-03');
    expect(monthOf('Mon, 31 Mar 2025 23:30:00 -0200')).toBe('2025-04');
    expect(monthOf('nonsense')).toBeNull();
  });
});

describe('buildReportModel', () => {
  const faxes = [
    faxRow({ state: 'verified', dateCreated: '2025-01-05T00:00:00Z', method: 'full' }),
    faxRow({ state: 'verified', dateCreated: '2025-01-06T00:00:00Z' }),
    faxRow({ state: 'metadata-only', dateCreated: '2025-02-01T00:00:00Z', status: 'failed' }),
    faxRow({
      state: 'deleted',
      dateCreated: '2025-02-02T00:00:00Z',
      accountSid: ACCOUNT_B,
      deletion: { faxSid: 'x', intentAt: '2025-07-01T00:00:00Z', runId: 1, receiptAt: '2025-07-01T00:00:01Z', httpStatus: 204, requestId: 'RQ1' },
    }),
    faxRow({
      state: 'verified',
      dateCreated: '2025-02-03T00:00:00Z',
      deletion: { faxSid: 'y', intentAt: '2025-08-01T00:00:00Z', runId: 2, receiptAt: null, httpStatus: null, requestId: null },
    }),
    faxRow({ state: 'failed', dateCreated: '2025-03-01T00:00:00Z', attempts: 3, lastError: 'GET https://media.example/x?Signature=SECRETSIG&a=1 timed out; token hunter2hunter2' }),
    faxRow({ state: 'lost', dateCreated: '2025-03-02T00:00:00Z', status: 'received' }),
    faxRow({ state: 'stored', dateCreated: '2025-08-20T00:00:00Z' }),
    faxRow({ state: 'listed', dateCreated: null, status: null }),
  ];
  const model = buildReportModel({ faxes, now: NOW, runs: [], chain, organization: 'Clinic', knownSecrets: ['hunter2hunter2'] });

  it('totals, states, statuses, accounts and months add up', () => {
    expect(model.totals.faxes).toBe(9);
    expect(model.totals.archived).toBe(5);
    expect(model.byState).toMatchObject({ verified: 3, 'metadata-only': 1, deleted: 1, failed: 1, lost: 1, stored: 1, listed: 1, fetched: 0 });
    expect(model.byStatus).toEqual({ delivered: 6, failed: 1, received: 1, unknown: 1 });
    expect(model.byAccount.map((a) => [a.accountSid, a.faxes, a.archived, a.deleted])).toEqual([
      [ACCOUNT_A, 8, 4, 0],
      [ACCOUNT_B, 1, 1, 1],
    ]);
    expect(model.byMonth.map((m) => [m.month, m.faxes, m.archived])).toEqual([
      ['2025-01', 2, 2],
      ['2025-02', 3, 3],
      ['2025-03', 2, 0],
      ['2025-08', 1, 0],
      ['unknown', 1, 0],
    ]);
    // archived objects: 4 faxes with media+sidecar (1100 bytes), one metadata-only sidecar (100)
    expect(model.totals.archivedObjects).toBe(9);
    expect(model.totals.archivedBytes).toBe(4 * 1100 + 100);
    expect(model.organization).toBe('Clinic');
  });

  it('counts verification by method and coverage over faxes that need proof', () => {
    expect(model.verification.objectsByMethod).toEqual({ full: 2, checksum: 7, 'etag-md5': 0, unverified: 2 });
    expect(model.verification.faxesNeedingProof).toBe(8); // lost cannot be proven any more
    expect(model.verification.faxesProven).toBe(5);
    expect(model.verification.coverage).toBeCloseTo(5 / 8);
  });

  it('deletions by receipt month, with request ids and open intents', () => {
    expect(model.deletions.byMonth).toEqual([{ month: '2025-07', deleted: 1 }]);
    expect(model.deletions.withRequestId).toBe(1);
    expect(model.deletions.openIntents).toBe(1);
    expect(model.totals.deletedFromTwilio).toBe(1);
  });

  it('lists exceptions with reasons, secrets redacted', () => {
    expect(model.exceptions.failed.total).toBe(1);
    const reason = model.exceptions.failed.items[0]?.reason ?? '';
    expect(reason).toContain('timed out');
    expect(reason).not.toContain('SECRETSIG');
    expect(reason).not.toContain('hunter2hunter2');
    expect(model.exceptions.lost.total).toBe(1);
    expect(model.exceptions.unverified.items.map((i) => i.state)).toEqual(['stored', 'listed']);
    // at risk: the failed one from 2025-03-01 (older than 166 days); not the lost, stored (young) or listed (no date)
    expect(model.exceptions['at-risk'].items.map((i) => i.state)).toEqual(['failed']);
    expect(model.exceptions['at-risk'].items[0]?.daysUntilPruned).toBe(-4);
  });

  it('keeps only the first N exceptions but the true total', () => {
    const acc = new ReportAccumulator({ now: NOW, exceptionLimit: 3 });
    for (let i = 0; i < 50; i++) acc.add(faxRow({ state: 'failed', lastError: `e${i}` }));
    const m = acc.finish({ runs: [], chain });
    expect(m.exceptions.failed.total).toBe(50);
    expect(m.exceptions.failed.items.map((i) => i.reason)).toEqual(['e0', 'e1', 'e2']);
    expect(m.exceptions.failed.truncated).toBe(true);
  });

  it('an empty catalog has full coverage and no months', () => {
    const m = buildReportModel({ faxes: [], now: NOW, runs: [], chain });
    expect(m.totals.faxes).toBe(0);
    expect(m.verification.coverage).toBe(1);
    expect(m.byMonth).toEqual([]);
  });
});

describe('faxes that need review (issue 11 §2)', () => {
  it('are named with their reason in their own exception list, and counted by state', () => {
    const waiting = faxRow({ state: 'needs-review', dateCreated: '2025-08-01T00:00:00Z', reviewReason: 'the record says media (media_sid) but Twilio gives no media_url' });
    const model = buildReportModel({ faxes: [waiting, faxRow({ state: 'verified' })], now: NOW, runs: [], chain });
    expect(model.byState['needs-review']).toBe(1);
    expect(model.exceptions['needs-review'].total).toBe(1);
    expect(model.exceptions['needs-review'].items[0]).toMatchObject({ sid: waiting.sid, state: 'needs-review', reason: 'the record says media (media_sid) but Twilio gives no media_url' });
  });
});
