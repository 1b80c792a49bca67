import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors.js';
import { decideNumberChange, exitCodeForChanges } from '../../src/reversion/number-change-run.js';
import { renderPlanCsv, renderPlanMarkdown, describeDeadline } from '../../src/reversion/render-plan.js';
import {
  buildReversionPlan, canonicalJson, checkPlanIntegrity, daysUntilDeadline, parsePlan, planSha256, type ReversionPlan,
} from '../../src/reversion/reversion-plan.js';
import { applyVoiceUpdate, diffAgainstBefore, restoreUpdateFor, voiceStateFrom, type IncomingNumber } from '../../src/reversion/voice-state.js';
import { defaultDestinationFrom, parseNumberMap, type VoiceTargets } from '../../src/reversion/voice-targets.js';

const MAIN = `AC${'a'.repeat(32)}`;
const SUB = `AC${'b'.repeat(32)}`;
const FAX_URL = 'https://fax.example.com/inbound';
const VOICE_URL = 'https://voice.example.com/answer';
const APP = `AP${'c'.repeat(32)}`;

function pn(n: number): string {
  return `PN${n.toString(16).padStart(32, '0')}`;
}

function number(n: number, overrides: Partial<IncomingNumber['state']> & { accountSid?: string; voiceCapable?: boolean } = {}): IncomingNumber {
  const { accountSid = MAIN, voiceCapable = true, ...state } = overrides;
  return {
    accountSid,
    sid: pn(n),
    phoneNumber: `+1555000${String(n).padStart(4, '0')}`,
    friendlyName: `line ${n}`,
    voiceCapable,
    state: voiceStateFrom({ voiceReceiveMode: 'fax', voiceUrl: FAX_URL, voiceMethod: 'POST', voiceFallbackUrl: '', voiceApplicationSid: '', trunkSid: null, ...state }),
  };
}

const accounts = [
  { sid: MAIN, friendlyName: 'main', status: 'active' },
  { sid: SUB, friendlyName: 'sub', status: 'active' },
];

function targets(options: { voiceUrl?: string; voiceApplicationSid?: string } = { voiceUrl: VOICE_URL }, map = ''): VoiceTargets {
  return { defaultDestination: defaultDestinationFrom(options), byNumber: parseNumberMap(map) };
}

function plan(numbers: IncomingNumber[], t = targets(), extra: { keepVoiceUrl?: boolean; createdAt?: Date; deadline?: string } = {}): ReversionPlan {
  return buildReversionPlan(numbers, t, {
    accounts,
    subaccounts: true,
    keepVoiceUrl: extra.keepVoiceUrl ?? false,
    createdAt: extra.createdAt ?? new Date('2021-12-01T12:00:00Z'),
    deadline: extra.deadline ?? '2021-12-17',
  });
}

describe('buildReversionPlan', () => {
  it('changes exactly the fax-mode numbers that can take voice, and reports the rest with a reason', () => {
    const numbers = [
      number(1),
      number(2, { accountSid: SUB }),
      number(3, { voiceReceiveMode: 'voice', voiceUrl: VOICE_URL }),
      number(4, { voiceCapable: false }),
      number(5, { trunkSid: `TK${'d'.repeat(32)}` }),
    ];
    const p = plan(numbers);
    expect(p.changes.map((c) => c.sid)).toEqual([pn(1), pn(2)]);
    expect(Object.fromEntries(p.reported.map((r) => [r.sid, r.reason]))).toEqual({
      [pn(3)]: 'already-voice', [pn(4)]: 'no-voice-capability', [pn(5)]: 'trunk',
    });
    expect(p.reported.every((r) => !r.refused)).toBe(true);
    expect(p.changes[0]!.change).toEqual({ voiceReceiveMode: 'voice', voiceUrl: VOICE_URL, voiceMethod: 'POST' });
    expect(p.changes[0]!.after.voiceReceiveMode).toBe('voice');
    expect(p.changes[0]!.after.voiceUrl).toBe(VOICE_URL);
    expect(p.counts).toMatchObject({ numbersListed: 5, faxMode: 4, toChange: 2, alreadyVoice: 1, noVoiceCapability: 1, trunk: 1, refused: 0 });
  });

  it('refuses fax numbers without a voice destination unless --keep-voice-url, and flags those kept', () => {
    const refused = plan([number(1)], targets({}));
    expect(refused.changes).toHaveLength(0);
    expect(refused.reported[0]).toMatchObject({ reason: 'no-destination', refused: true });
    expect(refused.warnings.join('\n')).toMatch(/REFUSED/);

    const kept = plan([number(1)], targets({}), { keepVoiceUrl: true });
    expect(kept.changes[0]!.change).toEqual({ voiceReceiveMode: 'voice' });
    expect(kept.changes[0]!.destination).toBe('kept-fax-url');
    expect(kept.changes[0]!.warnings[0]).toMatch(/KEEPS ITS FAX URL/);
    expect(kept.counts.keptFaxUrl).toBe(1);
  });

  it('refuses a voice URL that is the number\'s own fax URL', () => {
    const p = plan([number(1)], targets({ voiceUrl: `${FAX_URL}/` }));
    expect(p.changes).toHaveLength(0);
    expect(p.reported[0]).toMatchObject({ reason: 'voice-url-is-fax-url', refused: true });
  });

  it('takes per-number destinations from the map (by sid or phone number) before the default', () => {
    const map = `number,destination,method\n${pn(1)},${APP}\n+15550000002,https://other.example.com/v,GET\n`;
    const p = plan([number(1), number(2), number(3)], targets({ voiceUrl: VOICE_URL }, map));
    const bySid = Object.fromEntries(p.changes.map((c) => [c.sid, c.change]));
    expect(bySid[pn(1)]).toEqual({ voiceReceiveMode: 'voice', voiceApplicationSid: APP });
    expect(bySid[pn(2)]).toEqual({ voiceReceiveMode: 'voice', voiceUrl: 'https://other.example.com/v', voiceMethod: 'GET' });
    expect(bySid[pn(3)]).toEqual({ voiceReceiveMode: 'voice', voiceUrl: VOICE_URL, voiceMethod: 'POST' });
  });

  it('clears a voice application that would override the new voice URL, and says so', () => {
    const p = plan([number(1, { voiceApplicationSid: APP })]);
    expect(p.changes[0]!.change.voiceApplicationSid).toBe('');
    expect(p.changes[0]!.after.voiceApplicationSid).toBeNull();
    expect(p.changes[0]!.warnings.join()).toMatch(/clears voice_application_sid/);
  });

  it('hashes its own body: any edit changes the hash and is refused', () => {
    const p = plan([number(1)]);
    expect(p.sha256).toBe(planSha256(p));
    expect(() => checkPlanIntegrity(p)).not.toThrow();
    expect(() => checkPlanIntegrity(p, p.sha256.toUpperCase())).not.toThrow();
    const edited: ReversionPlan = JSON.parse(JSON.stringify(p));
    edited.changes[0]!.change.voiceUrl = 'https://attacker.example.com/';
    expect(() => checkPlanIntegrity(edited)).toThrow(UsageError);
    // Re-hashing an edited plan passes its own check but not the reviewer's hash.
    edited.sha256 = planSha256(edited);
    expect(() => checkPlanIntegrity(edited, p.sha256)).toThrow(/not the approved/);
  });

  it('canonical JSON ignores key order', () => {
    expect(canonicalJson({ b: 1, a: [{ d: null, c: 'x' }] })).toBe(canonicalJson({ a: [{ c: 'x', d: null }], b: 1 }));
    expect(canonicalJson({ b: 1, a: 2 })).toBe('{"a":2,"b":1}');
  });

  it('counts days to the deadline and says plainly when it has passed', () => {
    expect(daysUntilDeadline('2021-12-17', new Date('2021-12-01T23:59:00Z'))).toBe(16);
    expect(describeDeadline('2021-12-17', new Date('2021-12-17T01:00:00Z'))).toMatch(/TODAY/);
    expect(describeDeadline('2021-12-17', new Date('2022-01-01T00:00:00Z'))).toMatch(/PASSED \(15 days ago\)/);
    const late = plan([number(1)], targets(), { createdAt: new Date('2022-01-01T00:00:00Z') });
    expect(late.warnings[0]).toMatch(/PAST/);
    expect(() => plan([number(1)], targets(), { deadline: '2021-13-40' })).toThrow(UsageError);
  });

  it('parsePlan refuses files that are not plans or carry bad sids', () => {
    const p = plan([number(1)]);
    expect(parsePlan(JSON.parse(JSON.stringify(p))).sha256).toBe(p.sha256);
    expect(() => parsePlan({ kind: 'other' })).toThrow(UsageError);
    const bad = JSON.parse(JSON.stringify(p));
    bad.changes[0].sid = '../../Accounts';
    expect(() => parsePlan(bad)).toThrow(/invalid account or number sid/);
  });
});

describe('rendering', () => {
  it('plan.md puts warnings first, then counts, changes and what was not changed', () => {
    const p = plan([number(1), number(2, { voiceCapable: false })], targets({ voiceUrl: VOICE_URL }), { createdAt: new Date('2022-02-01T00:00:00Z') });
    const md = renderPlanMarkdown(p);
    const order = ['has PASSED', '## Warnings', '## Counts', '## Changes (1)', '## Not changed (1)', p.sha256];
    const positions = order.map((text) => md.indexOf(text));
    expect(positions.every((pos) => pos >= 0)).toBe(true);
    expect([...positions].slice(0, 5)).toEqual([...positions].slice(0, 5).sort((a, b) => a - b));
    expect(md).toContain('| **to change to voice** | 1 |');
  });

  it('plan.csv has one row per number with before and after', () => {
    const p = plan([number(1), number(2, { voiceReceiveMode: 'voice' })]);
    const lines = renderPlanCsv(p).trim().split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(/^account_sid,number_sid,phone_number/);
    expect(lines[1]).toContain(`${pn(1)},+15550000001`);
    expect(lines[1]).toContain(`change,url,fax,${FAX_URL}`);
    expect(lines[1]).toContain(`voice,${VOICE_URL},POST`);
    expect(lines[2]).toContain('report,already-voice');
  });
});

describe('map file', () => {
  it('accepts quoted cells, comments and CRLF; refuses bad rows with the line number', () => {
    const map = parseNumberMap(`# comment\r\n"+15550000001","https://a.example.com/x?y=1,2",post\r\n`);
    expect(map.get('+15550000001')).toEqual({ kind: 'url', voiceUrl: 'https://a.example.com/x?y=1,2', voiceMethod: 'POST' });
    expect(() => parseNumberMap('number,dest\n+15550000001,ftp://x\n')).toThrow(/line 2/);
    expect(() => parseNumberMap('+15550000001,https://a.example.com\n+15550000001,https://b.example.com\n')).toThrow(/twice/);
    expect(() => parseNumberMap('+15550000001,\n')).toThrow(/empty/);
    expect(() => defaultDestinationFrom({ voiceUrl: VOICE_URL, voiceApplicationSid: APP })).toThrow(UsageError);
    expect(() => defaultDestinationFrom({ voiceUrl: 'https://user:pw@x.example.com/' })).toThrow(/credentials/);
  });
});

describe('stale check and change decisions', () => {
  const before = number(1).state;
  const update = { voiceReceiveMode: 'voice' as const, voiceUrl: VOICE_URL, voiceMethod: 'POST' };

  it('treats "" and null alike and compares methods without case', () => {
    expect(diffAgainstBefore(voiceStateFrom({ ...before, voiceFallbackUrl: '', voiceMethod: 'post' }), before)).toEqual([]);
    expect(diffAgainstBefore({ ...before, voiceUrl: 'https://changed.example.com/' }, before)).toEqual([
      { field: 'voiceUrl', expected: FAX_URL, actual: 'https://changed.example.com/' },
    ]);
  });

  it('decides change / done / stale', () => {
    expect(decideNumberChange(before, { expected: before, update })).toEqual({ action: 'change' });
    expect(decideNumberChange(applyVoiceUpdate(before, update), { expected: before, update })).toEqual({ action: 'done' });
    const behindBack = { ...before, voiceUrl: 'https://someone-else.example.com/' };
    expect(decideNumberChange(behindBack, { expected: before, update })).toMatchObject({ action: 'stale' });
  });

  it('the restore update puts back exactly the prior values of the changed fields', () => {
    const prior = number(1, { voiceApplicationSid: APP }).state;
    const change = { ...update, voiceApplicationSid: '' };
    const restore = restoreUpdateFor(prior, change);
    expect(restore).toEqual({ voiceReceiveMode: 'fax', voiceUrl: FAX_URL, voiceMethod: 'POST', voiceApplicationSid: APP });
    expect(diffAgainstBefore(applyVoiceUpdate(applyVoiceUpdate(prior, change), restore), prior)).toEqual([]);
  });

  it('exit code: 0 when all done, 1 when anything is left', () => {
    const zero = { total: 1, applied: 1, 'would-apply': 0, 'already-applied': 0, 'skipped-stale': 0, failed: 0, 'not-run': 0, stoppedBy: null };
    expect(exitCodeForChanges({ summary: zero, fatal: null })).toBe(0);
    expect(exitCodeForChanges({ summary: { ...zero, 'skipped-stale': 1 }, fatal: null })).toBe(1);
    expect(exitCodeForChanges({ summary: { ...zero, failed: 1 }, fatal: null })).toBe(1);
    expect(exitCodeForChanges({ summary: zero, fatal: new UsageError('x') })).toBe(2);
  });
});
