/**
 * Canonical JSON: object keys sorted at every depth (by UTF-16 code unit, as Array#sort does),
 * object members whose value is undefined left out, array holes and undefined items written as
 * null. The same value always gives the same bytes, so a hash over them can be recomputed by an
 * auditor with any JSON library that sorts keys (issue 14 §6: one definition, where there were
 * three). Three things hash it and their old values must keep verifying: the event chain and the
 * deletion proofs in the catalog (compact), the reversion plan's `sha256` (compact), and the fax's
 * metadata sidecar (indented two spaces).
 */

/** The value with the keys of every object in it sorted (and undefined members dropped). */
function sortKeysDeep(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeysDeep);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value as Record<string, unknown>).sort()) {
      const child = (value as Record<string, unknown>)[key];
      if (child !== undefined) out[key] = sortKeysDeep(child);
    }
    return out;
  }
  return value;
}

/** Compact canonical JSON (no whitespace); `indent` spaces per level for a text people read too. */
export function canonicalJson(value: unknown, indent = 0): string {
  return JSON.stringify(sortKeysDeep(value), null, indent > 0 ? indent : undefined) ?? 'null';
}
