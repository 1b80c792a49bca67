/**
 * BagIt (RFC 8493) text files, as pure functions. The report folder is a bag whose payload is the
 * archive: every object of every archived fax under `data/<store key>`. With `--bag` on a
 * filesystem store the payload is really there (a complete, valid bag); otherwise `fetch.txt`
 * names each object's URL in the store (a "holey" bag, RFC 8493 §2.2.3) so a standard tool can
 * complete and validate it.
 *
 * Manifest lines use two spaces between hash and path so `sha256sum -c` reads them too.
 */

export const BAGIT_VERSION = '1.0';
export const PAYLOAD_DIR = 'data';

/** The tag files RFC 8493 defines, in the order the report writes them (tagmanifest last: it hashes the others). */
export const BAGIT_TXT = 'bagit.txt';
export const BAG_INFO_TXT = 'bag-info.txt';
export const MANIFEST_SHA256 = 'manifest-sha256.txt';
export const FETCH_TXT = 'fetch.txt';
export const TAGMANIFEST_SHA256 = 'tagmanifest-sha256.txt';

export function renderBagitTxt(): string {
  return `BagIt-Version: ${BAGIT_VERSION}\nTag-File-Character-Encoding: UTF-8\n`;
}

/**
 * RFC 8493 §2.1.3: a path in a manifest or fetch file percent-encodes CR, LF and '%' (and nothing
 * else). Store keys are built from validated sids, so this only guards against the unexpected.
 */
export function encodeBagPath(path: string): string {
  return path.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
}

/** The payload path of a store key: `data/<key>`. Refuses keys that could escape the bag. */
export function payloadPath(key: string): string {
  const parts = key.split('/');
  if (key.startsWith('/') || parts.some((p) => p === '' || p === '.' || p === '..')) {
    throw new Error(`store key cannot be a bag path: ${JSON.stringify(key)}`);
  }
  return `${PAYLOAD_DIR}/${key}`;
}

export function manifestLine(sha256Hex: string, path: string): string {
  return `${sha256Hex.toLowerCase()}  ${encodeBagPath(path)}\n`;
}

/** `url length path` (RFC 8493 §2.2.3). */
export function fetchLine(url: string, size: number, path: string): string {
  if (/\s/.test(url)) throw new Error(`fetch URL has whitespace: ${JSON.stringify(url)}`);
  return `${url} ${size} ${encodeBagPath(path)}\n`;
}

/** `octets.streamcount` (RFC 8493 §2.2.2). */
export function payloadOxum(bytes: number, count: number): string {
  return `${bytes}.${count}`;
}

export interface BagInfo {
  sourceOrganization: string | null;
  /** Account sids the payload comes from (one External-Identifier each). */
  accountSids: readonly string[];
  /** YYYY-MM-DD */
  baggingDate: string;
  payloadBytes: number;
  payloadCount: number;
  /** e.g. `s3://bucket/prefix`: where the payload lives. */
  storeUrl: string | null;
  softwareAgent: string;
  description?: string;
}

/**
 * bag-info.txt. Values are one line each (labels may repeat); newlines in a value from the command
 * line are folded to spaces so one flag value cannot forge another label.
 */
export function renderBagInfo(info: BagInfo): string {
  const lines: [string, string][] = [];
  if (info.sourceOrganization) lines.push(['Source-Organization', info.sourceOrganization]);
  for (const sid of info.accountSids) lines.push(['External-Identifier', sid]);
  lines.push(['Bagging-Date', info.baggingDate]);
  lines.push(['Payload-Oxum', payloadOxum(info.payloadBytes, info.payloadCount)]);
  lines.push(['Bag-Size', humanBytes(info.payloadBytes)]);
  if (info.storeUrl) lines.push(['External-Description', `Twilio Programmable Fax archive stored at ${info.storeUrl}`]);
  if (info.description) lines.push(['Internal-Sender-Description', info.description]);
  lines.push(['Bag-Software-Agent', info.softwareAgent]);
  return lines.map(([label, value]) => `${label}: ${oneLine(value)}\n`).join('');
}

function oneLine(value: string): string {
  return value.replace(/[\r\n]+/g, ' ').trim();
}

/** 1.5 MB style (decimal units, as bag-info's Bag-Size is for people). */
export function humanBytes(bytes: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB', 'PB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit += 1;
  }
  return unit === 0 ? `${bytes} B` : `${value.toFixed(value < 10 ? 2 : value < 100 ? 1 : 0)} ${units[unit]}`;
}

/** Joins a store's display URL (`s3://bucket/prefix`, `file:///dir`) and a key into the object's URL. */
export function objectUrl(storeUrl: string, key: string): string {
  const base = storeUrl.replace(/\/+$/, '');
  return `${base}/${key.split('/').map(encodeUrlSegment).join('/')}`;
}

function encodeUrlSegment(segment: string): string {
  // Keys are sids, dates and extensions; encode anything else so the URL stays one token.
  return segment.replace(/[^A-Za-z0-9._~!$&'()*+,;=:@-]/g, (c) => encodeURIComponent(c));
}
