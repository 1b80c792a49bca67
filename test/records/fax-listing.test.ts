import { describe, expect, it } from 'vitest';
import { csvLine, tableHeader, tableLine, type FindColumn } from '../../src/records/fax-listing.js';

const record = (overrides: Partial<Record<FindColumn, string | number | null>> = {}): Record<FindColumn, string | number | null> => ({
  sid: `FX${'a'.repeat(32)}`, account_sid: `AC${'b'.repeat(32)}`, date_created: '2021-03-02T10:00:00Z', direction: 'inbound', status: 'received',
  state: 'verified', from: '+14155550100', to: '+14155550111', num_pages: 3, media_key: 'k.pdf', media_sha256: '1'.repeat(64), deleted_at: null, ...overrides,
});

describe('find output', () => {
  it('the table lines up under its header and shows no terminal control characters from catalog text', () => {
    const header = tableHeader();
    const line = tableLine(record({ from: '+1415\u001b[2J5550100', status: null }));
    expect(line).not.toContain('\u001b');
    expect(line.indexOf('inbound')).toBe(header.indexOf('direction'));
    expect(line).toContain(' - ');
  });

  it('CSV: every text cell a spreadsheet would run is neutralised, E.164 and numbers are not', () => {
    const line = csvLine(record({ to: '@SUM(1+1)', status: '-2+3' }));
    expect(line).toBe(`FX${'a'.repeat(32)},AC${'b'.repeat(32)},2021-03-02T10:00:00Z,inbound,'-2+3,verified,+14155550100,'@SUM(1+1),3,k.pdf,${'1'.repeat(64)},\n`);
  });
});
