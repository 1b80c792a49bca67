/**
 * Twilio sids: two letters and 32 hex digits. Every sid is validated before it goes into a URL,
 * a file name or an object key, because those are built by string concatenation.
 */
export type SidPrefix = 'FX' | 'ME' | 'AC' | 'PN' | 'SK' | 'AP' | 'RQ' | 'TK';

const SID_PATTERN = /^([A-Z]{2})[0-9a-fA-F]{32}$/;

export function isSid(value: unknown, prefix?: SidPrefix): value is string {
  if (typeof value !== 'string') return false;
  const match = SID_PATTERN.exec(value);
  if (!match) return false;
  return prefix === undefined || match[1] === prefix;
}

/** Throws a plain Error naming the field (not the value's context) when the sid is malformed. */
export function assertSid(value: unknown, prefix: SidPrefix, what = 'sid'): string {
  if (!isSid(value, prefix)) {
    const shown = typeof value === 'string' ? JSON.stringify(value.slice(0, 40)) : String(value);
    throw new Error(`invalid ${what}: expected ${prefix} followed by 32 hex digits, got ${shown}`);
  }
  return value;
}
