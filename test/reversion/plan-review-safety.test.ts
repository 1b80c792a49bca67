/**
 * Issue 13 §1 and §8: what a person reviews (plan.md, plan.csv) must not run in their spreadsheet or
 * Markdown viewer, and must not hand them a credential that sat in a voice URL. plan.json keeps the
 * URLs whole (it is what `numbers apply` reads and hashes) and is mode 0600.
 */
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { neutralizeSpreadsheetCell } from '../../src/spreadsheet-cell.js';
import { markdownText } from '../../src/reversion/markdown-text.js';
import { writePlanFiles } from '../../src/reversion/plan-files.js';
import { renderPlanCsv, renderPlanMarkdown } from '../../src/reversion/render-plan.js';
import { buildReversionPlan, type ReversionPlan } from '../../src/reversion/reversion-plan.js';
import { voiceStateFrom, type IncomingNumber } from '../../src/reversion/voice-state.js';
import { defaultDestinationFrom, parseNumberMap } from '../../src/reversion/voice-targets.js';

const MAIN = `AC${'a'.repeat(32)}`;
/** --voice-url refuses userinfo; a token parameter it takes. The numbers' own URLs (from Twilio) may carry both. */
const VOICE_URL = 'https://voice.example.com/answer?page=1&token=tok-SECRET-1&X-Sig=sig-SECRET-2';
const FALLBACK_URL = 'https://alice:hunter2-pass@fallback.example.com/x';
const FAX_URL = 'https://fax-user:fax-SECRET-3@fax.example.com/in?auth_key=key-SECRET-4';
const SECRETS = ['hunter2-pass', 'tok-SECRET-1', 'sig-SECRET-2', 'fax-SECRET-3', 'key-SECRET-4', 'alice', 'fax-user'];

const HOSTILE = [
  `+cmd|' /C calc'!A0`,
  '-2+3+cmd|\' /C calc\'!A0',
  '=HYPERLINK("http://evil.example","click")',
  '@SUM(1+1)*cmd|\' /C calc\'!A0',
  ' =1+1',
  '\u3000=1+1',
  '\u200b=1+1',
  '\uff1dHYPERLINK("http://evil.example")',
  '\uff0bcmd|x',
  '\uff0d2+3',
  '\uff20SUM(A1)',
  '\n=1+1',
];

function pn(n: number): string {
  return `PN${n.toString(16).padStart(32, '0')}`;
}

function hostilePlan(): ReversionPlan {
  const numbers: IncomingNumber[] = [1, 2].map((n) => ({
    accountSid: MAIN,
    sid: pn(n),
    phoneNumber: `+1555000000${n}`,
    friendlyName: `line ${n}`,
    voiceCapable: n === 1,
    state: voiceStateFrom({ voiceReceiveMode: 'fax', voiceUrl: FAX_URL, voiceMethod: 'POST', voiceFallbackUrl: FALLBACK_URL, voiceApplicationSid: '', trunkSid: null }),
  }));
  const plan = buildReversionPlan(numbers, { defaultDestination: defaultDestinationFrom({ voiceUrl: VOICE_URL }), byNumber: parseNumberMap('') }, {
    accounts: [{ sid: MAIN, friendlyName: 'main', status: 'active' }],
    subaccounts: false,
    keepVoiceUrl: false,
    createdAt: new Date('2021-12-01T12:00:00Z'),
    deadline: '2021-12-17',
  });
  // Data as Twilio (or whoever controls an account's numbers) could shape it: every text field hostile.
  const change = plan.changes[0]!;
  change.phoneNumber = HOSTILE[0]!;
  change.friendlyName = `${HOSTILE[2]} <script>alert(1)</script>`;
  change.accountSid = HOSTILE[1]!;
  change.warnings.push(HOSTILE[3]!, `see <img src=x onerror=alert(1)> and [click](javascript:alert(1)) | split`);
  const reported = plan.reported[0]!;
  reported.phoneNumber = HOSTILE[7]!;
  reported.accountSid = HOSTILE[5]!;
  reported.reason = HOSTILE[8]! as never;
  reported.detail = `${HOSTILE[4]}\n## injected heading\n<script>alert(2)</script>`;
  reported.friendlyName = HOSTILE[9]!;
  return plan;
}

/** An RFC 4180 reader written for the test (quoted fields, doubled quotes, LF or CRLF rows). */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') (cell += '"'), i++;
      else if (ch === '"') quoted = false;
      else cell += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') row.push(cell), (cell = '');
    else if (ch === '\n' || (ch === '\r' && text[i + 1] === '\n')) {
      if (ch === '\r') i++;
      row.push(cell), rows.push(row), (row = []), (cell = '');
    } else cell += ch;
  }
  if (cell !== '' || row.length > 0) rows.push([...row, cell]);
  return rows;
}

/** What a spreadsheet might run: the first character after spaces and invisibles is a formula start. */
function runsAsFormula(cell: string): boolean {
  const first = cell.replace(/^[\s\u200b-\u200f\ufeff]+/u, '')[0] ?? '';
  return cell.length > 0 && !cell.startsWith("'") && /[=+\-@\t\r\n\uff1d\uff0b\uff0d\uff20]/u.test(first) && !/^\+[1-9]\d{1,14}$/.test(cell) && !/^-?\d+(\.\d+)?$/.test(cell);
}

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

describe('the one spreadsheet-cell rule', () => {
  it('neutralises leading-space, invisible and full-width formula starts, keeps numbers', () => {
    for (const value of HOSTILE) expect(neutralizeSpreadsheetCell(value), JSON.stringify(value)).toBe(`'${value}`);
    for (const value of ['+14155551234', '-0.00700', '42', 'line 1', 'a=b', ' plain text']) expect(neutralizeSpreadsheetCell(value)).toBe(value);
  });
});

describe('plan.csv and plan.md are safe to review', () => {
  it('plan.csv: no cell of any column runs as a formula', () => {
    const rows = parseCsv(renderPlanCsv(hostilePlan()));
    expect(rows.length).toBe(3);
    const cells = rows.flat();
    expect(cells.filter(runsAsFormula)).toEqual([]);
    // The hostile values are there, as text: phone_number, account_sid and reason included.
    const [header, change, reported] = rows as [string[], string[], string[]];
    const col = (name: string) => header.indexOf(name);
    expect(change[col('phone_number')]).toBe(`'${HOSTILE[0]}`);
    expect(change[col('account_sid')]).toBe(`'${HOSTILE[1]}`);
    expect(reported[col('reason')]).toBe(`'${HOSTILE[8]}`);
    expect(reported[col('account_sid')]).toBe(`'${HOSTILE[5]}`);
    expect(change[col('number_sid')]).toBe(pn(1));
  });

  it('plan.md: no raw HTML, no injected link, heading or table cell', () => {
    const md = renderPlanMarkdown(hostilePlan());
    expect(md).not.toMatch(/<script|<img/i);
    expect(md).toContain('&lt;script&gt;alert(2)&lt;/script&gt;');
    expect(md).not.toMatch(/^## injected heading/m);
    expect(md).not.toMatch(/(?<!\\)\[click(?<!\\)\]/);
    // Data stays readable where nothing needs escaping: a phone number, a date, a sid.
    for (const plain of ['+14155551234', '2021-12-17', pn(1), 'no-voice-capability']) expect(markdownText(plain)).toBe(plain);
    for (const [text, shown] of [['- x', '\\- x'], ['---', '\\---'], ['1. x', '1\\. x'], ['a | b', 'a \\| b']]) expect(markdownText(text!)).toBe(shown);
    // Every table row still has exactly its columns: data pipes are escaped.
    for (const line of md.split('\n').filter((l) => l.startsWith('| '))) {
      const cells = line.split(/(?<!\\)\|/).length - 2;
      expect([2, 6, 5], line).toContain(cells);
    }
  });

  it('masks credentials of voice URLs in plan.md and plan.csv, keeps them in plan.json (0600)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fax-sunset-plan-safety-'));
    dirs.push(dir);
    const paths = await writePlanFiles(hostilePlan(), dir);
    const md = readFileSync(paths.markdown, 'utf8');
    const csv = readFileSync(paths.csv, 'utf8');
    for (const secret of SECRETS) {
      expect(md, secret).not.toContain(secret);
      expect(csv, secret).not.toContain(secret);
    }
    expect(csv).toContain('https://voice.example.com/answer?page=1&token=***&X-Sig=***');
    expect(csv).toContain('https://***:***@fallback.example.com/x');
    expect(csv).toContain('https://***:***@fax.example.com/in?auth_key=***');
    expect(md).toContain('voice.example.com/answer?page=1&amp;token=\\*\\*\\*');
    const json = readFileSync(paths.json, 'utf8');
    expect(json).toContain(VOICE_URL);
    expect(json).toContain(FALLBACK_URL);
    expect(json).toContain(FAX_URL);
    for (const path of [paths.json, paths.csv, paths.markdown]) expect(statSync(path).mode & 0o777).toBe(0o600);
  });
});
