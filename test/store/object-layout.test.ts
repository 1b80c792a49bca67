import { describe, expect, it } from 'vitest';
import { ConfigurationError } from '../../src/errors.js';
import {
  UNKNOWN_DATE_FOLDER,
  assertObjectKey,
  mediaKindForContentType,
  mediaObjectKey,
  sidecarObjectKey,
} from '../../src/store/object-layout.js';

const AC = 'AC' + 'a1'.repeat(16);
const FX = 'FX' + '0f'.repeat(16);

describe('object layout', () => {
  it('puts media under <AccountSid>/<yyyy>/<mm>/ by date_created in UTC', () => {
    // Twilio sends RFC 2822; 23:30 on Jan 31 at -0500 is already February in UTC.
    expect(mediaObjectKey({ accountSid: AC, faxSid: FX, dateCreated: 'Wed, 31 Jan 2024 23:30:00 -0500', kind: 'pdf' })).toBe(
      `${AC}/2024/02/${FX}.pdf`,
    );
    expect(mediaObjectKey({ accountSid: AC, faxSid: FX, dateCreated: '2019-12-05T08:00:00Z', kind: 'tiff' })).toBe(
      `${AC}/2019/12/${FX}.tiff`,
    );
    expect(mediaObjectKey({ accountSid: AC, faxSid: FX, dateCreated: new Date(Date.UTC(2021, 0, 1)), kind: 'pdf' })).toBe(
      `${AC}/2021/01/${FX}.pdf`,
    );
  });

  it('puts the sidecar beside the media', () => {
    const ref = { accountSid: AC, faxSid: FX, dateCreated: 'Mon, 16 Aug 2010 03:45:01 +0000' };
    expect(sidecarObjectKey(ref)).toBe(`${AC}/2010/08/${FX}.json`);
  });

  it('files faxes with a missing or broken date under unknown-date instead of refusing them', () => {
    for (const dateCreated of [null, undefined, '', 'not a date', '+275760-09-14T00:00:00Z']) {
      expect(mediaObjectKey({ accountSid: AC, faxSid: FX, dateCreated, kind: 'pdf' })).toBe(`${AC}/${UNKNOWN_DATE_FOLDER}/${FX}.pdf`);
    }
  });

  it('refuses malformed sids and kinds (keys are built by concatenation)', () => {
    expect(() => mediaObjectKey({ accountSid: '../AC', faxSid: FX, dateCreated: null, kind: 'pdf' })).toThrow(/account sid/);
    expect(() => mediaObjectKey({ accountSid: AC, faxSid: 'FX123', dateCreated: null, kind: 'pdf' })).toThrow(/fax sid/);
    expect(() => sidecarObjectKey({ accountSid: AC, faxSid: AC, dateCreated: null })).toThrow(/fax sid/);
    expect(() => mediaObjectKey({ accountSid: AC, faxSid: FX, dateCreated: null, kind: 'exe' as 'pdf' })).toThrow(/kind/);
  });

  it('maps Twilio content types to media kinds', () => {
    expect(mediaKindForContentType('application/pdf')).toBe('pdf');
    expect(mediaKindForContentType('image/tiff; charset=binary')).toBe('tiff');
    expect(mediaKindForContentType('text/html')).toBeNull();
    expect(mediaKindForContentType(null)).toBeNull();
  });

  it('accepts only plain relative keys', () => {
    expect(assertObjectKey(`${AC}/2024/02/${FX}.pdf`)).toBe(`${AC}/2024/02/${FX}.pdf`);
    expect(assertObjectKey('', { allowPrefix: true })).toBe('');
    expect(assertObjectKey(`${AC}/2024/`, { allowPrefix: true })).toBe(`${AC}/2024/`);
    for (const bad of ['', '/a', 'a/', '../a', 'a/../b', 'a//b', '.a', 'a/.b', 'a\\b', 'a b', 'a\0b', 'x'.repeat(600)]) {
      expect(() => assertObjectKey(bad), bad).toThrow(ConfigurationError);
    }
  });
});
