import { describe, expect, it } from 'vitest';
import { faxProblem, readAccountPage, readFaxPage, twilioDate } from '../../src/twilio/helper-library-twilio-gateway.js';

const FX = 'FX' + '0'.repeat(31) + '1';
const AC = 'AC' + 'a'.repeat(32);
const fax = { sid: FX, account_sid: AC, media_url: 'https://media.twiliocdn.com/x', status: 'received' };

describe('readFaxPage', () => {
  it('reads payload[meta.key] and next_page_url verbatim', () => {
    const next = 'https://fax.twilio.com/v1/Faxes?PageSize=2&PageToken=PTabc';
    const read = readFaxPage({ faxes: [fax], meta: { key: 'faxes', next_page_url: next, page: 0 } });
    expect(read).toEqual({ value: { faxes: [fax], next, rejected: [] } });
    const other = readFaxPage({ items: [fax], meta: { key: 'items', next_page_url: null } });
    expect(other).toEqual({ value: { faxes: [fax], next: null, rejected: [] } });
  });
  it('calls a page malformed when it is not the envelope', () => {
    expect(readFaxPage('<html>')).toEqual({ malformed: 'the page is not a JSON object' });
    expect(readFaxPage({ faxes: [] })).toEqual({ malformed: 'the page has no meta object' });
    expect(readFaxPage({ faxes: [], meta: {} })).toEqual({ malformed: 'the page meta has no key' });
    expect(readFaxPage({ meta: { key: 'faxes' } })).toEqual({ malformed: 'the page has no "faxes" list' });
    expect(readFaxPage({ faxes: [], meta: { key: 'faxes', next_page_url: 7 } })).toEqual({ malformed: 'meta.next_page_url is not a string' });
  });
  it('with skipBadRecords, keeps the good records of a page and hands back the bad one (issue 11: quarantined, not the whole page)', () => {
    const badRecord = { ...fax, sid: 'FX../../etc' };
    const read = readFaxPage({ faxes: [fax, badRecord], meta: { key: 'faxes', next_page_url: null } }, { skipBadRecords: true });
    expect('value' in read && read.value.faxes).toEqual([fax]);
    expect('value' in read && read.value.rejected.map((r) => r.problem)).toEqual([expect.stringMatching(/invalid sid/)]);
  });
  it('refuses a page with a fax whose sid could not safely become a URL or key', () => {
    const bad = readFaxPage({ faxes: [{ ...fax, sid: 'FX../../etc' }], meta: { key: 'faxes', next_page_url: null } });
    expect('malformed' in bad && bad.malformed).toMatch(/invalid sid/);
    expect(faxProblem({ ...fax, account_sid: 'nope' })).toMatch(/account_sid/);
    expect(faxProblem({ ...fax, media_url: 5 })).toMatch(/media_url/);
    expect(faxProblem(fax)).toBeNull();
  });
});

describe('readAccountPage', () => {
  it('reads accounts with tokens and resolves the relative next_page_uri against api.twilio.com', () => {
    const read = readAccountPage({
      accounts: [{ sid: AC, friendly_name: 'Sub', status: 'active', auth_token: 'tok' }],
      next_page_uri: '/2010-04-01/Accounts.json?PageSize=1&Page=1&PageToken=PA1',
    });
    expect(read).toEqual({
      value: {
        accounts: [{ sid: AC, friendlyName: 'Sub', status: 'active', authToken: 'tok' }],
        next: 'https://api.twilio.com/2010-04-01/Accounts.json?PageSize=1&Page=1&PageToken=PA1',
      },
    });
  });
  it('is malformed without an accounts list or with a bad sid', () => {
    expect('malformed' in readAccountPage({})).toBe(true);
    expect('malformed' in readAccountPage({ accounts: [{ sid: 'AC123' }] })).toBe(true);
  });
});

describe('twilioDate', () => {
  it('formats without milliseconds, as Twilio filters expect', () => {
    expect(twilioDate(new Date('2021-06-30T20:00:00.123Z'))).toBe('2021-06-30T20:00:00Z');
  });
});
