/**
 * Where each reverted number's voice calls should go: a default destination (`--voice-url` with
 * `--voice-method`, or `--voice-application-sid`) and per-number overrides from `--map numbers.csv`.
 * Pure parsing and lookup; the command reads the file.
 */
import { UsageError } from '../errors.js';
import { isSid } from '../sid.js';

export type VoiceDestination =
  | { kind: 'url'; voiceUrl: string; voiceMethod: 'GET' | 'POST' }
  | { kind: 'application'; voiceApplicationSid: string };

export interface VoiceTargets {
  /** Used for every number the map does not name. */
  defaultDestination: VoiceDestination | null;
  /** Keyed by phone number (E.164) and by PN sid. */
  byNumber: ReadonlyMap<string, VoiceDestination>;
}

export function parseVoiceMethod(value: string | undefined, flag = '--voice-method'): 'GET' | 'POST' {
  const method = (value ?? 'POST').trim().toUpperCase();
  if (method !== 'GET' && method !== 'POST') throw new UsageError(`${flag} must be GET or POST, got ${JSON.stringify(value)}`);
  return method;
}

/** Validates a voice URL: absolute http(s), no credentials in it (they would land in the plan files). */
export function parseVoiceUrl(value: string, where = '--voice-url'): string {
  let url: URL;
  try {
    url = new URL(value.trim());
  } catch {
    throw new UsageError(`${where} must be an absolute http(s) URL, got ${JSON.stringify(value.slice(0, 80))}`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new UsageError(`${where} must be an http(s) URL, got ${url.protocol}`);
  if (url.username || url.password) throw new UsageError(`${where} must not carry credentials`);
  return value.trim();
}

export function parseApplicationSid(value: string, where = '--voice-application-sid'): string {
  const sid = value.trim();
  if (!isSid(sid, 'AP')) throw new UsageError(`${where} must be AP followed by 32 hex digits`);
  return sid;
}

/** The default destination from the flags; at most one of URL and application. */
export function defaultDestinationFrom(options: { voiceUrl?: string; voiceMethod?: string; voiceApplicationSid?: string }): VoiceDestination | null {
  if (options.voiceUrl && options.voiceApplicationSid) throw new UsageError('give --voice-url or --voice-application-sid, not both');
  if (options.voiceUrl) return { kind: 'url', voiceUrl: parseVoiceUrl(options.voiceUrl), voiceMethod: parseVoiceMethod(options.voiceMethod) };
  if (options.voiceApplicationSid) return { kind: 'application', voiceApplicationSid: parseApplicationSid(options.voiceApplicationSid) };
  if (options.voiceMethod) throw new UsageError('--voice-method needs --voice-url');
  return null;
}

/**
 * Parses the `--map` CSV: one number per row, `number,destination[,method]`, where number is a phone
 * number (+E.164) or a PN sid and destination an http(s) URL or an AP sid. A header row (first cell
 * not a number or sid) is skipped; blank lines and lines starting with # are ignored. Errors name the
 * line, never guess.
 */
export function parseNumberMap(csvText: string, fileName = 'the map file'): Map<string, VoiceDestination> {
  const map = new Map<string, VoiceDestination>();
  const rows = parseCsvRows(csvText);
  let firstRow = true;
  for (const { line, cells } of rows) {
    const key = (cells[0] ?? '').trim();
    if (cells.every((cell) => cell.trim() === '') || key.startsWith('#')) continue;
    const where = `${fileName} line ${line}`;
    const isHeader = firstRow && !isNumberKey(key);
    firstRow = false;
    if (isHeader) continue;
    if (!isNumberKey(key)) throw new UsageError(`${where}: first column must be a +E.164 phone number or a PN sid, got ${JSON.stringify(key.slice(0, 40))}`);
    const target = (cells[1] ?? '').trim();
    if (!target) throw new UsageError(`${where}: second column (voice URL or AP sid) is empty`);
    const destination: VoiceDestination = target.startsWith('AP')
      ? { kind: 'application', voiceApplicationSid: parseApplicationSid(target, where) }
      : { kind: 'url', voiceUrl: parseVoiceUrl(target, where), voiceMethod: parseVoiceMethod(cells[2]?.trim() || undefined, `${where} method`) };
    if (map.has(key)) throw new UsageError(`${where}: ${key} appears twice`);
    map.set(key, destination);
  }
  return map;
}

/** The destination for one number: its sid's row, then its phone number's row, then the default. */
export function destinationFor(targets: VoiceTargets, number: { sid: string; phoneNumber: string }): VoiceDestination | null {
  return targets.byNumber.get(number.sid) ?? targets.byNumber.get(number.phoneNumber) ?? targets.defaultDestination;
}

function isNumberKey(value: string): boolean {
  return /^\+[1-9][0-9]{6,15}$/.test(value) || isSid(value, 'PN');
}

/** Minimal RFC 4180 reader (quoted cells, doubled quotes, CRLF); the map files are small. */
function parseCsvRows(text: string): { line: number; cells: string[] }[] {
  const rows: { line: number; cells: string[] }[] = [];
  let cells: string[] = [];
  let cell = '';
  let quoted = false;
  let line = 1;
  let rowLine = 1;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else {
        if (ch === '\n') line++;
        cell += ch;
      }
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      cells.push(cell);
      cell = '';
    } else if (ch === '\n' || ch === '\r') {
      if (ch === '\r' && text[i + 1] === '\n') i++;
      cells.push(cell);
      rows.push({ line: rowLine, cells });
      cells = [];
      cell = '';
      line++;
      rowLine = line;
    } else cell += ch;
  }
  if (cell !== '' || cells.length > 0) {
    cells.push(cell);
    rows.push({ line: rowLine, cells });
  }
  return rows;
}
