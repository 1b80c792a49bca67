/**
 * Opaque page tokens. The Fax API's `PT...` token encodes a list POSITION (date_created + sid of
 * the fax at the page edge, and the direction), never an offset, so deletions between pages
 * neither skip nor repeat faxes. The 2010 API's `PA...` token encodes the last sid of the page.
 */
import type { ListPosition } from './fax-table.js';

export interface FaxPageToken extends ListPosition {
  direction: 'after' | 'before';
}

const SID = /^[A-Z]{2}[0-9a-f]{32}$/;

export function encodeFaxPageToken(token: FaxPageToken): string {
  const raw = `${token.direction === 'after' ? 'a' : 'b'}|${token.createdMs}|${token.sid}`;
  return 'PT' + Buffer.from(raw, 'utf8').toString('base64url');
}

/** The decoded token, or null when it is not one this emulator issued. */
export function decodeFaxPageToken(token: string): FaxPageToken | null {
  if (!token.startsWith('PT')) return null;
  const parts = Buffer.from(token.slice(2), 'base64url').toString('utf8').split('|');
  if (parts.length !== 3) return null;
  const [dir, created, sid] = parts as [string, string, string];
  const createdMs = Number(created);
  if ((dir !== 'a' && dir !== 'b') || !Number.isSafeInteger(createdMs) || !SID.test(sid)) return null;
  return { direction: dir === 'a' ? 'after' : 'before', createdMs, sid };
}

export function encodeSidPageToken(lastSid: string): string {
  return 'PA' + Buffer.from(lastSid, 'utf8').toString('base64url');
}

export function decodeSidPageToken(token: string): string | null {
  if (!token.startsWith('PA')) return null;
  const sid = Buffer.from(token.slice(2), 'base64url').toString('utf8');
  return SID.test(sid) ? sid : null;
}
