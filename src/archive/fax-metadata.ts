/**
 * Pure handling of a fax's metadata as it leaves Twilio: the pre-signed `media_url` is a bearer
 * credential for two hours, so its query string never reaches the catalog, the sidecar or a report.
 * The sidecar is canonical JSON (sorted keys) so the same metadata always has the same bytes: a rerun
 * then finds the stored sidecar identical and sends nothing.
 */
import { createHash } from 'node:crypto';
import { mediaEvidence } from '../catalog/media-evidence.js';
import { canonicalJson } from '../canonical-json.js';

export function stripUrlQuery(url: unknown): unknown {
  if (typeof url !== 'string') return url;
  const q = url.indexOf('?');
  return q === -1 ? url : url.slice(0, q);
}

/** Twilio's fax JSON with every pre-signed signature removed. */
export function sanitizeFaxJson(fax: Record<string, unknown>): Record<string, unknown> {
  return { ...fax, media_url: stripUrlQuery(fax.media_url) };
}

export interface SidecarBytes {
  bytes: Buffer;
  sha256Hex: string;
  md5Hex: string;
}

/** The `<FaxSid>.json` sidecar: the fax's full (sanitized) metadata, readable without this tool. */
export function sidecarFor(fax: Record<string, unknown>): SidecarBytes {
  const bytes = Buffer.from(canonicalJson(sanitizeFaxJson(fax), 2) + '\n', 'utf8');
  return {
    bytes,
    sha256Hex: createHash('sha256').update(bytes).digest('hex'),
    md5Hex: createHash('md5').update(bytes).digest('hex'),
  };
}

/**
 * Whether Twilio's record says this fax has media: any of media_sid, media_url, or pages on a
 * received/delivered fax (catalog/media-evidence.ts; never one field alone, issue 11 §2).
 */
export function hasMedia(fax: Record<string, unknown>): boolean {
  return mediaEvidence(fax).expected;
}
